"""What a key-ordered consumer does when the group moves partitions, and how a group member joins.

On revoke: drain the lost partitions (finish or cancel their in-flight records, commit what is done) before the
rebalance goes on. A member that is stopping holds the rebalance until its own final drain and commit are over,
so that its commit lands while its generation is still the group's (else it is refused and finished records run
again on the next owner). On assign: read what the previous owner finished beyond its commit point (the commit's
metadata) and what this member finished itself before a refused commit, so those records are skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from ticket_enricher.consumers.engine.offsets import decode_done
from ticket_enricher.consumers.engine.partitions import PartitionState

log = logging.getLogger("ticket_enricher.ordered")
_COMMIT_SLACK_MS = 10_000  # beyond drain_timeout, for the revoke's final commit

# the group's committed offsets (offset and metadata) of these partitions
ReadCommitted = Callable[[set[TopicPartition]], Awaitable[dict[TopicPartition, Any]]]


def group_timing(drain_timeout_seconds: float) -> dict[str, int]:
    """A revoke finishes the records in flight (up to `drain_timeout`) and commits before the rebalance goes on,
    so the group must wait that long for this member. aiokafka's default rebalance timeout is the session timeout:
    a member draining a model call of seconds past it is expelled, its commit refused, its records run again
    beside it on the next owner, and its rejoin starts another rebalance. The broker holds the JoinGroup request
    for up to the rebalance timeout, so the request timeout must be longer (as the Java client does)."""
    rebalance_ms = int(drain_timeout_seconds * 1000) + _COMMIT_SLACK_MS
    return {"rebalance_timeout_ms": rebalance_ms, "request_timeout_ms": max(40_000, rebalance_ms + 5_000)}


class Rebalance(ConsumerRebalanceListener):
    def __init__(self, state: PartitionState, *, drain: Callable[[set[TopicPartition]], Awaitable[None]],
                 read_committed: ReadCommitted,
                 on_revoke: Callable[[set[TopicPartition]], None] | None = None) -> None:
        """`on_revoke`: told which partitions a rebalance took away, once they are drained."""
        self._state = state
        self._drain = drain
        self._read_committed = read_committed
        self._on_revoke = on_revoke

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if self._state.closing:
            await self._state.wait_closed()
        elif revoked:
            log.info("partitions revoked: %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in revoked))
            await self._drain(set(revoked))
            if self._on_revoke is not None:
                self._on_revoke(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        committed: dict[TopicPartition, Any] = {}
        if assigned:
            try:
                committed = await self._read_committed(set(assigned))
            except Exception as error:  # not fatal: finished records are then simply run again (idempotent)
                log.warning("could not read which records the previous owner finished: %s", error)
        starts: dict[TopicPartition, tuple[int, set[int]]] = {}
        for tp in assigned:
            c = committed.get(tp)
            if c is not None and c.offset >= 0:
                starts[tp] = (c.offset, decode_done(c.offset, c.metadata))
            else:
                starts[tp] = (0, set())
        self._state.assign(starts)
        if assigned:
            log.info("partitions assigned: %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned))


class GroupSubscription:
    """How a group member reads: it subscribes to its topics, the group assigns the partitions (with `Rebalance`),
    and it reads on for as long as it runs. The bounded reader (`engine.bounded.Bounds`) reads otherwise."""

    def __init__(self, topics: Iterable[str]) -> None:
        self.topics = list(topics)

    async def join(self, consumer: AIOKafkaConsumer, listener: Rebalance) -> None:
        consumer.subscribe(self.topics, listener=listener)
        await consumer.start()

    def stop_offset(self, tp: TopicPartition) -> int | None:
        """Where reading `tp` ends (excluded): never."""
        return None

    async def fetched(self, consumer: AIOKafkaConsumer) -> bool:
        """After each poll; True when a partition was read to its end: never."""
        return False

    def held_back(self) -> set[TopicPartition]:
        """Partitions back-pressure must not resume: none."""
        return set()
