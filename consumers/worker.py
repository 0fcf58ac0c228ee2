"""The worker: one consumer-group member running every route's flow on one set of dependencies.

The ticket topic is consumed by a `KeyOrderedConsumer` (N records in flight, in order per account; see
`consumers.engine.ordered` for why that is not a FastStream subscriber), deletion requests by another one in group
`<group_id>.privacy`, and each flow's own delay tiers by `DelayTiers`, which hands a record back to the flow whose
tiers it was read from (`config.routes`). Records read from an input topic pass `consumers.flows.provenance.arrival`
first: headers a producer set in the worker's name are dropped and counted. Start order: inputs, then tiers; stop
in the same order, then the lifespan closes the clients.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager

from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.engine.ordered import KeyOrderedConsumer
from ticket_enricher.consumers.engine.publishing import Publisher
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.delays import DelayTiers
from ticket_enricher.consumers.flows.deletions import DeletionFlow
from ticket_enricher.consumers.flows.provenance import arrival
from ticket_enricher.consumers.flows.tickets import TicketFlow
from ticket_enricher.consumers.lifespan import Deps, lifespan
from ticket_enricher.core.breaker import Breaker
from ticket_enricher.memory.store import MemoryStore

log = logging.getLogger("ticket_enricher.worker")


class Worker:
    """`async with Worker(settings)`: its own lifespan; or `Worker(settings, deps)` on a lifespan entered elsewhere."""

    def __init__(self, settings: Settings, deps: Deps | None = None) -> None:
        self.settings = settings
        self._deps = deps
        self._lifespan: AbstractAsyncContextManager[Deps] | None = None

    @property
    def deps(self) -> Deps:
        assert self._deps is not None, "start() first"
        return self._deps

    @property
    def store(self) -> MemoryStore:
        return self.deps.raw_store

    @property
    def publisher(self) -> Publisher:
        return self.deps.publisher

    @property
    def model_breaker(self) -> Breaker | None:
        """The model's breaker once started (None before, or for the rules)."""
        return self._deps.breaker if self._deps is not None else None

    async def start(self) -> None:
        if self._deps is None:
            self._lifespan = lifespan(self.settings)
            self._deps = await self._lifespan.__aenter__()
        deps, routes = self._deps, self._deps.routes
        self.flow: TicketFlow = deps.ticket_flow()
        self.deletion_flow: DeletionFlow = deps.deletion_flow()
        self.delays = DelayTiers(deps, routes.tickets, self.flow.handle,
                                 gate=deps.breaker.retry_in if deps.breaker else None)
        self.deletion_delays = DelayTiers(deps, routes.deletions, self.deletion_flow.handle)

        async def ticket(record: Record) -> object:
            return await self.flow.handle(*arrival(record))

        async def tickets(records: list[Record]) -> object:
            return await self.flow.process([arrival(r) for r in records])

        async def deletion(record: Record) -> object:
            return await self.deletion_flow.handle(*arrival(record))

        self.tickets: KeyOrderedConsumer = deps.consumer(
            group=routes.tickets.group, topics=[routes.tickets.topic], handler=ticket,
            auto_offset_reset=self.settings.kafka.auto_offset_reset,
            batch_handler=tickets if self.flow.whole_batches else None,
            on_revoke=lambda _: self.flow.revoked(), gate=deps.breaker.retry_in if deps.breaker else None)
        self.deletions: KeyOrderedConsumer = deps.consumer(
            group=routes.deletions.group, topics=[routes.deletions.topic], handler=deletion, role="privacy")
        try:
            await self.tickets.start()
            await self.deletions.start()
            await self.delays.start()
            await self.deletion_delays.start()
        except BaseException:
            await self.stop()
            raise
        log.info("worker started: group %s on %s", routes.tickets.group, routes.tickets.topic)

    async def failed(self) -> BaseException:
        """The first error that stopped a consumer of this member from making progress."""
        consumers = (self.tickets, self.deletions, *self.delays.tiers, *self.deletion_delays.tiers)
        watches = [asyncio.ensure_future(c.failed()) for c in consumers]
        try:
            done, _ = await asyncio.wait(watches, return_when=asyncio.FIRST_COMPLETED)
            return done.pop().result()
        finally:
            for watch in watches:
                watch.cancel()

    async def stop(self) -> None:
        try:
            for part in ("tickets", "deletions", "delays", "deletion_delays"):
                if hasattr(self, part):
                    await getattr(self, part).stop()
        finally:
            if self._lifespan is not None:
                lifespan_, self._lifespan = self._lifespan, None
                await lifespan_.__aexit__(None, None, None)

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
