"""What a key-ordered consumer does when the group moves partitions.

On revoke: drain the lost partitions (finish or cancel their in-flight records, commit what is done) before the
rebalance goes on. A member that is stopping holds the rebalance until its own final drain and commit are over,
so that its commit lands while its generation is still the group's (else it is refused and finished records run
again on the next owner). On assign: read what the previous owner finished beyond its commit point (the commit's
metadata) and what this member finished itself before a refused commit, so those records are skipped.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiokafka import ConsumerRebalanceListener, TopicPartition

from ticket_enricher.consumers.engine.offsets import PartitionOffsets, decode_done

if TYPE_CHECKING:
    from ticket_enricher.consumers.engine.ordered import KeyOrderedConsumer

log = logging.getLogger("ticket_enricher.ordered")
_COMMIT_SLACK_MS = 10_000  # beyond drain_timeout, for the revoke's final commit


def group_timing(drain_timeout_seconds: float) -> dict[str, int]:
    """A revoke finishes the records in flight (up to `drain_timeout`) and commits before the rebalance goes on,
    so the group must wait that long for this member. aiokafka's default rebalance timeout is the session timeout:
    a member draining a model call of seconds past it is expelled, its commit refused, its records run again
    beside it on the next owner, and its rejoin starts another rebalance. The broker holds the JoinGroup request
    for up to the rebalance timeout, so the request timeout must be longer (as the Java client does)."""
    rebalance_ms = int(drain_timeout_seconds * 1000) + _COMMIT_SLACK_MS
    return {"rebalance_timeout_ms": rebalance_ms, "request_timeout_ms": max(40_000, rebalance_ms + 5_000)}


class Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: KeyOrderedConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if self.owner._stopping:
            await self.owner._stop_drained.wait()
        elif revoked:
            log.info("partitions revoked: %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in revoked))
            await self.owner._drain(set(revoked))
            if self.owner.on_revoke is not None:
                self.owner.on_revoke(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        owner = self.owner
        owner.assignments += 1
        committed: dict[TopicPartition, Any] = {}
        if assigned and owner._admin is not None:
            try:
                committed = await owner._admin.list_consumer_group_offsets(owner.group_id,
                                                                           partitions=list(assigned))
            except Exception as error:  # not fatal: finished records are then simply run again (idempotent)
                log.warning("could not read which records the previous owner finished: %s", error)
        unsaved, owner._unsaved = owner._unsaved, {}
        for tp in assigned:
            c = committed.get(tp)
            start = c.offset if c is not None and c.offset >= 0 else 0
            done = decode_done(c.offset, c.metadata) if c is not None and c.offset >= 0 else set()
            if tp in unsaved:  # ours again: what this member finished is done, committed or not
                done |= unsaved[tp].finished_since(start)
            owner._offsets[tp] = PartitionOffsets(already_done=done)
            owner._revoking.discard(tp)
        if assigned:
            log.info("partitions assigned: %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned))
