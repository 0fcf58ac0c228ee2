"""The delay tiers' consumer: a record is processed only when due, and waiting never stops the poll loop.

Why not a FastStream subscriber: a handler that waits would sleep inside the poll loop (the member is evicted
after `max_poll_interval_ms`) or nack at once (no delay at all). This consumer holds fetched records in memory,
pauses a partition whose head is not due yet, keeps polling (so heartbeats and the poll interval stay healthy),
and resumes it when the head comes due. Records of one tier share one delay, so they come due in offset order
and waiting on the head is correct.

Acknowledgement: a record's offset is committed (explicitly, offset + 1) after the ticket flow has handled it,
i.e. after its outcome, next delay or dead-letter copy is acknowledged. A crash before that replays it; the
flow's effects are idempotent. A failure to publish seeks back to the record and tries again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from config.settings import Settings
from consumers import metrics, retries
from consumers.records import Record
from consumers.tickets import TicketFlow

log = logging.getLogger("ticket_enricher.delays")
_IDLE_POLL_MS = 500


class DelayConsumer:
    def __init__(self, settings: Settings, flow: TicketFlow) -> None:
        self.settings = settings
        self.flow = flow
        self.group_id = f"{settings.kafka.group_id}.delays"
        self._buffers: dict[TopicPartition, deque[Record]] = {}
        self._paused: set[TopicPartition] = set()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.lateness_ms: list[tuple[str, int]] = []  # (tier topic, start of processing minus due time)

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka.bootstrap_servers, group_id=self.group_id,
            client_id=f"{self.settings.kafka.client_id}-delays", enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self._consumer.subscribe(list(self.settings.delay_topics()), listener=_Forget(self))
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name="delay-tiers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._consumer is not None:
            await self._consumer.stop()

    def forget(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            self._buffers.pop(tp, None)
            self._paused.discard(tp)

    async def _run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while True:
            next_due = await self._process_due(consumer)
            wait_ms = _IDLE_POLL_MS if next_due is None else max(0, min(_IDLE_POLL_MS, next_due - _now_ms()))
            batches = await consumer.getmany(timeout_ms=wait_ms, max_records=500)
            for tp, records in batches.items():
                self._buffers.setdefault(tp, deque()).extend(Record.from_kafka(r) for r in records)

    async def _process_due(self, consumer: AIOKafkaConsumer) -> int | None:
        """Handle every head record that is due; pause partitions whose head is not. Returns the next due time."""
        next_due: int | None = None
        for tp, queue in list(self._buffers.items()):
            while queue:
                record = queue[0]
                due = retries.due_ms(record)
                now = _now_ms()
                if due > now:
                    next_due = due if next_due is None else min(next_due, due)
                    if tp not in self._paused:
                        consumer.pause(tp)
                        self._paused.add(tp)
                    break
                try:
                    await self.flow.handle(record)
                    await consumer.commit({tp: record.offset + 1})
                except (CommitFailedError, IllegalStateError):
                    log.warning("lost %s during a rebalance; its new owner replays from the last commit", tp)
                    self.forget({tp})
                    break
                except Exception:
                    log.exception("could not handle a delayed record; retrying it", extra={"offset": record.offset})
                    consumer.seek(tp, record.offset)
                    queue.clear()
                    await asyncio.sleep(1.0)
                    break
                queue.popleft()
                self.lateness_ms.append((tp.topic, now - due))
                metrics.EVENTS_RETRIED.labels(tp.topic).inc()
            if not queue and tp in self._paused:
                self._paused.discard(tp)
                if tp in consumer.assignment():
                    consumer.resume(tp)
        return next_due


class _Forget(ConsumerRebalanceListener):  # type: ignore[misc]
    """Drop what was buffered for partitions that move away; their new owner starts from the last commit."""

    def __init__(self, owner: DelayConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.owner.forget(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None


def _now_ms() -> int:
    return int(time.time() * 1000)
