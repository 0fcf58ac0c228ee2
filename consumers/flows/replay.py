"""Replay: run a time window of the ticket topic through the ticket flow again, for backfills.

* A consumer group of its own, never the live one (whose committed offsets are the live position): by default
  `<group_id>.replay.<since>-<until>`, so an interrupted replay rerun with the same window resumes where it
  stopped (records finished beyond the commit point travel in the commit's metadata, as in the live worker).
* Each partition starts at the first offset at or after `since` (`offsets_for_times`), or at the group's
  committed offset when it has one further on, and stops before the first offset at or after `until`, or at the
  end offset snapshotted at start: events published meanwhile are the live worker's.
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

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from aiolimiter import AsyncLimiter

from ticket_enricher.agents.planners import RunOptions
from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.engine.connection import client_options
from ticket_enricher.consumers.flows.provenance import arrival
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.tickets import TicketFlow
from ticket_enricher.core.errors import LiveGroup, MissingTopics


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
    options = client_options(settings)
    consumer = AIOKafkaConsumer(**options, client_id=f"{settings.kafka.client_id}-replay", enable_auto_commit=False)
    admin = AIOKafkaAdminClient(**options, client_id=f"{settings.kafka.client_id}-replay")
    await consumer.start()
    await admin.start()
    try:
        topic = settings.routes().tickets.topic
        numbers = consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
        tps = [TopicPartition(topic, p) for p in sorted(numbers)]
        ends = await consumer.end_offsets(tps)
        at_since = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in tps})
        at_until = (await consumer.offsets_for_times({tp: int(until.timestamp() * 1000) for tp in tps})
                    if until is not None else {})
        committed = await _committed(admin, group, tps)
    finally:
        await admin.close()
        await consumer.stop()
    bounds: dict[TopicPartition, tuple[int, int]] = {}
    resumed = 0
    for tp in tps:
        first = at_since[tp].offset if at_since.get(tp) is not None else ends[tp]
        stop = min(ends[tp], at_until[tp].offset if at_until.get(tp) is not None else ends[tp])
        done = committed[tp].offset if tp in committed and committed[tp].offset >= 0 else -1
        start = first
        if done > first:
            start, resumed = min(done, max(stop, first)), resumed + 1
        bounds[tp] = (start, max(start, stop))
    return Plan(group, bounds, resumed)


async def _committed(admin: AIOKafkaAdminClient, group: str, tps: list[TopicPartition],
                     patience: float = 30.0) -> dict[TopicPartition, OffsetAndMetadata]:
    """The group's committed offsets; a broker still electing its group coordinator is waited for."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        try:
            return await admin.list_consumer_group_offsets(group, partitions=tps)
        except KafkaError as error:
            if not error.retriable or loop.time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # the topic may not be in the first metadata answer
    numbers = consumer.partitions_for_topic(topic)
    if not numbers:
        raise MissingTopics(f"topic {topic!r} does not exist; create it with `ticket-enricher topics create`")
    return set(numbers)


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
        statuses = []
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
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if task.done():
        task.result()
        return True
    return False
