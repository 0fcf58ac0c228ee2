"""Publish ticket events as a support desk would: JSON values keyed by account, with a plain aiokafka producer."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaProducer

from ticket_enricher.core.events import TicketEvent


async def publish_events(producer: AIOKafkaProducer, topic: str, events: Iterable[TicketEvent]) -> int:
    """Send every event (key = account_id), wait until all are acknowledged, and return how many."""
    sent = 0
    for event in events:
        await producer.send(topic, event.model_dump_json().encode(), key=event.account_id.encode())
        sent += 1
    await producer.flush()
    return sent
