"""A route's delay tiers: a record is processed only when due, many at once, and waiting never stops polling.

One `KeyOrderedConsumer` per tier topic, all in the route's tier group (`<group_id>.delays` for tickets,
`<group_id>.privacy.delays` for deletion requests), with a due-time gate: a record waits (without holding an
in-flight slot) until it is due, then runs through **its route's flow**, the one whose tiers it was read from:
which flow runs is decided by the topic, never by a header. Its provenance (attempts, where it first arrived,
when it is due) is read from the headers the worker wrote, bounded by the route (`consumers.flows.provenance`), so a
forged or corrupted record can neither skip its retries nor hold its partition for longer than the tier allows.
Records of one tier share one delay, so they come due in offset order and waiting in order per account is
correct; each tier has its own buffer, so a full 300 s tier never holds back the 5 s tier.

Why not a FastStream subscriber: a handler that waits would sleep inside the poll loop (the member is evicted
after `max_poll_interval_ms`) or nack at once (no delay at all).

Acknowledgement: as for the input topic, a record's offset is committed once it and every record before it
are handled (outcome, next delay or dead-letter copy acknowledged by the broker); a crash replays the rest and
the flow's effects are idempotent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING

from ticket_enricher.config.routes import Route, Tier
from ticket_enricher.consumers import metrics
from ticket_enricher.consumers.engine.dispatch import ordering_key
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows import provenance
from ticket_enricher.consumers.flows.provenance import Provenance
from ticket_enricher.core.budget import retrying

if TYPE_CHECKING:
    from ticket_enricher.consumers.lifespan import Deps

FlowHandler = Callable[[Record, Provenance], Awaitable[object]]


def _tier_key(record: Record) -> Hashable:
    return (record.topic, ordering_key(record))


class DelayTiers:
    def __init__(self, deps: Deps, route: Route, handle: FlowHandler,
                 gate: Callable[[], float] | None = None) -> None:
        """`gate`: the flow's dependency every record needs (the model's breaker): no record starts while shut."""
        self.route = route
        self.handle = handle
        self.signer = deps.signer
        self.lateness_ms: list[tuple[str, int]] = []  # (tier topic, start of processing minus due time)
        self.tiers = [
            deps.consumer(group=route.tier_group, topics=[tier.topic], handler=self._handler(tier),
                          role=f"{route.flow}-delays", key_of=_tier_key, due_ms=self._due(tier), gate=gate)
            for tier in route.tiers
        ]

    def _due(self, tier: Tier) -> Callable[[Record], int]:
        return lambda record: provenance.due_ms(record, self.route, tier, int(time.time() * 1000))

    def _handler(self, tier: Tier) -> Callable[[Record], Awaitable[object]]:
        async def handle(record: Record) -> object:
            now = int(time.time() * 1000)
            self.lateness_ms.append((tier.topic, now - provenance.due_ms(record, self.route, tier, now)))
            with retrying():  # the event its account may be parked for (`core.budget`)
                result = await self.handle(record, provenance.from_tier(record, self.route, self.signer))
            metrics.EVENTS_RETRIED.labels(tier.topic).inc()
            return result

        return handle

    async def start(self) -> None:
        for tier in self.tiers:
            await tier.start()

    async def stop(self) -> None:
        await asyncio.gather(*(tier.stop() for tier in self.tiers))
