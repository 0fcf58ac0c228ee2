"""Per-key dispatch of the key-ordered consumer: up to N records in flight, never two of one key at once.

Records are queued per key; one task per busy key runs its records in offset order; a semaphore bounds the
records in flight across keys to N. A record with a due time (`due_ms`, a delay tier's) is not started before it:
its key waits for it without holding a slot. A handler that raises (its outcome could not be published) runs again
after `retry_wait(attempt)` seconds: its key waits, other keys go on, its partition's commit point stays behind
it. A record of a partition that is being given up (`PartitionState.gone`) is not started, nor is any record
while the consumer's gate is shut (the model's breaker is open); one held in place by its handler (`Held`) waits
for the gate.

Batch mode (`engine.batches`) offers the same interface to the consumer: `accept`, `drop_waiting`, `cancel`,
`close` and the counts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any

from aiokafka import TopicPartition
from prometheus_client import Gauge

from ticket_enricher.consumers.engine.failure import Failure
from ticket_enricher.consumers.engine.partitions import PartitionState
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.core.errors import Held

log = logging.getLogger("ticket_enricher.ordered")

Handler = Callable[[Record], Awaitable[object]]
_DUE_CHECK_SECONDS = 0.5  # a waiting record notices a revoke or stop this soon


def ordering_key(record: Record) -> Hashable:
    """Records without a key are ordered per partition."""
    return record.key if record.key is not None else (record.topic, record.partition)


class KeyDispatch:
    def __init__(self, state: PartitionState, handler: Handler, *, retry_wait: Callable[[int], float],
                 max_in_flight: int, key_of: Callable[[Record], Hashable] = ordering_key,
                 due_ms: Callable[[Record], int] | None = None, failure: Failure, in_flight_gauge: Gauge,
                 gate: Callable[[], float] | None = None) -> None:
        self._state = state
        self.handler = handler
        self._retry_wait = retry_wait
        self._key_of = key_of
        self._due_ms = due_ms
        self._failure = failure
        self._gauge = in_flight_gauge
        self._gate = gate
        self._keys: dict[Hashable, deque[Record]] = {}
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(max_in_flight)
        self.buffered = 0  # records accepted and not done: running or waiting for their key or a slot
        self.peak_in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._state.in_flight

    @property
    def waiting(self) -> int:
        """What back-pressure counts: every record held (a running one too)."""
        return self.buffered

    def background(self) -> list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]]:
        """Tasks of its own that run while the member runs: none (a key's task runs while the key has records)."""
        return []

    def accept(self, record: Record) -> None:
        self.buffered += 1
        key = self._key_of(record)
        queue = self._keys.get(key)
        if queue is None:
            queue = self._keys[key] = deque()
        queue.append(record)
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._run_key(key, queue))

    def drop_waiting(self, partitions: set[TopicPartition]) -> None:
        """Forget the records of these partitions that are not running yet (a revoke or a stop)."""
        for key, queue in self._keys.items():
            keep_head = self._state.is_running(key)
            kept = [r for i, r in enumerate(queue)
                    if (i == 0 and keep_head) or TopicPartition(r.topic, r.partition) not in partitions]
            self.buffered -= len(queue) - len(kept)
            queue.clear()
            queue.extend(kept)

    def cancel(self, keys: list[Hashable]) -> None:
        """Cancel the running records of these keys (a drain's time is up); they are left to the next owner."""
        for key in keys:
            if (task := self._tasks.get(key)) is not None:
                task.cancel()

    async def close(self) -> None:
        """Cancel every key's task and wait for them (the member stops, after its drain)."""
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _run_key(self, key: Hashable, queue: deque[Record]) -> None:
        state = self._state
        try:
            while queue and not state.closing:
                record = queue[0]
                tp = TopicPartition(record.topic, record.partition)
                if state.gone(tp):
                    queue.popleft()
                    self.buffered -= 1
                    continue
                if self._due_ms is not None and not await self._wait_until_due(record, tp):
                    continue
                if self._gate is not None and not await self._wait_for_gate(tp):
                    continue
                async with self._slots:
                    if state.closing or not queue or queue[0] is not record or state.gone(tp):
                        continue  # the member stops, or a revoke dropped this record while it waited for a slot
                    state.started(key, tp)
                    self.peak_in_flight = max(self.peak_in_flight, state.in_flight)
                    self._gauge.set(state.in_flight)
                    try:
                        finished = await self._handle(record, tp)
                    finally:
                        state.finished(key)
                        self._gauge.set(state.in_flight)
                    if not finished:
                        continue
                    queue.popleft()
                    self.buffered -= 1
                    state.done(tp, record.offset)
        except Exception as error:
            self._failure.report(error, f"the task of key {key!r}")
        finally:
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]
                if not queue:
                    self._keys.pop(key, None)
                elif not state.closing and self._failure.error is None:
                    # cancelled while records wait behind: hand them to a new task
                    self._tasks[key] = asyncio.create_task(self._run_key(key, queue))

    async def _wait_until_due(self, record: Record, tp: TopicPartition) -> bool:
        """Sleep until the record is due; False if the member stops or loses the partition meanwhile. The due
        time is asked once per wait: a bound relative to "now" (`consumers.flows.provenance.due_ms`) stays put."""
        assert self._due_ms is not None
        state = self._state
        due = self._due_ms(record) / 1000
        while (wait := due - time.time()) > 0:
            if state.closing or state.gone(tp):
                return False
            await asyncio.sleep(min(wait, _DUE_CHECK_SECONDS))
        return not (state.closing or state.gone(tp))

    async def _wait_for_gate(self, tp: TopicPartition) -> bool:
        """Sleep while the gate is shut; False if the member stops or loses the partition meanwhile."""
        assert self._gate is not None
        state = self._state
        while (wait := self._gate()) > 0:
            if state.closing or state.gone(tp):
                return False
            await asyncio.sleep(min(wait, _DUE_CHECK_SECONDS))
        return not (state.closing or state.gone(tp))

    async def _handle(self, record: Record, tp: TopicPartition) -> bool:
        """Run the handler until it succeeds; False when the partition was lost or the member stops meanwhile.
        A handler that raises `Held` (the policy holds the record in place) waits for its `retry_after` and the
        gate, is not counted as failed and logs no traceback."""
        attempt = 1
        where = {"partition": record.partition, "offset": record.offset}
        while True:
            try:
                await self.handler(record)
                return True
            except Held as held:
                wait = max(held.retry_after, self._gate() if self._gate is not None else 0.0)
                log.debug("held in place for %.1fs: %s", wait, held, extra=where)
            except Exception:
                wait = self._retry_wait(attempt)
                attempt += 1
                log.exception("handler failed; retrying in %.1fs", wait, extra=where)
            if self._state.closing or self._state.gone(tp):
                return False
            await asyncio.sleep(wait)
