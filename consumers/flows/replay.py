"""Replay: run a time window of the ticket topic through the ticket flow again, for backfills.

* A consumer group of its own, never the live one (whose committed offsets are the live position): by default
  `<group_id>.replay.<since>-<until>`, so an interrupted replay rerun with the same window resumes where it
  stopped (records finished beyond the commit point travel in the commit's metadata, as in the live worker).
* Each partition starts at the first offset at or after `since`, or at the group's committed offset when it has
  one further on, and stops before the first offset at or after `until`, or at the end offset snapshotted at
  start: events published meanwhile are the live worker's (`consumers.engine.bounded.plan_bounds` plans it, and
  its `BoundedConsumer` reads it).
* Per event: outside `--accounts` → counted and left; subject forgotten → no-op; already processed by the
  current planner (its note carries the same `planner` fingerprint) → skipped; else the ticket flow runs it
  (idempotent writes; a different planner re-evaluates and records it on the note). `--dry-run` decides the
  same way and writes nothing, commits nothing.
* `--rate R` spaces the events that reach the agent to R per second (aiolimiter's leaky bucket).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import TopicPartition
from aiolimiter import AsyncLimiter

from ticket_enricher.agents.planners import RunOptions
from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.engine.bounded import plan_bounds
from ticket_enricher.consumers.engine.clients import KafkaClients
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.provenance import arrival
from ticket_enricher.consumers.flows.tickets import TicketFlow
from ticket_enricher.core.errors import LiveGroup


def default_group(settings: Settings, since: datetime, until: datetime | None) -> str:
    return settings.routes().replay_group(since, until)


def check_group(settings: Settings, group: str) -> None:
    if group in settings.routes().live_groups:
        raise LiveGroup(f"group {group!r} belongs to the live worker; a replay needs a group of its own "
                        "(leave out --group for the default)")


@dataclass(frozen=True)
class Plan:
    group: str
    bounds: dict[TopicPartition, tuple[int, int]]  # partition -> (start, stop)
    resumed: int  # partitions starting from the group's committed offset

    @property
    def total(self) -> int:
        return sum(max(0, stop - start) for start, stop in self.bounds.values())


async def plan(settings: Settings, group: str, since: datetime, until: datetime | None) -> Plan:
    """Where each partition of the ticket topic starts and stops for this window and group."""
    check_group(settings, group)
    bounds, resumed = await plan_bounds(KafkaClients.from_settings(settings), group, settings.routes().tickets.topic,
                                        int(since.timestamp() * 1000),
                                        int(until.timestamp() * 1000) if until is not None else None)
    return Plan(group, bounds, resumed)


@dataclass
class Tally:
    """What the replay did, by outcome; `tagged` counts processed events that changed a tag."""

    outcomes: Counter[str] = field(default_factory=Counter)
    tagged: int = 0

    @property
    def done(self) -> int:
        return sum(self.outcomes.values())


class ReplayFlow:
    """A replay's handler: events outside `--accounts` are left, the rest go through the ticket flow with the
    enrichment service skipping what the current planner already judged (and changing nothing in a dry run)."""

    def __init__(self, flow: TicketFlow, *, accounts: frozenset[str] = frozenset(), dry_run: bool = False,
                 rate: float = 0.0) -> None:
        self.flow = flow
        self.accounts = accounts
        limiter = AsyncLimiter(rate, 1.0) if rate > 0 else None
        self.options = RunOptions(skip_done=True, dry_run=dry_run, pace=limiter.acquire if limiter else None)
        self.tally = Tally()

    @property
    def whole_batches(self) -> bool:
        """Whole fetches at once for a planner that writes batches, unless paced (`--rate` spaces single events)."""
        return self.flow.whole_batches and self.options.pace is None

    async def handle_batch(self, records: list[Record]) -> list[str]:
        """A whole fetch, or one record (`handle`): what became of each, in order."""
        arrived = [arrival(r) for r in records]
        # the key is the account id (a record whose key differs is invalid, and dead-lettered if it is ours)
        mine = [not self.accounts or (r.key or b"").decode("utf-8", "replace") in self.accounts for r, _ in arrived]
        results = iter(await self.flow.process([a for a, ok in zip(arrived, mine, strict=True) if ok], self.options)
                       if any(mine) else [])
        statuses: list[str] = []
        for ok in mine:
            result = next(results) if ok else None
            statuses.append(result.status if result is not None else "outside_accounts")
            if result is not None and result.enriched is not None and (result.enriched.tags_added
                                                                       or result.enriched.tags_removed):
                self.tally.tagged += 1
        self.tally.outcomes.update(statuses)
        return statuses

    async def handle(self, record: Record) -> str:
        return (await self.handle_batch([record]))[0]


async def wait_or_interrupt(task: asyncio.Future[None], interrupted: asyncio.Event) -> bool:
    """True when `task` finished, False when interrupted first."""
    stop = asyncio.ensure_future(interrupted.wait())
    either: set[asyncio.Future[Any]] = {task, stop}
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if task.done():
        task.result()
        return True
    return False
