"""The direct path of a deterministic planner (the offline rules model): its judgment applied to the cached state
of the account and written for a whole batch at once, without the tool loop.

The tool loop exists for models that must not be trusted: it binds every call to the event's account and checks
every argument. The rules model is our own code, so its decisions are applied directly, with the same effects the
tools would have (`agents.tools`, `agents.notes`): one note per event under the idempotency key of its event id,
a redelivered event finding its note and marking a new planner on it, tags set with their reason and evidence
ids and cleared with their reason, `evaluated_through` never moving back, an event older than what the tags
reflect changing no tag. The writes of a batch go to the store in one transaction (`memory.batch`): the group
commit that makes a backfill fast.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import JsonValue

from ticket_enricher.agents.loop import AgentOutcome
from ticket_enricher.agents.model import Usage
from ticket_enricher.agents.notes import NOTE_KIND, PROFILE_KEY, PROFILE_KIND, TagRecord
from ticket_enricher.agents.rules import Note, TagDecision
from ticket_enricher.agents.state import AccountState
from ticket_enricher.agents.tools import AddMemoryArgs
from ticket_enricher.config.settings import TagSettings
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.batch import Change, NewMemory, planned_id
from ticket_enricher.memory.store import EntityScope


class DirectPlanner(Protocol):
    """A planner whose decisions can be applied without the tool loop (deterministic, trusted code)."""

    name: str
    tags: dict[str, TagSettings]
    window_days: int  # the churn window
    search_top_k: int  # how many of an account's notes a judgment reads, as many as the agent's search shows

    def note_for(self, event: TicketEvent) -> AddMemoryArgs: ...

    def judge(self, name: str, rule: TagSettings, notes: list[Note], now: object, tagged: bool) -> TagDecision: ...


def is_direct(model: object) -> bool:
    return callable(getattr(model, "note_for", None)) and callable(getattr(model, "judge", None))


@dataclass
class PendingProfile:
    """An account's profile write of this batch, built once from the account's state when the batch is written:
    as if every event's write had been merged in order (top-level keys, the last `last_cleared`, the last guard)."""

    state: AccountState
    vocabulary: tuple[str, ...]
    create: bool  # the profile did not exist when the batch began: a merging insert, else a change
    last_cleared: dict[str, JsonValue] | None = None

    def write(self) -> NewMemory | Change:
        tags, state = self.state.tags, self.state
        assert tags.evaluated_through is not None
        through = tags.evaluated_through.isoformat()
        metadata: dict[str, JsonValue] = {
            "kind": PROFILE_KIND,
            "tags": {n: r.model_dump(mode="json") for n, r in tags.tags.items()},
            "evaluated_through": through,
            **{f"tag_{n}": n in tags.tags for n in self.vocabulary},
        }
        if self.last_cleared is not None:
            metadata["last_cleared"] = self.last_cleared
        guard = ("evaluated_through", through)
        if self.create:
            return NewMemory(f"Account profile of {state.account_id}", EntityScope(user_id=state.account_id),
                             PROFILE_KEY, metadata, merge_if_exists=True, not_after=guard)
        assert state.profile_id is not None
        return Change(state.profile_id, metadata, guard)


@dataclass
class Writes:
    """What a batch writes: new memories in order, then changes; one profile write per account."""

    new: list[NewMemory] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    profiles: dict[str, PendingProfile] = field(default_factory=dict)
    notes_added: int = 0
    indexed: set[tuple[str, str]] = field(default_factory=set)  # (person hash, account) pairs this batch adds

    def profile(self, state: AccountState, vocabulary: tuple[str, ...],
                cleared: dict[str, JsonValue] | None) -> None:
        pending = self.profiles.get(state.account_id)
        if pending is None:
            pending = self.profiles[state.account_id] = PendingProfile(state, vocabulary, state.profile_id is None)
            if pending.create:
                state.profile_id = planned_id(EntityScope(user_id=state.account_id), PROFILE_KEY)
        if cleared:
            pending.last_cleared = cleared

    def all(self) -> tuple[list[NewMemory], list[Change]]:
        profiles = [p.write() for p in self.profiles.values()]
        new = self.new + [w for w in profiles if isinstance(w, NewMemory)]
        return new, self.changes + [w for w in profiles if isinstance(w, Change)]


_NO_USAGE = Usage()


@functools.cache
def horizon_days(planner: DirectPlanner) -> int:
    """The longest window any tag of the planner reads back."""
    return max([planner.window_days, *(r.within_days for r in planner.tags.values())])


def apply(planner: DirectPlanner, fingerprint: str, state: AccountState, event: TicketEvent,
          writes: Writes) -> AgentOutcome:
    """Judge one event against its account's state, update the state, add the writes; the outcome as the tool
    loop would report it."""
    ticket, scope = event.ticket, state.scope  # the state is the event account's (`AccountCache.states`)
    args = planner.note_for(event)
    signals, quotes = list(dict.fromkeys(args.signals)), {n: q[:120] for n, q in args.quotes.items()}
    existing = state.memory_ids.get(event.event_id)
    if existing is None:
        metadata: dict[str, JsonValue] = {
            "kind": NOTE_KIND, "event_id": event.event_id, "event_type": event.type, "ticket_id": ticket.id,
            "occurred_at": event.occurred_at.isoformat(), "priority": ticket.priority, "channel": ticket.channel,
            "signals": signals, "quotes": quotes, "planner": fingerprint,  # type: ignore[dict-item]
        }
        if ticket.requester is not None:
            metadata["requester_id"] = ticket.requester.id
        note = NewMemory(args.text, scope, event.event_id, metadata, list(dict.fromkeys(args.categories)),
                         timestamp=event.occurred_at)
        writes.new.append(note)
        writes.notes_added += 1
        note_id = note.id
    else:
        note_id = existing
        if state.planners.get(event.event_id) != fingerprint:  # rules or model changed since: re-read, mark it
            writes.changes.append(Change(note_id, {"planner": fingerprint, "signals": signals, "quotes": quotes,
                                                   "previous_planner": state.planners.get(event.event_id)}))
    state.remember(Note(
        memory_id=note_id, event_id=event.event_id, ticket_id=ticket.id, event_type=event.type,
        occurred_at=event.occurred_at, priority=ticket.priority, signals=frozenset(signals),
        quotes=tuple(sorted(quotes.items()))))
    state.planners[event.event_id] = fingerprint
    added, removed, evidence = _judge(planner, state, event, writes)
    return AgentOutcome(
        tags=sorted(state.tags.tags), tags_added=added, tags_removed=removed, memory_ids=[note_id],
        evidence=evidence, summary=f"{planner.name}: {event.type} {ticket.id}", planner=planner.name,
        usage=_NO_USAGE, turns=0, tool_calls=0, model_seconds=[],
    )


def _judge(planner: DirectPlanner, state: AccountState, event: TicketEvent, writes: Writes) -> tuple[list[str], list[str], list[str]]:
    through = state.tags.evaluated_through
    if through is not None and event.occurred_at < through:
        return [], [], []  # an older event than the tags already reflect: a replay must not rewrite them
    tags = dict(state.tags.tags)
    notes = state.judged(event.occurred_at, horizon_days(planner), planner.search_top_k)
    added, removed, evidence, cleared = [], [], [], {}
    to_judge = getattr(planner, "to_judge", None)  # the tags that may change (the rules model's quick check)
    for name in to_judge(notes, event.occurred_at, set(tags)) if to_judge is not None else list(planner.tags):
        rule = planner.tags[name]
        decision = planner.judge(name, rule, notes, event.occurred_at, name in tags)
        if decision.applies and name not in tags:
            tags[name] = TagRecord(reason=decision.reason, evidence_memory_ids=decision.evidence,
                                     event_id=event.event_id, set_at=event.occurred_at)
            added.append(name)
            evidence.append(f"+{name}: {decision.reason}")
        elif decision.clear and name in tags:
            del tags[name]
            removed.append(name)
            evidence.append(f"-{name}: {decision.reason}")
            cleared[name] = {"reason": decision.reason, "event_id": event.event_id}
    now_through = event.occurred_at if through is None or event.occurred_at > through else through
    if added or removed or now_through != through:
        state.tags.tags, state.tags.evaluated_through = tags, now_through  # the cached copy, changed in place
        writes.profile(state, tuple(planner.tags), cleared)  # type: ignore[arg-type]
    return added, removed, evidence
