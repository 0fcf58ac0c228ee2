"""The offline rules model: deterministic, no network, and it speaks through the same tools as an LLM would.

Turn 1 reads the account (search + current tags), turn 2 writes the note for this event, turn 3 sets or clears
tags from the account's history as of this event, turn 4 answers. The ticket text is only ever matched against
patterns, so nothing it says can steer the tool calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import get_args

from agents import signals
from agents.model import ModelRequest, ModelTurn, ToolCall
from agents.tools import AddMemoryArgs, SearchMemoriesArgs, SetAccountTagsArgs, TagAdd, TagClear
from agents.notes import AccountTags
from config.settings import TagSettings
from core.events import TicketEvent

_CATEGORY_OF = {
    "outage": "outage", "data_loss": "data", "billing_error": "billing", "security": "security",
    "escalation_refund": "billing",
}


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


RECENT_DAYS = 30
RISK_SCORE = 3
_MOOD = {"hostility": 3, "anger": 2, "frustration": 1}


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
    kinds = {s for n in failures for s in n.signals & signals.FAILURE}
    parts: list[tuple[str, int, list[Note]]] = []
    persistent = any(n.signals & {"unresolved", "repeat_contact"} for n in window)
    if failures and (kinds - signals.ONE_OFF or persistent):
        parts.append(("failure", 1, failures))
    moody = [n for n in window if n.signals & _MOOD.keys()]
    if moody:
        levels = [max(_MOOD[s] for s in n.signals & _MOOD.keys()) for n in moody]
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
    for note in sorted(notes, key=lambda n: n.occurred_at, reverse=True):
        for name, quote in note.quotes:
            if name in wanted and name not in out:
                out[name] = quote
    return "; ".join(f'{name} "{quote}"' for name, quote in list(out.items())[:limit])


def assess_churn(notes: list[Note], now: datetime, window_days: int, tagged: bool) -> TagDecision:
    """Judge churn risk from the notes up to `now` (later ones are ignored, so a replay judges the same way).

    At risk, with something in the last 30 days: one explicit statement of leaving (cancel, close the account,
    never again, switching to a competitor) or a legal threat is enough; otherwise a score of 3 from a failure
    of service, anger or frustration, repeats and no resolution (e.g. a lost parcel and anger; an outage, a
    third call and no answer). Resolved, and cleared if set: after a leave statement, two satisfied closes with
    none in the last 30 days; otherwise the newest note thanks or says it is fixed.
    """
    window = sorted(
        (n for n in notes if now - timedelta(days=window_days) <= n.occurred_at <= now),
        key=lambda n: (n.occurred_at, n.event_id),
    )
    recent_from = now - timedelta(days=RECENT_DAYS)
    leave = [n for n in window if n.signals & (signals.LEAVE | {"escalation_legal"})]
    if leave and leave[-1].occurred_at >= recent_from:
        quote = _quotes(leave, signals.LEAVE | {"escalation_legal"})
        return TagDecision(True, False, f"said they would leave: {quote}"[:300], [n.memory_id for n in leave][-10:])
    closes = [n for n in window[-2:] if "satisfied" in n.signals]
    thanked = bool(window) and "satisfied" in window[-1].signals
    resolved = len(closes) == 2 if leave else thanked
    score, parts, scored = _risk(window)
    if score >= RISK_SCORE and scored[-1].occurred_at >= recent_from and not thanked:
        wanted = set(parts) | signals.FAILURE | {"repeat_contact", "unresolved"}
        reason = f"score {score} ({', '.join(parts)}): {_quotes(scored, wanted)}"
        return TagDecision(True, False, reason[:300], [n.memory_id for n in scored][-10:])
    if tagged and resolved:
        done = closes if leave else window[-1:]
        return TagDecision(False, True, f"resolved: {', '.join(n.ticket_id for n in done)} satisfied, no leave "
                                        f"statement in {RECENT_DAYS}d", [n.memory_id for n in done])
    return TagDecision(False, False, f"churn score {score} in {window_days}d: below the bar", [])


def assess_signals(notes: list[Note], now: datetime, rule: TagSettings, tagged: bool) -> TagDecision:
    """A `signals` tag: set when `min_events` notes within `within_days` carry one of its signals, cleared
    when none has for that long."""
    wanted = frozenset(rule.signals)
    hits = sorted((n for n in notes if now - timedelta(days=rule.within_days) <= n.occurred_at <= now
                   and n.signals & wanted), key=lambda n: (n.occurred_at, n.event_id))
    if len(hits) >= rule.min_events:
        kinds = sorted({s for n in hits for s in n.signals & wanted})
        quote = next((q for n in reversed(hits) for s, q in n.quotes if s in wanted), None)
        reason = f"{len(hits)} event(s) with {', '.join(kinds)} in {rule.within_days}d"
        if quote:
            reason += f': "{quote}"'
        return TagDecision(True, False, reason, [n.memory_id for n in hits][-10:])
    if tagged:
        return TagDecision(False, True, f"no {', '.join(sorted(wanted))} in {rule.within_days}d", [])
    return TagDecision(False, False, "", [])


RULES_VERSION = 3  # raise when the rules below judge differently: a replay then re-evaluates every event


class RulesModel:
    """Deterministic planner used when no LLM is configured."""

    name = "rules"

    def __init__(self, tags: dict[str, TagSettings], *, window_days: int = 90, search_top_k: int = 50) -> None:
        known = set(get_args(signals.Signal))
        for name, rule in tags.items():
            unknown = set(rule.signals) - known
            if unknown:
                raise ValueError(f"tag {name}: unknown signals {', '.join(sorted(unknown))}; known: "
                                 f"{', '.join(sorted(known))}")
        self.tags = tags
        self.window_days = window_days
        self.search_top_k = search_top_k

    def query(self, event: TicketEvent) -> str:
        """Every note in the window is weighed, so ranking them is wasted work: a query without words makes
        the embedded store return the newest notes unranked (on Mem0 the order does not matter)."""
        return "*"

    def read(self, text: str) -> dict[str, str]:
        """The signals in one ticket's text, each with the phrase that showed it."""
        return dict(signals.detect(text))

    def judge(self, name: str, rule: TagSettings, notes: list[Note], now: datetime, tagged: bool) -> TagDecision:
        """One tag's decision from the account's notes as of `now`."""
        if rule.rule == "churn":
            return assess_churn(notes, now, self.window_days, tagged)
        return assess_signals(notes, now, rule, tagged)

    async def respond(self, request: ModelRequest) -> ModelTurn:
        event = request.ticket
        step = len(request.history)
        if step == 0:
            return _calls(
                ("search_memories", SearchMemoriesArgs(
                    query=self.query(event), top_k=self.search_top_k,
                    filters={"AND": [{"metadata": {"kind": "ticket_note"}}]},
                )),
                ("get_account_tags", None),
            )
        if step == 1:
            return _calls(("add_memory", self._note_for(event)))
        if step == 2:
            plan = self._tag_plan(request)
            if plan is not None:
                return _calls(("set_account_tags", plan))
        return ModelTurn(text=self._summary(request))

    async def close(self) -> None:
        """Nothing to release: no network."""

    def _note_for(self, event: TicketEvent) -> AddMemoryArgs:
        t = event.ticket
        found = self.read(t.body if t.body.startswith(t.subject) else f"{t.subject}\n{t.body}")
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
        return AddMemoryArgs(
            text=text, categories=categories, signals=names,  # type: ignore[arg-type]
            quotes={s: found[s][:120] for s in names},
        )

    def _tag_plan(self, request: ModelRequest) -> SetAccountTagsArgs | None:
        event = request.ticket
        tags = AccountTags.model_validate_json(request.results_of("get_account_tags")[-1].content)
        through = tags.evaluated_through
        if through is not None and event.occurred_at < through:
            return None  # an older event than the tags already reflect: a replay must not rewrite them
        notes = {n.event_id: n for n in _notes(request.results_of("search_memories")[-1].content)}
        added = json.loads(request.results_of("add_memory")[-1].content)
        current = self._note_for(event)
        notes[event.event_id] = Note(
            memory_id=added["id"], event_id=event.event_id, ticket_id=event.ticket.id, event_type=event.type,
            occurred_at=event.occurred_at, priority=event.ticket.priority,
            signals=frozenset(current.signals), quotes=tuple(sorted(current.quotes.items())),
        )
        plan = SetAccountTagsArgs()  # even empty, it records that tags were evaluated through this event
        for name, rule in self.tags.items():
            tagged = name in tags.tags
            decision = self.judge(name, rule, list(notes.values()), event.occurred_at, tagged)
            if decision.applies and not tagged:
                plan.add.append(TagAdd(tag=name, reason=decision.reason, evidence_memory_ids=decision.evidence))
            elif decision.clear:
                plan.clear.append(TagClear(tag=name, reason=decision.reason))
        return plan

    def _summary(self, request: ModelRequest) -> str:
        done = [r for ex in request.history for r in ex.results if not r.is_error]
        return f"rules: {len(done)} tool calls for {request.ticket.type} {request.ticket.ticket.id}"


def _calls(*calls: tuple[str, object]) -> ModelTurn:
    out = []
    for i, (name, args) in enumerate(calls):
        payload = "{}" if args is None else args.model_dump_json()  # type: ignore[attr-defined]
        out.append(ToolCall(id=f"rules-{name}-{i}", name=name, arguments=payload))
    return ModelTurn(tool_calls=out)


def _notes(search_content: str) -> list[Note]:
    notes = []
    for hit in json.loads(search_content):
        meta = hit.get("metadata") or {}
        try:
            notes.append(Note(
                memory_id=hit["id"], event_id=str(meta["event_id"]), ticket_id=str(meta.get("ticket_id", "")),
                event_type=str(meta.get("event_type", "")),
                occurred_at=datetime.fromisoformat(str(meta["occurred_at"])),
                priority=str(meta.get("priority", "normal")),
                signals=frozenset(meta.get("signals") or []),
                quotes=tuple(sorted(dict(meta.get("quotes") or {}).items())),
            ))
        except (KeyError, ValueError):
            continue  # a memory written by something else: not a ticket note we can weigh
    return notes
