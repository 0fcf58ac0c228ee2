"""The worker's lifespan: build the clients once, wire the ticket subscriber, start, and stop in reverse order.

FastStream owns the subscription (consumer group, polling, acknowledgement); records are handed to the flow as
neutral `Record`s, parsed tolerantly so that no byte sequence can make the framework itself fail on a record.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from agents.factory import build_agent, build_model
from agents.model import Model
from config.settings import Settings
from consumers import metrics
from consumers.delays import DelayConsumer
from consumers.publishing import KafkaPublisher
from consumers.records import Record
from consumers.tickets import TicketFlow
from consumers.topics import check_topics
from memory.factory import check_store, open_store
from memory.store import MemoryStore

log = logging.getLogger("ticket_enricher.worker")


async def _tolerant_parser(record: Any, original: Any) -> Any:
    """FastStream's parser UTF-8-decodes every header; give it a sanitized copy and keep the raw record."""
    safe_headers = [(k, (v or b"").decode("utf-8", "replace").encode()) for k, v in record.headers]
    message = await original(dataclasses.replace(record, headers=safe_headers))
    message.raw_message = record
    return message


async def _raw_body(message: Any) -> bytes:
    return bytes(message.body or b"")


class Worker:
    """One consumer-group member processing `support.tickets`."""

    def __init__(self, settings: Settings, *, model: Model | None = None, store: MemoryStore | None = None) -> None:
        self.settings = settings
        self.model = model or build_model(settings, metrics.LIMITER_LEVEL.labels("model").set)
        self._own_store = store is None
        self.store = store or open_store(settings)
        self.publisher = KafkaPublisher(settings.kafka.bootstrap_servers, settings.kafka.client_id)
        self.flow = TicketFlow(
            agent=build_agent(settings, self.store, self.model), publisher=self.publisher, settings=settings
        )
        self.delays = DelayConsumer(settings, self.flow)
        self.broker = KafkaBroker(
            settings.kafka.bootstrap_servers, client_id=settings.kafka.client_id,
            logger=logging.getLogger("ticket_enricher.faststream"),
        )
        subscriber = self.broker.subscriber(
            settings.topics.tickets,
            group_id=settings.kafka.group_id,
            auto_offset_reset=settings.kafka.auto_offset_reset,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            parser=_tolerant_parser,
            decoder=_raw_body,
            title="ticket-events",
        )

        @subscriber
        async def on_ticket(body: bytes, message: KafkaMessage) -> None:
            await self.flow.handle(Record.from_kafka(message.raw_message))

    async def start(self) -> None:
        await check_topics(self.settings)
        await check_store(self.store)
        await self.publisher.start()
        await self.broker.start()
        await self.delays.start()
        log.info("worker started: group %s on %s", self.settings.kafka.group_id, self.settings.topics.tickets)

    async def stop(self) -> None:
        try:
            await self.delays.stop()
            await self.broker.stop()
        finally:
            await self.publisher.stop()
            if self._own_store:
                await self.store.close()

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
