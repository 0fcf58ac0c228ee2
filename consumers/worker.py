"""The worker's lifespan: build the clients once, wire the consumers, start, and stop in reverse order.

The ticket topic is consumed by `KeyOrderedConsumer` (N records in flight, in order per account; see
`consumers.ordered` for why that is not a FastStream subscriber), deletion requests by another one in group
`<group_id>.privacy` (`consumers.deletions`), and the delay tiers by `DelayConsumer`, which hands each record
back to the flow of the topic it came from.
"""

from __future__ import annotations

import asyncio
import logging

from agents.factory import build_agent, build_model
from agents.model import Model
from config.settings import Settings
from consumers import metrics, ordered
from consumers.connection import client_options
from consumers.delays import DelayConsumer
from consumers.deletions import DeletionFlow
from consumers.publishing import KafkaPublisher
from consumers.tickets import TicketFlow
from consumers.topics import check_topics
from memory.factory import check_store, open_store
from memory.store import MemoryStore
from memory.timed import TimedStore

log = logging.getLogger("ticket_enricher.worker")


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
        self.flow = TicketFlow(
            agent=build_agent(settings, timed, self.model), publisher=self.publisher, settings=settings
        )
        self.deletion_flow = DeletionFlow(store=timed, publisher=self.publisher, settings=settings)
        self.delays = DelayConsumer(settings, self.flow,
                                    {settings.topics.deletion_requests: self.deletion_flow.handle})
        self.tickets = ordered.from_settings(
            settings, group_id=settings.kafka.group_id, topics=[settings.topics.tickets], handler=self.flow.handle,
            client_id=settings.kafka.client_id, auto_offset_reset=settings.kafka.auto_offset_reset,
        )
        self.deletions = ordered.from_settings(
            settings, group_id=f"{settings.kafka.group_id}.privacy", topics=[settings.topics.deletion_requests],
            handler=self.deletion_flow.handle, client_id=f"{settings.kafka.client_id}-privacy",
            auto_offset_reset="earliest",
        )

    async def start(self) -> None:
        await check_topics(self.settings)
        await check_store(self.store)
        await self.publisher.start()
        await self.tickets.start()
        await self.deletions.start()
        await self.delays.start()
        log.info("worker started: group %s on %s", self.settings.kafka.group_id, self.settings.topics.tickets)

    async def failed(self) -> BaseException:
        """The first error that stopped a consumer of this member from making progress."""
        watches = [asyncio.ensure_future(c.failed()) for c in (self.tickets, self.deletions, *self.delays.tiers)]
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
        finally:
            await self.publisher.stop()
            if self._own_store:
                await self.store.close()

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
