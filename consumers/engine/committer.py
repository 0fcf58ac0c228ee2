"""Exact offsets for a key-ordered consumer: what it commits, and when.

Per partition, the commit point is the highest offset below which every record is done, and the records finished
beyond it travel in the commit's metadata (`engine.offsets`), committed explicitly by one committer that coalesces
completions. The partition's next owner skips those, so a crash replays the records that were in flight (and those
finished in the last commit's round trip), a graceful hand-over none. A commit that a racing rebalance rejects
(stale generation) is not lost when the partition comes back to this member: what it finished is remembered across
the rebalance (`PartitionState.release`, "unsaved") and skipped.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from ticket_enricher.consumers.engine.offsets import PartitionOffsets
from ticket_enricher.consumers.engine.partitions import PartitionState

log = logging.getLogger("ticket_enricher.ordered")


class Committer:
    def __init__(self, state: PartitionState, consumer: AIOKafkaConsumer, *, enabled: bool = True) -> None:
        """`enabled` False: a dry run that commits nothing."""
        self._state = state
        self._consumer = consumer
        self.enabled = enabled
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        """The commit task: after records are done, commit the partitions held and not being given up."""
        while True:
            await self._state.wait_dirty()
            await self.commit(self._state.live())

    async def commit(self, partitions: dict[TopicPartition, PartitionOffsets]) -> None:
        """Commit the new commit points (with their done-bitmap metadata) of those of `partitions` still assigned.
        A refused commit is logged and left to the next one, or to the partition's next owner."""
        if not self.enabled:
            return
        async with self._lock:
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
