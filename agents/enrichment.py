"""The enrichment service: what the worker does with ticket events, however they arrive (live, from a delay tier,
or replayed). The Kafka layer hands it batches (one event is a batch of one) and never touches the store.

Per batch, in order:
1. **Privacy gate**: an event whose account or requester has a tombstone (`memory.tombstones`) is a no-op,
   however old it is.
2. **Already judged** (`RunOptions.skip_done`, replays): an event whose note carries the current planner's
   fingerprint is skipped. After a model or rules change it runs again and the note records both.
3. **Dry run** (`RunOptions.dry_run`): what would run is reported, nothing is written.
4. **Index** each (requester, account) pair, so that a deletion of the requester finds this account, then let the
   planner (`agents.planners`) judge the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ticket_enricher.agents.planners import LIVE, Outcome, Planner, RunOptions
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.store import MemoryStore
from ticket_enricher.memory.tombstones import SubjectIndex, Tombstones, subject_hash

Status = Literal["processed", "forgotten", "already_done", "would_process"]


@dataclass(frozen=True)
class Enriched:
    status: Status
    outcome: Outcome | None = None  # set when processed


def subject_hashes(event: TicketEvent) -> list[str]:
    """The subjects a deletion may name for this event: its account, and its requester when there is one."""
    hashes = [subject_hash("account", event.account_id)]
    if event.ticket.requester is not None:
        hashes.append(subject_hash("user", event.ticket.requester.id))
    return hashes


class Enrichment:
    def __init__(self, planner: Planner, store: MemoryStore) -> None:
        self.planner = planner
        self.store = store
        self.tombstones = Tombstones(store)
        self.subjects = SubjectIndex(store)

    @property
    def fingerprint(self) -> str:
        """What judges events (`agents.factory.planner_fingerprint`)."""
        return self.planner.fingerprint

    @property
    def whole_batches(self) -> bool:
        """Whether whole fetches should come at once (a planner that writes batches) or events one by one."""
        return self.planner.whole_batches

    async def enrich(self, events: Sequence[TicketEvent], options: RunOptions = LIVE) -> list[Enriched | Exception]:
        """The events in order, each with what became of it; an event whose judgment failed has its error in its
        place (the batch goes on). Raises when the batch as a whole failed (the store)."""
        results: list[Enriched | Exception | None] = [None] * len(events)
        hashes = [subject_hashes(e) for e in events]
        forgotten = await self.tombstones.forgotten_among({h for some in hashes for h in some})
        live: list[int] = []
        gone: set[str] = set()
        for i, event in enumerate(events):
            if forgotten.intersection(hashes[i]):
                results[i] = Enriched("forgotten")
                gone.add(event.account_id)
            else:
                live.append(i)
        if gone:  # lifted some day, they must be read afresh
            self.planner.release(gone)
        if options.skip_done and live:
            judged = await self.planner.judged([events[i] for i in live])
            for i in live:
                if events[i].event_id in judged:
                    results[i] = Enriched("already_done")
            live = [i for i in live if results[i] is None]
        for i in live if options.dry_run else ():
            results[i] = Enriched("would_process")
        if live and not options.dry_run:
            await self.subjects.record_all([(e.ticket.requester.id, e.account_id) for e in (events[i] for i in live)
                                            if e.ticket.requester is not None])
            outcomes = await self.planner.judge([events[i] for i in live], options.pace)
            for i, outcome in zip(live, outcomes, strict=True):
                results[i] = outcome if isinstance(outcome, Exception) else Enriched("processed", outcome)
        return [r for r in results if r is not None]

    def release(self) -> None:
        """A rebalance moved partitions: accounts cached here may be another member's now."""
        self.planner.release()
