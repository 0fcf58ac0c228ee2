"""Batch mode of the key-ordered consumer, for handlers that do a whole fetch at once (a deterministic planner
with group commit: one store transaction and one round of publishes per batch).

Records accepted while no batch runs wait in fetch order; the batch task takes them all, drops those of lost
partitions, and hands them to `batch_handler`, which must finish every one of them (outcome, delay or dead-letter
copy acknowledged) before it returns. Then every record of the batch is done. Batches run one after another, so
records of one key are handled in offset order across batches, and a handler that processes each key's records in
the order given keeps them in order within one. A handler that raises is retried in place with the whole batch
(its effects are idempotent), after `retry_wait(attempt)` like a single record. On a revoke or `stop()` the
running batch has `drain_timeout` to finish before it is cancelled and left to the next owner.

The consumer uses it as it uses `engine.dispatch.KeyDispatch`: `accept`, `drop_waiting`, `cancel`, `close`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any

from aiokafka import TopicPartition
from prometheus_client import Gauge

from ticket_enricher.consumers.engine.partitions import PartitionState
from ticket_enricher.consumers.engine.records import Record

log = logging.getLogger("ticket_enricher.ordered")

BatchHandler = Callable[[list[Record]], Awaitable[object]]


class Batches:
    """The pending records and the batch task of one consumer in batch mode."""

    def __init__(self, state: PartitionState, handler: BatchHandler, *, retry_wait: Callable[[int], float],
                 name: str, in_flight_gauge: Gauge) -> None:
        self._state = state
        self.handler = handler
        self._retry_wait = retry_wait
        self._name = name
        self._gauge = in_flight_gauge
        self.pending: list[Record] = []
        self.running = 0  # records in the batch being handled
        self.buffered = 0  # records accepted and not done: pending or in the running batch
        self.peak_in_flight = 0
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}  # ("batch", partition) -> the running batch's task
        self._work = asyncio.Event()

    @property
    def in_flight(self) -> int:
        return self.running

    @property
    def waiting(self) -> int:
        """What back-pressure counts: the pending records (the next batch is fetched while one is written, so a
        member holds up to twice `max_buffered`)."""
        return self.buffered - self.running

    def background(self) -> list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]]:
        return [(f"{self._name}-batches", self.run)]

    def accept(self, record: Record) -> None:
        self.buffered += 1
        self.pending.append(record)
        self._work.set()

    def drop_waiting(self, partitions: set[TopicPartition]) -> None:
        kept = [r for r in self.pending if TopicPartition(r.topic, r.partition) not in partitions]
        self.buffered -= len(self.pending) - len(kept)
        self.pending = kept

    def cancel(self, keys: list[Hashable]) -> None:
        for key in keys:
            if (task := self._tasks.get(key)) is not None:
                task.cancel()

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def run(self) -> None:
        """The batch task: take what is pending, handle it, repeat (cancelled by `stop()`)."""
        state = self._state
        while True:
            await self._work.wait()
            self._work.clear()
            while self.pending and not state.closing:
                batch, self.pending = self.pending, []
                live = [r for r in batch if not state.gone(TopicPartition(r.topic, r.partition))]
                self.buffered -= len(batch) - len(live)
                if live:
                    handling = asyncio.create_task(self._handle(live), name=f"{self._name}-batch")
                    await asyncio.shield(handling)  # stop() cancels this loop; the batch itself drains

    async def _handle(self, batch: list[Record]) -> None:
        state = self._state
        partitions = {TopicPartition(r.topic, r.partition) for r in batch}
        task = asyncio.current_task()
        assert task is not None
        keys: list[Hashable] = [("batch", tp) for tp in partitions]
        for key, tp in zip(keys, partitions, strict=True):
            state.started(key, tp)  # so a drain waits for (and at its timeout cancels) this batch
            self._tasks[key] = task
        self.running = len(batch)
        self.peak_in_flight = max(self.peak_in_flight, len(batch))
        self._gauge.set(len(batch))
        try:
            attempt = 1
            while True:
                try:
                    await self.handler(batch)
                    break
                except Exception:
                    wait = self._retry_wait(attempt)
                    log.exception("batch of %d records failed; retrying in %.1fs", len(batch), wait)
                if state.closing or all(state.gone(tp) for tp in partitions):
                    return  # left to the partitions' next owner
                await asyncio.sleep(wait)
                attempt += 1
            for record in batch:  # a revoking partition is still held: its drain commits these
                state.done(TopicPartition(record.topic, record.partition), record.offset)
        finally:
            self.buffered -= len(batch)  # done, or abandoned to the next owner
            for key in keys:
                if self._tasks.get(key) is task:
                    del self._tasks[key]
            self.running = 0
            self._gauge.set(0)
            for key in keys:
                state.finished(key)
