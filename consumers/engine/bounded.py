"""Bounded reads (replays): exactly the given partitions, each from its start to its stop offset, then done.

The consumer assigns its partitions itself instead of joining the group's rebalances, reads each up to its stop
offset and pauses it there; `run_to_end()` returns once every record below the stops is done and committed in the
group's name (so a rerun of the same group resumes). With `commit=False` nothing is committed (a dry run). The
rest (order per key, N in flight, exact offsets) is the key-ordered consumer's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import TopicPartition

from ticket_enricher.consumers.engine.ordered import KeyOrderedConsumer
from ticket_enricher.consumers.engine.rebalance import Rebalance


class BoundedConsumer(KeyOrderedConsumer):
    def __init__(self, *, bounds: dict[TopicPartition, tuple[int, int]], commit: bool = True, **options: Any) -> None:
        """`bounds`: partition -> (start, stop) offsets to read, stop excluded."""
        super().__init__(topics=sorted({tp.topic for tp in bounds}), **options)
        self.bounds = dict(bounds)
        self.commits = commit
        self._fetched_all: set[TopicPartition] = set()  # partitions read up to their stop

    async def _join(self) -> None:
        await self._consumer.start()
        self._consumer.assign(list(self.bounds))
        await Rebalance(self).on_partitions_assigned(set(self.bounds))
        for tp, (start, stop) in self.bounds.items():
            self._consumer.seek(tp, start)
            if start >= stop:
                self._fetched_all.add(tp)
        if self._fetched_all:
            self._consumer.pause(*self._fetched_all)

    def _stop_offset(self, tp: TopicPartition) -> int | None:
        return self.bounds[tp][1]

    def _held_back(self) -> set[TopicPartition]:
        return self._fetched_all

    async def _fetched(self) -> None:
        for tp, (_, stop) in self.bounds.items():
            if tp not in self._fetched_all and await self._consumer.position(tp) >= stop:
                self._fetched_all.add(tp)
                self._consumer.pause(tp)
                self._progress.set()

    async def run_to_end(self) -> None:
        """Wait until every record below the stops is done, then commit."""
        while not (len(self._fetched_all) == len(self.bounds)
                   and all(o.outstanding == 0 for o in self._offsets.values())):
            if self._failure is not None and self._failure.done():
                raise self._failure.result()
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), 0.5)
            except TimeoutError:
                pass
        await self._commit(dict(self._offsets))
