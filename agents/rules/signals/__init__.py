"""Deterministic reading of customer text: which signals it carries, and the words that showed each.

Written for how customers write to support desks, consumer and business alike (tweets, chats, emails), from
the tags' definitions rather than from any data set's phrasing. Each signal is words of a few classes
(`agents.lexicons`) meeting in one sentence, or a few words apart, in the customer's own context:

- a dispute: a money word (charge, bill, fee, price, paid, $...) with a word of dispute (wrong, twice, extra,
  why, never...), or money sought back (refund, reimburse, compensation, "my money back") that was not simply
  granted nor asked about routinely ("how long does a refund take");
- an outage: a service (internet, app, site, signal, network...) with a state of failure (down, error, not
  loading, can't connect...), unless a device is what fails (a bug, not an outage); a lockout (account, card
  or payment with locked, declined, suspended...); a disrupted trip (flight, train, ride with delayed,
  cancelled, stuck...); failed deliveries and lost data are their own signals;
- leaving: a verb of ending with what the customer holds ("close my account"), "never ... again", "won't
  renew", "lost me as a customer", "done with you", switching to someone else, legal threats;
- persistence (repeats counted in numbers, "still", "again"), no answer, and the mood: words against the
  company, distress, expletives, capitals and "!!" in a negative message, VADER's sentiment.

The text is read once (`agents.language`): words looked up in one dict of word classes, negation within a
clause ("not looking for a refund", "never had a problem") cancels what it governs.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

from ticket_enricher.agents.rules.language import read_text
from ticket_enricher.agents.rules.signals.failures import (
    data_loss,
    delivery_failure,
    lockout,
    outage,
    security,
)
from ticket_enricher.agents.rules.signals.goodbyes import says_goodbye
from ticket_enricher.agents.rules.signals.leaving import escalation_cancel
from ticket_enricher.agents.rules.signals.leaving_chat import says_chat_leaving
from ticket_enricher.agents.rules.signals.leaving_steps import comes_to_us, says_leaving_phrase, someone_elses_leave
from ticket_enricher.agents.rules.signals.legal import escalation_legal
from ticket_enricher.agents.rules.signals.money import billing_error
from ticket_enricher.agents.rules.signals.not_now import not_now
from ticket_enricher.agents.rules.signals.pressure import _mood, _resolved_at, repeat_contact, satisfied, unresolved
from ticket_enricher.agents.rules.signals.reading import (
    ACCOUNT,
    CANNOT,
    DATA,
    DOWN,
    GOODS,
    LAW,
    MONEY,
    NOBODY,
    RESOLVED,
    SEEK,
    SERVICE,
    T_CANCEL,
    T_ENTRY,
    T_LOCK,
    T_OTHER,
    T_OUTAGE,
    T_REPEAT,
    T_SECURITY,
    T_SWITCH,
    T_UNRESOLVED,
    T_WAKE,
    THANKS,
    TRIP,
    WORKS,
    Detector,
    Reading,
)
from ticket_enricher.agents.rules.signals.refunds import escalation_refund
from ticket_enricher.agents.rules.signals.switching import escalation_switch
from ticket_enricher.agents.rules.signals.trips import trip_disrupted
from ticket_enricher.agents.rules.signals.whose import over, spared

Signal = Literal[
    "outage", "lockout", "trip_disrupted", "delivery_failure", "data_loss", "billing_error", "security",
    "escalation_cancel", "escalation_refund", "escalation_switch", "escalation_legal", "repeat_contact",
    "unresolved", "hostility", "anger", "frustration", "satisfied",
]

FAILURE: frozenset[str] = frozenset(
    {"outage", "lockout", "trip_disrupted", "delivery_failure", "data_loss", "billing_error", "security"})
ONE_OFF: frozenset[str] = frozenset({"outage", "lockout"})  # serious only when unresolved (see agents.rules)
LEAVE: frozenset[str] = frozenset({"escalation_cancel", "escalation_switch"})
ESCALATION: frozenset[str] = frozenset(
    {"escalation_cancel", "escalation_refund", "escalation_switch", "escalation_legal", "repeat_contact"})
PRESSURE: frozenset[str] = frozenset({"repeat_contact", "unresolved", "hostility", "anger", "frustration"})
NEGATIVE: frozenset[str] = FAILURE | ESCALATION | PRESSURE

DETECTORS: dict[Signal, Detector] = {
    "escalation_cancel": escalation_cancel, "escalation_switch": escalation_switch,
    "escalation_legal": escalation_legal, "escalation_refund": escalation_refund, "billing_error": billing_error,
    "security": security, "lockout": lockout, "outage": outage, "trip_disrupted": trip_disrupted,
    "delivery_failure": delivery_failure, "data_loss": data_loss, "repeat_contact": repeat_contact,
    "unresolved": unresolved, "satisfied": satisfied,
}


def detect(raw: str) -> dict[Signal, str]:
    """Each signal found in `raw`, with a short quote that showed it."""
    return dict(_detect(raw)[0])


def classed_words(raw: str) -> frozenset[str]:
    """The words of `raw` that belong to a word class of the lexicons (never any other word): what a tag's
    confidence model reads besides the classes (`agents.rules.confidence.features`)."""
    return _detect(raw)[2]


def word_classes(raw: str) -> int:
    """The word classes `raw` holds (bits of `agents.rules.signals.reading`), read once with its signals: what a
    judgment's confidence asks when no signal fired ("a money word, but no dispute")."""
    return _detect(raw)[1]


def cue_classes(names: Iterable[str]) -> int:
    """The classes without which these signals' detectors find nothing: their words in a text that showed none
    of them are a cue the rules could not read."""
    wanted = set(names)
    return functools.reduce(operator.or_, (need for signal, need, _ in _NEEDS if signal in wanted), 0)


# each detector with the classes without which it finds nothing (it is not called when the text has none), and
# whether hashtags alone can show it
_NEEDS: tuple[tuple[Signal, int, bool], ...] = (
    ("escalation_cancel", T_CANCEL, True), ("escalation_switch", T_SWITCH, True),
    ("escalation_legal", LAW, False), ("escalation_refund", SEEK | MONEY, False),
    ("billing_error", MONEY | T_ENTRY, False), ("security", T_SECURITY, False),
    ("lockout", ACCOUNT | CANNOT | NOBODY | T_LOCK, False),
    ("outage", DOWN | WORKS | CANNOT | SERVICE | T_OUTAGE, False), ("trip_disrupted", TRIP | T_OTHER, True),
    ("delivery_failure", GOODS, False), ("data_loss", DATA, False), ("repeat_contact", T_REPEAT, False),
    ("unresolved", T_UNRESOLVED, False), ("satisfied", THANKS | RESOLVED, False),
)
# classes that also wake a detector without being a cue it could not read: a first person may tell a trip's delay
# by the clock alone ("our 9am is now a 2pm"), or a wait at a gate it names by its code ("sitting at B22")
_WAKES: dict[Signal, int] = {"trip_disrupted": T_WAKE}
_TIME_OF_DAY = re.compile(r"\d(?:\s?[ap]m\b|:\d\d)")  # "7pm", "11:45", "8:05 am": wakes the trip detector
# a span of time or a flight called off in slang also wake it: an airline told "100 min in our seats" (`airline_wait`)
_SPAN = re.compile(r"\d\+?\s?(?:h|hrs?|hours?|mins?|minutes)\b|\b(?:an|one|two|three|four|five|six|seven|eight|nine|"
                   r"ten) (?:hours?|hrs)\b|\b(?:scrapped|canned|scrubbed)\b")
_PLAN: tuple[tuple[Signal, Detector, int, bool], ...] = tuple(
    (signal, DETECTORS[signal], need | _WAKES.get(signal, 0), tags) for signal, need, tags in _NEEDS)
assert {p[0] for p in _PLAN} == set(DETECTORS)
_UNSATISFIED = NEGATIVE - {"repeat_contact"}
# troubles the text itself takes back, whichever detector found them (`whose`): the writer was spared or not
# stopped ("all fine here", "not complaining"), or the trouble was put right and told as done ("unlocked it in
# seconds", "the dispute got settled")
_SPARABLE: frozenset[Signal] = frozenset({"outage", "lockout", "trip_disrupted"})
_MENDABLE: frozenset[Signal] = frozenset({"outage", "lockout", "billing_error", "escalation_refund"})


@lru_cache(maxsize=4096)
def _detect(raw: str) -> tuple[dict[Signal, str], int, frozenset[str]]:
    """Cached: the rules model reads each event's text twice (its note, then its tag plan)."""
    text = read_text(raw)
    r = Reading(text)
    mask, tags = r.mask, bool(r.hashtags)
    lower = text.lower
    wake = mask | T_WAKE if _TIME_OF_DAY.search(lower) or _SPAN.search(lower) else mask  # a trip's slip or wait
    if not mask & T_CANCEL and (says_leaving_phrase(lower) or says_goodbye(lower) or says_chat_leaving(lower)):
        wake |= T_CANCEL  # "No more @x for us", "come get your modem": leaving told in common words
    found: dict[Signal, str] = {}
    for signal, detector, need, by_tags in _PLAN:
        if wake & need or by_tags and tags:
            i = detector(r)
            if i >= 0 and not (signal in _SPARABLE and not_now(r, i, signal == "trip_disrupted") or
                               signal in LEAVE and (comes_to_us(r, i) or someone_elses_leave(r, i))):
                found[signal] = text.quote(i)
    for vetoed, veto in ((_SPARABLE, spared), (_MENDABLE, over)):
        if not found.keys().isdisjoint(vetoed) and veto(r):
            for signal in vetoed:
                found.pop(signal, None)
    found |= _mood(r)
    if "satisfied" in found:
        resolved = bool(mask & RESOLVED) and any(m & RESOLVED and _resolved_at(r, i) and not r.negated(i)
                                                 for i, m, _ in r.hits)
        if text.compound < (0.2 if resolved else 0.4) or not found.keys().isdisjoint(_UNSATISFIED):
            del found["satisfied"]
    return found, mask, frozenset(r.words[i] for i, _, _ in r.hits)
