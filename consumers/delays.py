"""The delay tiers' consumers: a record is processed only when due, many at once, and waiting never stops polling.

One `KeyOrderedConsumer` per tier topic, all in the group `<group_id>.delays`, with a due-time gate: a record
waits (without holding an in-flight slot) until its `x-retry-due-ms`, then runs through the flow of the topic it
first arrived on (`x-retry-original-topic`: the ticket flow, or the deletion flow for deletion requests) as a
fresh record, up to `worker.max_in_flight` at once. Records of one tier share one delay, so they come due in
offset order and waiting in order per account is correct; each tier has its own buffer, so a full 300 s tier
never holds back the 5 s tier. Order is kept per (tier, account); across tiers there is none to keep.

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

from config.settings import Settings
from consumers import metrics, ordered, retries
from consumers.records import Record
from consumers.tickets import TicketFlow


def _tier_key(record: Record) -> Hashable:
    return (record.topic, ordered.ordering_key(record))


class DelayConsumer:
    def __init__(self, settings: Settings, flow: TicketFlow,
                 others: dict[str, Callable[[Record], Awaitable[object]]] | None = None) -> None:
        """`others`: flows of further source topics by name; every other record goes to the ticket flow."""
        self.settings = settings
        self.flow = flow
        self.others = others or {}
        self.group_id = f"{settings.kafka.group_id}.delays"
        self.lateness_ms: list[tuple[str, int]] = []  # (tier topic, start of processing minus due time)
        self.tiers = [
            ordered.from_settings(
                settings, group_id=self.group_id, topics=[topic], handler=self._handle,
                client_id=f"{settings.kafka.client_id}-delays", auto_offset_reset="earliest",
                key_of=_tier_key, due_ms=retries.due_ms,
            )
            for topic in settings.delay_topics()
        ]

    async def _handle(self, record: Record) -> object:
        self.lateness_ms.append((record.topic, int(time.time() * 1000) - retries.due_ms(record)))
        handle = self.others.get(retries.original(record)["topic"], self.flow.handle)
        result = await handle(record)
        metrics.EVENTS_RETRIED.labels(record.topic).inc()
        return result

    async def start(self) -> None:
        for tier in self.tiers:
            await tier.start()

    async def stop(self) -> None:
        await asyncio.gather(*(tier.stop() for tier in self.tiers))
