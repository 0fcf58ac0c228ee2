"""The worker's lifespan: build the clients once, wire the consumers, start, and stop in reverse order.

The ticket topic is consumed by `KeyOrderedConsumer` (N records in flight, in order per account; see
`consumers.engine.ordered` for why that is not a FastStream subscriber), deletion requests by another one in group
`<group_id>.privacy` (`consumers.flows.deletions`), and each flow's own delay tiers by `DelayTiers`, which hands a
record back to the flow whose tiers it was read from (`config.routes`). Records read from an input topic pass
`consumers.flows.provenance.arrival` first: headers a producer set in the worker's name are dropped and counted.
"""

from __future__ import annotations

import asyncio
import logging

from agents.factory import build_agent, build_model
from agents.model import Model
from config.settings import Settings
from consumers import metrics
from consumers.engine import ordered
from consumers.engine.connection import client_options
from consumers.flows.delays import DelayTiers
from consumers.flows.deletions import DeletionFlow
from consumers.flows.provenance import Signer, arrival
from consumers.engine.publishing import KafkaPublisher
from consumers.engine.records import Record
from consumers.flows.tickets import TicketFlow
from consumers.operations.topics import check_topics
from memory.factory import check_store, open_store
from memory.store import MemoryStore
from memory.timed import TimedStore

log = logging.getLogger("ticket_enricher.worker")


def signer_from(settings: Settings) -> Signer | None:
    """The provenance signer when `retry.sign_provenance` is on (the key comes from the environment)."""
    if not settings.retry.sign_provenance or settings.provenance_key is None:
        return None
    return Signer(settings.provenance_key.get_secret_value().encode())


class Worker:
    """One consumer-group member processing `support.tickets`."""

    def __init__(self, settings: Settings, *, model: Model | None = None, store: MemoryStore | None = None) -> None:
        self.settings = settings
        self.model = model or build_model(settings, metrics.LIMITER_LEVEL.labels("model").set)
        self._own_store = store is None
        self.store = store or open_store(settings)
        self.publisher = KafkaPublisher(client_options(settings), settings.kafka.client_id)
        timed: MemoryStore = TimedStore(  # type: ignore[assignment]
            self.store, lambda operation, seconds: metrics.MEMORY_LATENCY.labels(operation).observe(seconds))
        routes = settings.routes()
        signer = signer_from(settings)
        self.flow = TicketFlow(
            agent=build_agent(settings, timed, self.model), publisher=self.publisher, settings=settings, signer=signer
        )
        self.deletion_flow = DeletionFlow(store=timed, publisher=self.publisher, settings=settings, signer=signer)
        self.delays = DelayTiers(settings, routes.tickets, self.flow.handle, signer)
        self.deletion_delays = DelayTiers(settings, routes.deletions, self.deletion_flow.handle, signer)

        async def ticket(record: Record) -> object:
            return await self.flow.handle(*arrival(record))

        async def deletion(record: Record) -> object:
            return await self.deletion_flow.handle(*arrival(record))

        self.tickets = ordered.from_settings(
            settings, group_id=routes.tickets.group, topics=[routes.tickets.topic], handler=ticket,
            client_id=settings.kafka.client_id, auto_offset_reset=settings.kafka.auto_offset_reset,
        )
        self.deletions = ordered.from_settings(
            settings, group_id=routes.deletions.group, topics=[routes.deletions.topic], handler=deletion,
            client_id=f"{settings.kafka.client_id}-privacy", auto_offset_reset="earliest",
        )

    async def start(self) -> None:
        await check_topics(self.settings)
        await check_store(self.store)
        await self.publisher.start()
        await self.tickets.start()
        await self.deletions.start()
        await self.delays.start()
        await self.deletion_delays.start()
        log.info("worker started: group %s on %s", self.settings.kafka.group_id, self.settings.topics.tickets)

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
            await self.tickets.stop()
            await self.deletions.stop()
            await self.delays.stop()
            await self.deletion_delays.stop()
        finally:
            await self.publisher.stop()
            if self._own_store:
                await self.store.close()

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
