"""How the rules judge a tag from an account's notes: churn risk by a score of failures, mood, persistence and
leave statements; the other tags by counting notes that carry their signals within a window. Pure functions of
the notes as of an event, so a replay judges the same way; `agents.rules.model` applies them per event.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import get_args

from ticket_enricher.agents.rules import signals
from ticket_enricher.config.settings import TagSettings

_BIT = {name: 1 << i for i, name in enumerate(get_args(signals.Signal))}


def signal_mask(names: Iterable[str]) -> int:
    mask = 0
    for name in names:
        mask |= _BIT.get(name, 0)
    return mask


@dataclass(frozen=True)
class Note:
    memory_id: str
    event_id: str
    ticket_id: str
    event_type: str
    occurred_at: datetime
    priority: str
    signals: frozenset[str]
    quotes: tuple[tuple[str, str], ...]
    mask: int = field(init=False, repr=False, compare=False)  # the signals as bits, for the quick checks

    def __post_init__(self) -> None:
        object.__setattr__(self, "mask", signal_mask(self.signals))

    @property
    def complaint(self) -> bool:
        urgent = self.priority in {"high", "urgent"} and self.event_type != "ticket.closed"
        return bool(self.signals & signals.NEGATIVE) or urgent

    @property
    def satisfied_close(self) -> bool:
        return self.event_type == "ticket.closed" and "satisfied" in self.signals and not self.complaint


@dataclass(frozen=True)
class TagDecision:
    """A judgment on one tag: it applies (set it), clear it, or leave it; with the reason and evidence ids."""

    applies: bool
    clear: bool
    reason: str
    evidence: list[str]
    basis: str = ""  # what it rests on, for its confidence (`agents.rules.confidence`): "leave", "score"...


RECENT_DAYS = 30
_LEAVING = signals.LEAVE | {"escalation_legal"}
RISK_SCORE = 3
_MOOD = {"hostility": 3, "anger": 2, "frustration": 1}
_MOODS = frozenset(_MOOD)
_PERSISTENT = frozenset({"unresolved", "repeat_contact"})
_EMPTY: frozenset[str] = frozenset()
_LEAVING_MASK = signal_mask(_LEAVING)
_FAILURE_MASK = signal_mask(signals.FAILURE)
_SERIOUS_MASK = signal_mask(signals.FAILURE - signals.ONE_OFF)
_PERSISTENT_MASK = signal_mask(_PERSISTENT)
_MOOD_MASK = signal_mask(_MOODS)
_HEATED_MASK = signal_mask({"hostility", "anger"})  # anger twice counts as hostility


def _when(note: Note) -> tuple[datetime, str]:
    return note.occurred_at, note.event_id


def note_time(note: Note) -> datetime:
    return note.occurred_at


class Window(list[Note]):
    """Notes already in (time, event id) order and none later than the judgment's `now`, as the account state
    hands them over (`agents.state`): a judgment then neither sorts nor filters them again."""


def _since(notes: list[Note], start: datetime, now: datetime) -> list[Note]:
    """The notes from `start` to `now` in time order."""
    if isinstance(notes, Window):
        return notes[bisect.bisect_left(notes, start, key=note_time):]
    return sorted((n for n in notes if start <= n.occurred_at <= now), key=_when)


def _risk(window: list[Note]) -> tuple[int, list[str], list[Note]]:
    """The churn score of an account's notes when none states leaving, and the parts that scored with the
    notes that carry them:

    - a failure of service (1); one that is one-off by nature (an outage, a lockout) only when repeated or
      unanswered, as the label definition says ("repeated outages");
    - the strongest mood (frustration 1, anger 2, hostility 3; anger in two messages counts as hostility);
    - persistence (1): no resolution, or repeats of a serious failure (lost goods, wrong billing, a disrupted
      trip; an app that "still" fails is a one-off issue until nobody answers);
    - money demanded back after a failure other than the charge itself, or chased without answer (1).
    """
    failures = [n for n in window if n.signals & signals.FAILURE]
    kinds = _EMPTY.union(*(n.signals for n in failures)) & signals.FAILURE
    parts: list[tuple[str, int, list[Note]]] = []
    persistent = any(n.signals & _PERSISTENT for n in window)
    if failures and (kinds - signals.ONE_OFF or persistent):
        parts.append(("failure", 1, failures))
    moody = [n for n in window if n.signals & _MOODS]
    if moody:
        levels = [max(_MOOD[s] for s in n.signals & _MOODS) for n in moody]
        level = 3 if sum(1 for x in levels if x >= 2) >= 2 else max(levels)
        parts.append((next(k for k, v in _MOOD.items() if v == level), level, moody))
    unanswered = [n for n in window if "unresolved" in n.signals]
    repeats = [n for n in window if "repeat_contact" in n.signals]
    if unanswered or repeats and (kinds - signals.ONE_OFF or not kinds):
        parts.append(("persistence", 1, unanswered + repeats))
    refunds = [n for n in window if "escalation_refund" in n.signals]
    if refunds and (kinds - {"billing_error"} or unanswered or repeats):
        parts.append(("escalation_refund", 1, refunds))
    notes = list({n.event_id: n for _, _, ns in parts for n in ns}.values())
    return sum(points for _, points, _ in parts), [name for name, _, _ in parts], notes


def _quotes(notes: list[Note], wanted: frozenset[str] | set[str], limit: int = 3) -> str:
    """The newest quote of each wanted signal, as `signal "words"`; for a reason a person can check."""
    out: dict[str, str] = {}
    for note in sorted(notes, key=note_time, reverse=True):
        for name, quote in note.quotes:
            if name in wanted and name not in out:
                out[name] = quote
    return "; ".join(f'{name} "{quote}"' for name, quote in list(out.items())[:limit])


def churn_out_of_reach(window: Window, start: datetime) -> bool:
    """True when no note since `start` states leaving and the signals there cannot add up to `RISK_SCORE`
    even at their worst."""
    seen = 0
    for note in window[bisect.bisect_left(window, start, key=note_time):]:
        seen |= note.mask
    return below_risk(seen)


def below_risk(seen: int) -> bool:
    """An upper bound on `_risk`'s score from the union of the signals, and no leave statement among them."""
    if seen & _LEAVING_MASK:
        return False
    if not seen & _MOOD_MASK:
        return True  # a score counts only with a mood
    bound = (1 if seen & _FAILURE_MASK and seen & (_SERIOUS_MASK | _PERSISTENT_MASK) else 0)
    bound += 3 if seen & _HEATED_MASK else 1 if seen & _BIT["frustration"] else 0
    bound += (1 if seen & _PERSISTENT_MASK else 0) + (1 if seen & _BIT["escalation_refund"] else 0)
    return bound < RISK_SCORE


def assess_churn(notes: list[Note], now: datetime, window_days: int, tagged: bool) -> TagDecision:
    """Judge churn risk from the notes up to `now` (later ones are ignored, so a replay judges the same way).

    At risk, with something in the last 30 days: one explicit statement of leaving (cancel, close the account,
    never again, switching to a competitor) or a legal threat is enough; otherwise a score of 3 from a failure
    of service, anger or frustration, repeats and no resolution (e.g. a lost parcel and anger; an outage, a
    third call and no answer). Resolved, and cleared if set: after a leave statement, two satisfied closes with
    none in the last 30 days; otherwise the newest note thanks or says it is fixed.
    """
    window = _since(notes, now - timedelta(days=window_days), now)
    recent_from = now - timedelta(days=RECENT_DAYS)
    leave = [n for n in window if n.signals & _LEAVING]
    if leave and leave[-1].occurred_at >= recent_from:
        quote = _quotes(leave, _LEAVING)
        return TagDecision(True, False, f"said they would leave: {quote}"[:300], [n.memory_id for n in leave][-10:],
                           "leave")
    closes = [n for n in window[-2:] if "satisfied" in n.signals]
    thanked = bool(window) and "satisfied" in window[-1].signals
    resolved = len(closes) == 2 if leave else thanked
    score, parts, scored = _risk(window)
    if score >= RISK_SCORE and scored[-1].occurred_at >= recent_from and not thanked and \
            not _MOODS.isdisjoint(parts):  # "together with strong frustration": no mood, no risk
        wanted = set(parts) | signals.FAILURE | {"repeat_contact", "unresolved"}
        reason = f"score {score} ({', '.join(parts)}): {_quotes(scored, wanted)}"
        return TagDecision(True, False, reason[:300], [n.memory_id for n in scored][-10:], "score")
    if tagged and resolved:
        done = closes if leave else window[-1:]
        return TagDecision(False, True, f"resolved: {', '.join(n.ticket_id for n in done)} satisfied, no leave "
                                        f"statement in {RECENT_DAYS}d", [n.memory_id for n in done])
    return TagDecision(False, False, f"churn score {score} in {window_days}d: below the bar", [])


def assess_signals(notes: list[Note], now: datetime, rule: TagSettings, tagged: bool) -> TagDecision:
    """A `signals` tag: set when `min_events` notes within `within_days` carry one of its signals, cleared
    when none has for that long."""
    wanted = frozenset(rule.signals)
    start = now - timedelta(days=rule.within_days)
    hits = [n for n in _since(notes, start, now) if n.signals & wanted]
    if len(hits) >= rule.min_events:
        kinds = sorted(_EMPTY.union(*(n.signals for n in hits)) & wanted)
        quote = next((q for n in reversed(hits) for s, q in n.quotes if s in wanted), None)
        reason = f"{len(hits)} event(s) with {', '.join(kinds)} in {rule.within_days}d"
        if quote:
            reason += f': "{quote}"'
        return TagDecision(True, False, reason, [n.memory_id for n in hits[-10:]])
    if tagged:
        return TagDecision(False, True, f"no {', '.join(sorted(wanted))} in {rule.within_days}d", [])
    return TagDecision(False, False, "", [])
