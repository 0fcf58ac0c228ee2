"""Batch mode of the key-ordered consumer, for handlers that do a whole fetch at once (a deterministic planner
with group commit: one store transaction and one round of publishes per batch).

Records accepted while no batch runs wait in fetch order; the batch task takes them all, drops those of lost
partitions, and hands them to `batch_handler`, which must finish every one of them (outcome, delay or dead-letter
copy acknowledged) before it returns. Then every record of the batch is done. Batches run one after another, so
records of one key are handled in offset order across batches, and a handler that processes each key's records in
the order given keeps them in order within one. A handler that raises is retried in place with the whole batch
(its effects are idempotent), after `retry_wait(attempt)` like a single record. On a revoke or `stop()` the
running batch has `drain_timeout` to finish before it is cancelled and left to the next owner.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING

from aiokafka import TopicPartition

if TYPE_CHECKING:
    from ticket_enricher.consumers.engine.ordered import KeyOrderedConsumer
    from ticket_enricher.consumers.engine.records import Record

log = logging.getLogger("ticket_enricher.ordered")

BatchHandler = Callable[[list["Record"]], Awaitable[object]]


class Batches:
    """The pending records and the batch task of one consumer in batch mode."""

    def __init__(self, owner: KeyOrderedConsumer, handler: BatchHandler) -> None:
        self.owner = owner
        self.handler = handler
        self.pending: list[Record] = []
        self.running = 0  # records in the batch being handled
        self._work = asyncio.Event()

    def accept(self, record: Record) -> None:
        self.pending.append(record)
        self._work.set()

    async def run(self) -> None:
        """The batch task: take what is pending, handle it, repeat (cancelled by `stop()`)."""
        owner = self.owner
        while True:
            await self._work.wait()
            self._work.clear()
            while self.pending and not owner._stopping:
                batch, self.pending = self.pending, []
                live = [r for r in batch if not owner._gone(TopicPartition(r.topic, r.partition))]
                owner._buffered -= len(batch) - len(live)
                if live:
                    handling = asyncio.create_task(self._handle(live), name=f"{owner.group_id}-batch")
                    await asyncio.shield(handling)  # stop() cancels this loop; the batch itself drains

    async def _handle(self, batch: list[Record]) -> None:
        owner = self.owner
        partitions = {TopicPartition(r.topic, r.partition) for r in batch}
        task = asyncio.current_task()
        assert task is not None
        keys: list[Hashable] = [("batch", tp) for tp in partitions]
        for key, tp in zip(keys, partitions, strict=True):
            owner._running[key] = tp  # so a drain waits for (and at its timeout cancels) this batch
            owner._key_tasks[key] = task
        self.running = len(batch)
        owner.peak_in_flight = max(owner.peak_in_flight, len(batch))
        owner._in_flight_gauge.set(len(batch))
        try:
            attempt = 1
            while True:
                try:
                    await self.handler(batch)
                    break
                except Exception:
                    wait = owner.retry_wait(attempt)
                    log.exception("batch of %d records failed; retrying in %.1fs", len(batch), wait)
                if owner._stopping or all(owner._gone(tp) for tp in partitions):
                    return  # left to the partitions' next owner
                await asyncio.sleep(wait)
                attempt += 1
            for record in batch:
                offsets = owner._offsets.get(TopicPartition(record.topic, record.partition))
                if offsets is not None:  # a revoking partition is still here: its drain commits these
                    offsets.done(record.offset)
            owner._dirty.set()
        finally:
            owner._buffered -= len(batch)  # done, or abandoned to the next owner
            for key in keys:
                owner._running.pop(key, None)
                if owner._key_tasks.get(key) is task:
                    del owner._key_tasks[key]
            self.running = 0
            owner._in_flight_gauge.set(0)
            owner._progress.set()
