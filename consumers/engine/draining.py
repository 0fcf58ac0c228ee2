"""How a key-ordered consumer gives partitions up: on a revoke, and on `stop()` for all of them (it then leaves
the group).

Waiting records of those partitions are dropped, in-flight ones get `drain_timeout` to finish (then are cancelled
and left to the next owner), and what is done is committed before the partitions move: a rebalance waits for this
(the revoke listener, or for a stopping member the listener's wait on `PartitionState.closed`). Should that commit
fail anyway, what was finished is remembered (`PartitionState.release`), and skipped if the partitions come back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from typing import Protocol

from aiokafka import TopicPartition

from ticket_enricher.consumers.engine.committer import Committer
from ticket_enricher.consumers.engine.partitions import PartitionState

log = logging.getLogger("ticket_enricher.ordered")


class Work(Protocol):
    """What a drain needs of the dispatcher (`engine.dispatch.KeyDispatch` or `engine.batches.Batches`)."""

    def drop_waiting(self, partitions: set[TopicPartition]) -> None: ...

    def cancel(self, keys: list[Hashable]) -> None: ...


async def drain(partitions: set[TopicPartition], *, state: PartitionState, work: Work, committer: Committer,
                timeout: float) -> None:
    """Drop waiting records of these partitions, finish or cancel their in-flight ones, commit, forget them."""
    state.revoke(partitions)
    work.drop_waiting(partitions)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while stuck := state.running_in(partitions):
        left = deadline - loop.time()
        if left <= 0:
            log.warning("%d records still running after %.0fs; leaving them to the next owner", len(stuck), timeout)
            work.cancel(stuck)
            break
        await state.wait_progress(left)
    await committer.commit(state.holding(partitions))
    state.release(partitions)
