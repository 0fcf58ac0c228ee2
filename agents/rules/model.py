"""The offline rules model: deterministic, no network. It reads each ticket's text for signals
(`agents.rules.signals`), drafts one note per event, and judges every tag of the vocabulary from the account's
notes as of the event (`agents.rules.judgment`). The ticket text is only ever matched against patterns, so
nothing it says can steer what is written. The rules planner (`agents.planners.rules`) applies its decisions.
"""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from functools import cached_property
from typing import get_args

from ticket_enricher.agents.notes import NoteDraft
from ticket_enricher.agents.planners import TagJudgment, judgment
from ticket_enricher.agents.rules import signals
from ticket_enricher.agents.rules.confidence import Action, Calibration, event_features, grade, load_calibration
from ticket_enricher.agents.rules.judgment import (
    Note,
    TagDecision,
    Window,
    assess_churn,
    assess_signals,
    below_risk,
    churn_out_of_reach,
    note_time,
    signal_mask,
)
from ticket_enricher.config.settings import TagSettings
from ticket_enricher.core.events import TicketEvent

_CATEGORY_OF = {
    "outage": "outage", "data_loss": "data", "billing_error": "billing", "security": "security",
    "escalation_refund": "billing",
}


# a tag's logistic model judges only kinds of evidence it was fitted on this often (a flight cancelled is no kind
# of evidence a bank's chat ever showed); others take their grade's record, pooled when never seen
MIN_SEEN = 30
_MEMO = 4096  # entries per memo of `RulesModel.confidences`, the oldest dropped first
RULES_VERSION = 11  # raise when the rules below judge differently: a replay then re-evaluates every event


class RulesModel:
    """The deterministic judge used when no LLM is configured (through `agents.planners.rules`)."""

    name = "rules"

    def __init__(self, tags: dict[str, TagSettings], *, window_days: int = 90, search_top_k: int = 50,
                 calibration: Calibration | None = None) -> None:
        known = set(get_args(signals.Signal))
        for name, rule in tags.items():
            unknown = set(rule.signals) - known
            if unknown:
                raise ValueError(f"tag {name}: unknown signals {', '.join(sorted(unknown))}; known: "
                                 f"{', '.join(sorted(known))}")
        self.tags = tags
        self.window_days = window_days
        self.search_top_k = search_top_k
        self.calibration = calibration or load_calibration()
        self._probs: dict[tuple[str, frozenset[str]], dict[tuple[str, str], float]] = {}  # `confidences`' memos
        self._graded: dict[tuple[str, str, str, frozenset[str], bool], tuple[str, float | None, bool]] = {}

    def read(self, text: str) -> dict[str, str]:
        """The signals in one ticket's text, each with the phrase that showed it."""
        return dict(signals.detect(text).items())

    def keeps(self, name: str, rule: TagSettings, notes: list[Note], now: datetime, tagged: bool) -> bool:
        """True when `judge` would leave this tag as it is (set stays set, unset stays unset), found without
        judging: most events of a backfill change no tag. False means only "judge it". Needs a `Window`."""
        if not isinstance(notes, Window) or not notes:
            return False
        if rule.rule == "churn":
            if tagged:  # only a resolution clears it, and a resolution ends with a satisfied note
                return "satisfied" not in notes[-1].signals
            return churn_out_of_reach(notes, now - timedelta(days=self.window_days))
        start, wanted, enough = now - timedelta(days=rule.within_days), self._masks[name], rule.min_events
        hits = 0
        for note in reversed(notes[bisect.bisect_left(notes, start, key=note_time):]):
            if note.mask & wanted:
                hits += 1
                if hits >= enough:
                    return tagged  # enough to set it: a set tag stays, an unset one must be judged
        return not tagged  # too few: an unset tag stays unset, a set one must be judged

    def to_judge(self, notes: list[Note], now: datetime, tagged: set[str]) -> list[str]:
        """The tags `keeps` would not vouch for, in vocabulary order, from one pass over the notes: the union
        of their signals over each distinct span answers every tag that needs one event."""
        if not isinstance(notes, Window) or not notes:
            return list(self.tags)
        unions, seen, hi = {}, 0, len(notes)
        for days, span in self._spans:  # shortest first: each span adds the notes between its start and the last's
            lo = bisect.bisect_left(notes, now - span, hi=hi, key=note_time)
            if lo < hi:
                for note in notes[lo:hi]:  # a plain loop: cheaper in CPython than reduce over a list of masks
                    seen |= note.mask
                hi = lo
            unions[days] = seen
        out = []
        for name, rule in self.tags.items():
            was = name in tagged
            if rule.rule == "churn":
                kept = "satisfied" not in notes[-1].signals if was else below_risk(unions[self.window_days])
            elif rule.min_events == 1:
                kept = bool(unions[rule.within_days] & self._masks[name]) == was
            else:
                kept = self.keeps(name, rule, notes, now, was)
            if not kept:
                out.append(name)
        return out

    @cached_property
    def _spans(self) -> list[tuple[int, timedelta]]:
        """Each distinct span a tag reads back, in days and as a timedelta (built once, not per event)."""
        return [(days, timedelta(days=days)) for days in sorted({self.window_days,
                                                                   *(r.within_days for r in self.tags.values())})]

    @cached_property
    def _masks(self) -> dict[str, int]:
        return {name: signal_mask(rule.signals) for name, rule in self.tags.items()}

    def judge(self, name: str, rule: TagSettings, notes: list[Note], now: datetime, tagged: bool) -> TagDecision:
        """One tag's decision from the account's notes as of `now`."""
        if rule.rule == "churn":
            return assess_churn(notes, now, self.window_days, tagged)
        return assess_signals(notes, now, rule, tagged)

    @cached_property
    def _cues(self) -> dict[str, tuple[frozenset[str], int]]:
        """Per tag: the signals that set it, and the word classes its detectors start from."""
        out = {}
        for name, rule in self.tags.items():
            wanted = frozenset(rule.signals) if rule.rule == "signals" else signals.LEAVE | {"escalation_legal"}
            out[name] = (wanted, signals.cue_classes(wanted))
        return out

    def confidences(self, decided: dict[str, tuple[Action, TagDecision | None]], note: frozenset[str],
                    text: str) -> dict[str, TagJudgment]:
        """Per tag, the grade of its decision on an event (its note carries the signals `note`, its text is
        `text`: `text_of`), how sure the rules are of it, and whether labelled data of the tag was seen
        (`agents.rules.confidence`): a set or a leave by the tag's logistic model when it has one, else (and a
        keep or a clear) by its grade's record. Memoised, since a backfill asks the same few questions for every
        event: the grade and the table's answer per tag, decision and note; the logistic one per text and note."""
        classes, cues = signals.word_classes(text), self._cues
        probs = self._probs.get((text, note))
        if probs is None:
            probs = self._probs[(text, note)] = {}
            if len(self._probs) > _MEMO:
                del self._probs[next(iter(self._probs))]
        out = {}
        for name, (action, decision) in decided.items():
            wanted, cue_bits = cues[name]
            key = (name, action, decision.basis if decision is not None else "", note,
                   bool(classes & cue_bits) and not note & wanted)
            graded = self._graded.get(key)
            if graded is None:
                graded = self._graded[key] = self._grade(*key, decision)
                if len(self._graded) > _MEMO:
                    del self._graded[next(iter(self._graded))]
            g, confidence, fitted = graded
            if confidence is None:  # the tag's logistic model judges this grade
                confidence = probs.get((name, action))
                if confidence is None:
                    confidence = probs[(name, action)] = self._probability(name, action, text, note)
            out[name] = judgment(action, confidence, g, fitted)
        return out

    def _grade(self, name: str, action: Action, basis: str, note: frozenset[str], cue: bool,
               decision: TagDecision | None) -> tuple[str, float | None, bool]:
        """A decision's grade, its confidence from the table (None: the tag's logistic model gives it, per text),
        and whether the tag was fitted; `basis` is the decision's, part of the memo's key."""
        calibration = self.calibration
        g = grade(self.tags[name].rule, action, decision, self._cues[name][0], note, cue)
        fitted = calibration.fitted(name)
        if action in ("set", "leave") and name in calibration.weights and calibration.seen(name, g) >= MIN_SEEN:
            return g, None, fitted
        return g, round(calibration.confidence(name, g), 4), fitted

    def _probability(self, name: str, action: Action, text: str, note: frozenset[str]) -> float:
        """How sure the tag's logistic model is of a set or a leave, from the event's own features."""
        p = self.calibration.sigmoid(name, self.calibration.score(name, event_features(text, note)), action == "set")
        return round(p if action == "set" else 1 - p, 4)

    def note_for(self, event: TicketEvent) -> NoteDraft:
        """The note of one event: a line of what happened, the signals its text carries and their quotes."""
        t = event.ticket
        found = self.read(text_of(event))
        names = sorted(found)
        first_line = " ".join(t.body.split())[:160].rstrip(" .")
        text = (
            f"[{event.occurred_at:%Y-%m-%d}] {event.type} {t.id} ({t.priority}, {t.channel}): {t.subject}"
            f" - {first_line}. Signals: {', '.join(names) or 'none'}."
        )
        categories = sorted({_CATEGORY_OF[s] for s in names if s in _CATEGORY_OF})
        if set(names) & signals.NEGATIVE:
            categories.append("complaint")
        elif event.type == "ticket.closed":
            categories.append("resolution")
        else:
            categories.append("question")
        return NoteDraft(text=text, categories=tuple(categories), signals=tuple(names),
                         quotes={s: found[s][:120] for s in names})


def text_of(event: TicketEvent) -> str:
    """What the rules read of a ticket: its body, after its subject unless the body starts with it."""
    t = event.ticket
    return t.body if t.body.startswith(t.subject) else f"{t.subject}\n{t.body}"
