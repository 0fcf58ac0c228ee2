"""The rules planner: the offline rules model (`agents.rules.model`) judging each event against the cached state of
its account (`agents.planners.state`), a whole batch written in one transaction (`agents.planners.writes`).

No tool loop: the tool loop exists for models that must not be trusted (it binds every call to the event's account
and checks every argument); the rules model is our own code, so its decisions are applied directly, with the
effects the tools would have and through the same writer (`agents.notes`): one note per event under the
idempotency key of its event id, a redelivered event finding its note and marking a new planner on it, tags set
with their reason and evidence ids and cleared with their reason, `evaluated_through` never moving back, an event
older than what the tags reflect changing no tag.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime

from pydantic import JsonValue

from ticket_enricher.agents.notes import TagRecord, new_note, planner_mark
from ticket_enricher.agents.planners import Outcome, Pace, TagJudgment, judgment
from ticket_enricher.agents.planners.state import AccountCache, AccountState
from ticket_enricher.agents.planners.writes import Writes
from ticket_enricher.agents.rules.confidence import Action
from ticket_enricher.agents.rules.judgment import Note, TagDecision
from ticket_enricher.agents.rules.model import RulesModel, text_of
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.batch import Change, write_batch
from ticket_enricher.memory.store import MemoryStore
from ticket_enricher.memory.tombstones import Tombstones


class RulesPlanner:
    whole_batches = True

    def __init__(self, model: RulesModel, store: MemoryStore, fingerprint: str, *,
                 cache_notes: int = 200_000) -> None:
        self.model = model
        self.store = store
        self.fingerprint = fingerprint
        self.cache = AccountCache(store, max_notes=cache_notes)
        self.tombstones = Tombstones(store)

    @property
    def name(self) -> str:
        return self.model.name

    async def _states(self, events: Sequence[TicketEvent]) -> dict[str, AccountState]:
        # a deletion anywhere moves the tombstone count: then nothing cached may be trusted (`AccountCache`)
        self.cache.valid_for(await self.tombstones.version())
        return await self.cache.states(dict.fromkeys(e.account_id for e in events))

    async def judged(self, events: Sequence[TicketEvent]) -> set[str]:
        return await self.marked(events, self.fingerprint)

    async def marked(self, events: Sequence[TicketEvent], fingerprint: str) -> set[str]:
        """The ids of those events whose note carries `fingerprint` (from the cached state: no store read for an
        account already cached)."""
        states = await self._states(events)
        return {e.event_id for e in events if states[e.account_id].planners.get(e.event_id) == fingerprint}

    async def judge(self, events: Sequence[TicketEvent], pace: Pace | None = None) -> list[Outcome | Exception]:
        states = await self._states(events)
        writes, results = Writes(), list[Outcome | Exception]()
        accounts = set(states)
        try:
            for event in events:
                if pace is not None:
                    await pace()
                try:
                    results.append(apply(self.model, self.fingerprint, states[event.account_id], event, writes))
                except Exception as error:  # noqa: BLE001 - this event is dead-lettered by the flow, the batch goes on
                    results.append(error)
            if writes:
                new, changes = writes.all()
                written = await write_batch(self.store, new, changes)
                if any(p != s for p, s in written.ids.items()):  # a store that names memories itself
                    self.cache.drop(accounts)
                    results = [_renamed(r, written.ids) for r in results]
        except BaseException:
            self.cache.drop(accounts)  # the store is the truth: what these states say may not have been written
            raise
        self.cache.grew(writes.notes_added)
        return results

    def release(self, accounts: Collection[str] | None = None) -> None:
        if accounts is None:
            self.cache.clear()
        else:
            self.cache.drop(accounts)


def apply(model: RulesModel, fingerprint: str, state: AccountState, event: TicketEvent, writes: Writes) -> Outcome:
    """Judge one event against its account's state, update the state, add the writes; the outcome as the tool loop
    would report it."""
    ticket = event.ticket
    draft = model.note_for(event)
    note_id = state.memory_ids.get(event.event_id)
    if note_id is None:
        note = new_note(event, draft, fingerprint, state.scope)
        writes.new.append(note)
        writes.notes_added += 1
        note_id = note.id
    elif state.planners.get(event.event_id) != fingerprint:  # rules changed since: re-read, mark it
        previous = state.planners.get(event.event_id)
        writes.changes.append(Change(note_id, planner_mark(fingerprint, previous, draft)))
    found = frozenset(draft.signal_list)
    state.remember(Note(
        memory_id=note_id, event_id=event.event_id, ticket_id=ticket.id, event_type=event.type,
        occurred_at=event.occurred_at, priority=ticket.priority, signals=found,
        quotes=tuple(sorted(draft.quote_map.items()))))
    state.planners[event.event_id] = fingerprint
    added, removed, evidence, judgments = _tags(model, state, event, found, writes)
    return Outcome(tags=sorted(state.tags.tags), tags_added=added, tags_removed=removed, memory_ids=[note_id],
                   evidence=evidence, summary=f"{model.name}: {event.type} {ticket.id}", planner=model.name,
                   judgments=judgments)


def _tags(model: RulesModel, state: AccountState, event: TicketEvent, note: frozenset[str],
          writes: Writes) -> tuple[list[str], list[str], list[str], dict[str, TagJudgment]]:
    """Judge the tags as of `event`: set, clear, keep or leave each, with how sure the rules are. A tag the model
    set (stage "model") is never cleared here: when the rules would clear it, their confidence is 0, so that a
    cascade hands the question back to the model."""
    through = state.tags.evaluated_through
    if through is not None and event.occurred_at < through:
        return [], [], [], {}  # an older event than the tags already reflect: a replay must not rewrite them
    tags = dict(state.tags.tags)
    notes = state.judged(event.occurred_at, horizon_days(model), model.search_top_k)
    added: list[str] = []
    removed: list[str] = []
    evidence: list[str] = []
    cleared: dict[str, JsonValue] = {}
    judged = {name: model.judge(name, model.tags[name], notes, event.occurred_at, name in tags)
              for name in model.to_judge(notes, event.occurred_at, set(tags))}
    decided: dict[str, tuple[Action, TagDecision | None]] = {}
    held: dict[str, TagJudgment] = {}
    for name in model.tags:
        decision = judged.get(name)
        record = tags.get(name)
        if record is not None and record.stage == "model":
            back = decision is not None and decision.clear
            held[name] = judgment("keep", 0.0 if back else 1.0, "model:disputed" if back else "model", True)
        elif decision is not None and decision.applies and record is None:
            decided[name] = ("set", decision)
        elif decision is not None and decision.clear and record is not None:
            decided[name] = ("clear", decision)
        else:
            decided[name] = ("keep" if record is not None else "leave", decision)
    judgments = model.confidences(decided, note, text_of(event)) | held
    for name, (action, _) in decided.items():
        kept = tags.get(name)
        if action == "keep" and kept is not None and kept.confidence is not None:
            # as sure as when the rules set it (the table has few keeps: labels judge an account's last state)
            judgments[name] = judgment("keep", kept.confidence, judgments[name].grade, judgments[name].calibrated)
    for name, (action, decision) in decided.items():
        if decision is None or action not in ("set", "clear"):
            continue
        confidence = judgments[name].confidence
        if action == "set":
            tags[name] = TagRecord(reason=decision.reason, evidence_memory_ids=decision.evidence,
                                   event_id=event.event_id, set_at=event.occurred_at, confidence=confidence)
            added.append(name)
            evidence.append(f"+{name}: {decision.reason} (confidence {confidence:.2f})")
        else:
            del tags[name]
            removed.append(name)
            evidence.append(f"-{name}: {decision.reason} (confidence {confidence:.2f})")
            cleared[name] = {"reason": decision.reason, "event_id": event.event_id, "confidence": confidence}
    now_through: datetime = event.occurred_at if through is None or event.occurred_at > through else through
    if added or removed or now_through != through:
        state.tags.tags, state.tags.evaluated_through = tags, now_through  # the cached copy, changed in place
        writes.profile(state, tuple(model.tags), cleared)
    return added, removed, evidence, judgments


@functools.cache
def horizon_days(model: RulesModel) -> int:
    """The longest window any tag of the model reads back."""
    return max([model.window_days, *(r.within_days for r in model.tags.values())])


def _renamed(result: Outcome | Exception, ids: dict[str, str]) -> Outcome | Exception:
    """An outcome citing planned ids, with the ids the store gave those memories."""
    if isinstance(result, Exception):
        return result
    return result.model_copy(update={"memory_ids": [ids.get(m, m) for m in result.memory_ids]})
