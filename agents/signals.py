"""Deterministic reading of customer text: which signals it carries, and the words that showed each.

Written for how customers write to support desks, consumer and business alike (tweets, chats, emails): leave
intent in everyday words, competitors, failures of service (outages, lockouts, disrupted trips, lost parcels,
wrong charges), repeats counted in numbers, no resolution, and anger, including anger that no listed word
carries (VADER's sentiment, capitals, profanity). Text is normalised first (`agents.language`), so curly
apostrophes and HTML entities match like plain ones; patterns allow inflections; a phrase under negation
("not looking for a refund", "never had a problem") does not count. Patterns stay plain so that an operator can
read why a tag was set.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from agents import lexicons
from agents.language import Text, read_text

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

def _first(text: Text, pattern: re.Pattern[str], negatable: bool,
           unless: re.Pattern[str] | None = None) -> str | None:
    """The quote of the first match that is neither negated nor excused by what comes just before it."""
    for match in pattern.finditer(text.lower):
        if negatable and text.negated(match.start()):
            continue
        if unless is not None and unless.search(text.lower[max(0, match.start() - 50):match.start()]):
            continue
        return text.quote(match.start(), match.end())
    return None


def _mood(text: Text) -> dict[Signal, str]:
    """Hostility (several condemnations, or one with very negative sentiment), anger (a condemnation, distress,
    shouting, "!!" in a negative message, very negative sentiment), or frustration (expletives, mild words,
    angry emoji, negative sentiment)."""
    condemned = list(dict.fromkeys(m.group(0) for m in lexicons.CONDEMN.finditer(text.lower)
                                   if not text.negated(m.start())))
    if len(condemned) >= 2 or condemned and text.maybe_negative and text.compound <= -0.75:
        return {"hostility": ", ".join(condemned[:3])}
    negative = text.maybe_negative and (text.shouting or "!!" in text.original) and text.compound <= -0.3
    shouting, exclaiming = negative and text.shouting, negative and "!!" in text.original
    distress = _first(text, lexicons.DISTRESS, True)
    if condemned or distress or shouting or exclaiming:
        return {"anger": (condemned[0] if condemned else distress or " ".join(text.shouted[:3])
                          or ", ".join(text.negative_words) or text.original[:60])}
    mild = _first(text, lexicons.MILD, True)
    # VADER alone, however negative ("broken", "failed"), says frustration, never more
    if mild or text.maybe_negative and (text.compound <= -0.4 or "!!" in text.original and text.compound <= 0):
        return {"frustration": mild or ", ".join(text.negative_words) or text.original[:60]}
    return {}


def detect(raw: str) -> dict[Signal, str]:
    """Each signal found in `raw`, with a short quote that showed it."""
    return dict(_detect(raw))


@lru_cache(maxsize=4096)
def _detect(raw: str) -> dict[Signal, str]:
    """Cached: the rules model reads each event's text twice (its note, then its tag plan)."""
    text = read_text(raw)
    found: dict[Signal, str] = {}
    for signal, patterns in lexicons.PATTERNS.items():
        for pattern, negatable, *unless in patterns:
            quote = _first(text, pattern, negatable, unless[0] if unless else lexicons.UNLESS.get(signal))
            if quote is not None:
                found[signal] = quote  # type: ignore[index]
                break
    found |= _mood(text)
    resolved = lexicons.RESOLVED.search(text.lower) is not None
    if "satisfied" in found and (text.compound < (0.2 if resolved else 0.4)
                                 or found.keys() & (NEGATIVE - {"repeat_contact"})):
        del found["satisfied"]
    return found
