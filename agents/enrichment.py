"""The enrichment service: what the worker does with one ticket event, however it arrives (live, from a delay
tier, or replayed). The Kafka layer calls `enrich` once per event and never touches the store.

1. **Privacy gate**: an event whose account or requester has a tombstone (`memory.tombstones`) is a no-op,
   however old it is.
2. **Already done** (replays only): an event whose note carries the current planner's fingerprint was judged by
   this very planner; it is skipped. After a model or rules change it runs again and the note records both.
3. **Index** the (requester, account) pair, so that a deletion of the requester finds this account, then **run
   the agent**, whose effects are idempotent per `event_id`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from agents.loop import Agent, AgentOutcome
from agents.notes import note_of
from core.events import TicketEvent
from memory.store import MemoryStore
from memory.tombstones import SubjectIndex, Tombstones, subject_hash

Status = Literal["processed", "forgotten", "already_done", "would_process"]


@dataclass(frozen=True)
class Enriched:
    status: Status
    outcome: AgentOutcome | None = None  # set when processed


def subject_hashes(event: TicketEvent) -> list[str]:
    """The subjects a deletion may name for this event: its account, and its requester when there is one."""
    hashes = [subject_hash("account", event.account_id)]
    if event.ticket.requester is not None:
        hashes.append(subject_hash("user", event.ticket.requester.id))
    return hashes


class Enrichment:
    def __init__(self, agent: Agent, store: MemoryStore) -> None:
        self.agent = agent
        self.store = store
        self.tombstones = Tombstones(store)
        self.subjects = SubjectIndex(store)

    @property
    def planner(self) -> str:
        """The fingerprint of what judges events (`agents.factory.planner_fingerprint`)."""
        return self.agent.planner

    async def enrich(self, event: TicketEvent, *, skip_done: bool = False, dry_run: bool = False,
                     before_run: Callable[[], Awaitable[object]] | None = None) -> Enriched:
        """`skip_done`: skip an event the current planner already judged (replays). `dry_run`: decide, change
        nothing. `before_run` is awaited just before the agent runs (a replay's rate limit)."""
        if await self.tombstones.forgotten(subject_hashes(event)):
            return Enriched("forgotten")
        if skip_done and await self.already_done(event):
            return Enriched("already_done")
        if dry_run:
            return Enriched("would_process")
        if before_run is not None:
            await before_run()
        if event.ticket.requester is not None:
            await self.subjects.record(event.ticket.requester.id, event.account_id)
        return Enriched("processed", await self.agent.run(event))

    async def already_done(self, event: TicketEvent) -> bool:
        """The event's note exists and the current planner wrote or last re-evaluated it."""
        note = await note_of(self.store, event.account_id, event.event_id)
        return note is not None and note.metadata.get("planner") == self.planner
