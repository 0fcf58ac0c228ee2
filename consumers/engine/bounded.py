"""Bounded reads (replays): exactly the given partitions, each from its start to its stop offset, then done; and
where those start and stop for a time window (`plan_bounds`).

The consumer assigns its partitions itself instead of joining the group's rebalances, reads each up to its stop
offset and pauses it there; `run_to_end()` returns once every record below the stops is done and committed in the
group's name (so a rerun of the same group resumes). With `commit=False` nothing is committed (a dry run). The
rest (order per key, N in flight, exact offsets) is the key-ordered consumer's.

A window's bounds, per partition: from the first offset at or after `since`, or from the group's committed offset
when it has one further on, up to the first offset at or after `until`, or the end offset read now (records
published meanwhile are the live worker's).
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from ticket_enricher.consumers.engine.clients import KafkaClients
from ticket_enricher.consumers.engine.ordered import KeyOrderedConsumer
from ticket_enricher.consumers.engine.positions import Positions
from ticket_enricher.consumers.engine.rebalance import Rebalance
from ticket_enricher.core.errors import MissingTopics

Bound = tuple[int, int]  # (start, stop), stop excluded


class Bounds:
    """How a bounded reader reads (`engine.ordered.Reading`): its partitions from their start to their stop."""

    def __init__(self, bounds: dict[TopicPartition, Bound]) -> None:
        self.bounds: dict[TopicPartition, Bound] = dict(bounds)
        self._fetched_all: set[TopicPartition] = set()  # partitions read up to their stop

    @property
    def all_fetched(self) -> bool:
        return len(self._fetched_all) == len(self.bounds)

    async def join(self, consumer: AIOKafkaConsumer, listener: Rebalance) -> None:
        await consumer.start()
        consumer.assign(list(self.bounds))
        await listener.on_partitions_assigned(set(self.bounds))
        for tp, (start, stop) in self.bounds.items():
            consumer.seek(tp, start)
            if start >= stop:
                self._fetched_all.add(tp)
        if self._fetched_all:
            consumer.pause(*self._fetched_all)

    def stop_offset(self, tp: TopicPartition) -> int | None:
        return self.bounds[tp][1]

    def held_back(self) -> set[TopicPartition]:
        return self._fetched_all

    async def fetched(self, consumer: AIOKafkaConsumer) -> bool:
        """Pause the partitions read up to their stop; True when one just was."""
        reached = False
        for tp, (_, stop) in self.bounds.items():
            if tp not in self._fetched_all and await consumer.position(tp) >= stop:
                self._fetched_all.add(tp)
                consumer.pause(tp)
                reached = True
        return reached


class BoundedConsumer(KeyOrderedConsumer):
    def __init__(self, *, bounds: dict[TopicPartition, Bound], commit: bool = True, **options: Any) -> None:
        """`bounds`: partition -> (start, stop) offsets to read, stop excluded."""
        self.bounds = Bounds(bounds)
        super().__init__(topics=sorted({tp.topic for tp in bounds}), reading=self.bounds, commits=commit, **options)

    async def run_to_end(self) -> None:
        """Wait until every record below the stops is done, then commit."""
        while not (self.bounds.all_fetched and self.partitions.settled()):
            if (error := self.error) is not None:
                raise error
            await self.partitions.wait_progress(0.5)
        await self.commit()


async def plan_bounds(clients: KafkaClients, group: str, topic: str, since_ms: int,
                      until_ms: int | None) -> tuple[dict[TopicPartition, Bound], int]:
    """Each partition of `topic`'s bounds for the window [since, until) read in `group`, and how many of them
    resume from the group's committed offset. Read by clients named `<client_id>-replay`."""
    async with Positions(clients, "replay") as at:
        tps = await at.partitions([topic])
        if not tps:
            raise MissingTopics(f"topic {topic!r} does not exist; create it with `ticket-enricher topics create`")
        ends = await at.ends(tps)
        at_since = await at.at_time(tps, since_ms)
        at_until = await at.at_time(tps, until_ms) if until_ms is not None else {}
        committed = await at.committed(group, tps, patience=30.0)
    bounds: dict[TopicPartition, Bound] = {}
    resumed = 0
    for tp in tps:
        since = at_since[tp]
        first = since if since is not None else ends[tp]
        until = at_until.get(tp)
        stop = min(ends[tp], until if until is not None else ends[tp])
        done = committed[tp].offset if tp in committed and committed[tp].offset >= 0 else -1
        start = first
        if done > first:
            start, resumed = min(done, max(stop, first)), resumed + 1
        bounds[tp] = (start, max(start, stop))
    return bounds, resumed
