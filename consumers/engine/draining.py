"""Exact offsets for a key-ordered consumer: what it commits, when, and how it gives partitions up.

Per partition, the commit point is the highest offset below which every record is done, and the records finished
beyond it travel in the commit's metadata (`consumers.engine.offsets`), committed explicitly by one committer
that coalesces completions. The partition's next owner skips those, so a crash replays the records that were in
flight (and those finished in the last commit's round trip), a graceful hand-over none. A commit that a racing
rebalance rejects (stale generation) is not lost when the partition comes back to this member: what it finished
is remembered across the rebalance (`_unsaved`) and skipped.

Giving partitions up (a revoke, or `stop()` for all of them, which then leaves the group): waiting records are
dropped, in-flight ones get `drain_timeout` to finish (then are cancelled and left to the next owner), and what is
done is committed before the partitions move.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Hashable
from typing import TYPE_CHECKING

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from ticket_enricher.consumers.engine.offsets import PartitionOffsets

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient
    from prometheus_client import Gauge

    from ticket_enricher.consumers.engine.batches import Batches
    from ticket_enricher.consumers.engine.records import Record

log = logging.getLogger("ticket_enricher.ordered")


class Draining:
    """The commit and drain half of `KeyOrderedConsumer` (a mixin: both halves share the per-partition state)."""

    _consumer: AIOKafkaConsumer
    _admin: AIOKafkaAdminClient | None
    _keys: dict[Hashable, deque[Record]]
    _key_tasks: dict[Hashable, asyncio.Task[None]]
    _tasks: list[asyncio.Task[None]]
    _buffered: int
    _started: bool
    _in_flight_gauge: Gauge
    _buffered_gauge: Gauge

    _batches: Batches | None

    def __init__(self, drain_timeout: float) -> None:
        self.drain_timeout = drain_timeout
        self.commits = True  # False: a dry run that commits nothing
        self._offsets: dict[TopicPartition, PartitionOffsets] = {}
        self._revoking: set[TopicPartition] = set()
        # partitions given up with finished records their last commit could not save (a rebalance raced it);
        # if the next assignment gives them back, those records are skipped instead of run again
        self._unsaved: dict[TopicPartition, PartitionOffsets] = {}
        self._running: dict[Hashable, TopicPartition] = {}  # key -> partition of its record in flight
        self._progress = asyncio.Event()
        self._dirty = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._stopping = False
        self._stop_drained = asyncio.Event()  # a stopping member's final drain and commit are over

    async def stop(self) -> None:
        """Stop fetching, let in-flight records finish (up to `drain_timeout`), commit, leave the group."""
        if not self._started:
            return
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            try:
                await self._drain(set(self._offsets))
            finally:
                self._stop_drained.set()
            for task in list(self._key_tasks.values()):
                task.cancel()
            await asyncio.gather(*self._key_tasks.values(), return_exceptions=True)
        finally:
            self._started = False
            await self._consumer.stop()
            if self._admin is not None:
                await self._admin.close()
            self._in_flight_gauge.set(0)
            self._buffered_gauge.set(0)

    def _drop_waiting(self, partitions: set[TopicPartition]) -> None:
        """Forget the records of these partitions that are not running yet (a revoke or a stop)."""
        for key, queue in self._keys.items():
            keep_head = key in self._running
            kept = [r for i, r in enumerate(queue)
                    if (i == 0 and keep_head) or TopicPartition(r.topic, r.partition) not in partitions]
            self._buffered -= len(queue) - len(kept)
            queue.clear()
            queue.extend(kept)
        if self._batches is not None:
            kept = [r for r in self._batches.pending if TopicPartition(r.topic, r.partition) not in partitions]
            self._buffered -= len(self._batches.pending) - len(kept)
            self._batches.pending = kept

    def _gone(self, tp: TopicPartition) -> bool:
        return tp in self._revoking or tp not in self._offsets

    async def _committer(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            await self._commit({tp: o for tp, o in self._offsets.items() if tp not in self._revoking})

    async def _commit(self, partitions: dict[TopicPartition, PartitionOffsets]) -> None:
        if not self.commits:
            return
        async with self._commit_lock:
            owned = self._consumer.assignment()
            points = {tp: p for tp, o in partitions.items() if tp in owned and (p := o.uncommitted()) is not None}
            if not points:
                return
            try:
                await self._consumer.commit(points)  # {tp: (offset, metadata)}
            except (CommitFailedError, IllegalStateError, KafkaError) as error:
                log.warning("commit of %d partitions failed (%s); the next one, or the next owner of the "
                            "partition after a rebalance, covers them", len(points), error)
                return
            for tp, point in points.items():
                partitions[tp].committed = point

    async def _drain(self, partitions: set[TopicPartition]) -> None:
        """Drop waiting records of these partitions, finish or cancel their in-flight ones, commit, forget them."""
        self._revoking |= partitions
        self._drop_waiting(partitions)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_timeout
        while stuck := [k for k, tp in self._running.items() if tp in partitions]:
            left = deadline - loop.time()
            if left <= 0:
                log.warning("%d records still running after %.0fs; leaving them to the next owner",
                            len(stuck), self.drain_timeout)
                for key in stuck:
                    if (task := self._key_tasks.get(key)) is not None:
                        task.cancel()
                break
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), left)
            except TimeoutError:
                pass
        # a rebalance waits for this commit (the revoke listener, or for stop() the listener's wait on
        # `_stop_drained`); should it fail anyway, what was finished is remembered (`_unsaved`)
        await self._commit({tp: o for tp, o in self._offsets.items() if tp in partitions})
        for tp in partitions:
            offsets = self._offsets.pop(tp, None)
            if offsets is not None and offsets.uncommitted() is not None:
                self._unsaved[tp] = offsets
