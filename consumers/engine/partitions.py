"""What one member of a group holds of its partitions, in one object: the poll loop, the per-key and batch
dispatchers, the committer, the drain and the rebalance listener all read and change it through its methods.

    offsets      per assigned partition: what was fetched and what is done (`engine.offsets.PartitionOffsets`)
    revoking     partitions being given up: their waiting records are dropped, nothing new of them starts
    unsaved      partitions given up with finished records their last commit could not save (a rebalance raced
                 it); if the next assignment gives them back, those records are skipped instead of run again
    running      key -> partition of its record (or its batch) in flight: what a drain waits for
    progress     an event set whenever something stops running (a drain and `run_to_end` wait on it)
    dirty        an event set whenever a record is done (the committer waits on it)
    closing      the member stops: it gives every partition up and starts nothing new
    closed       its final drain and commit are over: a rebalance it holds back may go on
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Hashable, Iterable, Mapping

from aiokafka import TopicPartition

from ticket_enricher.consumers.engine.offsets import PartitionOffsets


class PartitionState:
    def __init__(self) -> None:
        self._offsets: dict[TopicPartition, PartitionOffsets] = {}
        self._revoking: set[TopicPartition] = set()
        self._unsaved: dict[TopicPartition, PartitionOffsets] = {}
        self._running: dict[Hashable, TopicPartition] = {}
        self._progress = asyncio.Event()
        self._dirty = asyncio.Event()
        self._closed = asyncio.Event()
        self.closing = False
        self.assignments = 0  # rebalances this member took part in
        self.skipped_done = 0  # records a previous owner had finished (from the commit metadata)

    # -- which partitions ----------------------------------------------------------------------------------------

    def assign(self, starts: Mapping[TopicPartition, tuple[int, set[int]]]) -> None:
        """One rebalance's assignment: each partition with its committed offset and the offsets its last owner
        finished beyond it. What this member finished itself of a partition it gave up and now gets back counts
        as done too; what it remembered of any other partition is forgotten (its new owner has it)."""
        self.assignments += 1
        unsaved, self._unsaved = self._unsaved, {}
        for tp, (start, done) in starts.items():
            if tp in unsaved:  # ours again: what this member finished is done, committed or not
                done = done | unsaved[tp].finished_since(start)
            self._offsets[tp] = PartitionOffsets(already_done=done)
            self._revoking.discard(tp)

    def revoke(self, partitions: Iterable[TopicPartition]) -> None:
        """Start giving these up: nothing new of them starts (`gone`), the fetches of them are ignored."""
        self._revoking.update(partitions)

    def release(self, partitions: Iterable[TopicPartition]) -> None:
        """Forget these (given up and committed); remember what the last commit did not save."""
        for tp in partitions:
            offsets = self._offsets.pop(tp, None)
            if offsets is not None and offsets.uncommitted() is not None:
                self._unsaved[tp] = offsets

    def is_revoking(self, tp: TopicPartition) -> bool:
        return tp in self._revoking

    def gone(self, tp: TopicPartition) -> bool:
        """Not (or no longer) this member's to run: being given up, or not assigned."""
        return tp in self._revoking or tp not in self._offsets

    def offsets(self, tp: TopicPartition) -> PartitionOffsets | None:
        """`tp`'s offsets; None while it is not assigned (or what its last owner finished is still loading)."""
        return self._offsets.get(tp)

    @property
    def held(self) -> set[TopicPartition]:
        """Every partition held, those being given up included."""
        return set(self._offsets)

    def holding(self, partitions: Iterable[TopicPartition] | None = None) -> dict[TopicPartition, PartitionOffsets]:
        """The offsets of `partitions` (all held when None) that are held."""
        if partitions is None:
            return dict(self._offsets)
        return {tp: o for tp in partitions if (o := self._offsets.get(tp)) is not None}

    def live(self) -> dict[TopicPartition, PartitionOffsets]:
        """The offsets of the partitions held and not being given up (what the committer commits)."""
        return {tp: o for tp, o in self._offsets.items() if tp not in self._revoking}

    def settled(self) -> bool:
        """Every record fetched so far is done."""
        return all(o.outstanding == 0 for o in self._offsets.values())

    # -- records ----------------------------------------------------------------------------------------------

    def fetched(self, offsets: PartitionOffsets, offset: int) -> bool:
        """Record `offset` of the partition of `offsets` was fetched; False when it needs no run (a previous owner
        finished it: it is done at once and counted in `skipped_done`)."""
        offsets.fetched(offset)
        if offset not in offsets.already_done:
            return True
        offsets.already_done.discard(offset)
        offsets.done(offset)
        self.skipped_done += 1
        self._dirty.set()
        return False

    def done(self, tp: TopicPartition, offset: int) -> None:
        """A record finished; one of a partition already let go is left to its drain's commit or its next owner."""
        offsets = self._offsets.get(tp)
        if offsets is not None:
            offsets.done(offset)
        self._dirty.set()

    async def wait_dirty(self) -> None:
        """Until a record is done since the last call."""
        await self._dirty.wait()
        self._dirty.clear()

    # -- in flight --------------------------------------------------------------------------------------------

    def started(self, key: Hashable, tp: TopicPartition) -> None:
        self._running[key] = tp

    def finished(self, key: Hashable) -> None:
        self._running.pop(key, None)
        self._progress.set()

    def is_running(self, key: Hashable) -> bool:
        return key in self._running

    @property
    def in_flight(self) -> int:
        return len(self._running)

    def running_in(self, partitions: set[TopicPartition]) -> list[Hashable]:
        """The keys whose record (or batch) in flight is of one of `partitions`."""
        return [k for k, tp in self._running.items() if tp in partitions]

    def progressed(self) -> None:
        self._progress.set()

    async def wait_progress(self, timeout: float) -> None:
        """Until something stops running or makes progress, at most `timeout` seconds."""
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), timeout)

    # -- the member stops -------------------------------------------------------------------------------------

    def close(self) -> None:
        """The member stops: nothing new starts; a rebalance now waits for `closed()`."""
        self.closing = True

    def closed(self) -> None:
        """The stopping member's final drain and commit are over."""
        self._closed.set()

    async def wait_closed(self) -> None:
        await self._closed.wait()
