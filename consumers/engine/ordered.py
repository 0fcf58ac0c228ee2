"""Key-ordered concurrency inside partitions: up to N records in flight, never two of one key at once.

Why not a FastStream subscriber: it runs one record at a time per subscriber, or with `max_workers` either one
consumer per partition or, with ack-first, any order and offsets committed before the work is done. An LLM call
takes seconds, so the first caps a member at partitions ÷ latency and the second loses order and events. This does
what Confluent's Parallel Consumer and Karafka's virtual partitions do, once, on aiokafka:

* Records are queued per key (records without a key per partition); one task per busy key runs its records in
  offset order; a semaphore bounds the records in flight across keys to N.
* Exact offsets (`engine.draining`; rebalances: `engine.rebalance`; bounded reads for replays: `engine.bounded`):
  a crash replays the records in flight, a graceful hand-over none.
* Back-pressure: past `max_buffered` unfinished records (in batch mode, beside the batch being written) every
  partition is paused, and resumed below half of it; the poll never stops, so a slow model never evicts a member.
* A handler that raises (its outcome could not be published) runs again after `retry_wait(attempt)` seconds (the
  policy's `in_place_wait`): its key waits, other keys go on, its partition's commit point stays behind it.

The engine knows records, keys and handlers: nothing about tickets, settings or the flows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ticket_enricher.consumers import metrics
from ticket_enricher.consumers.engine.batches import BatchHandler, Batches
from ticket_enricher.consumers.engine.draining import Draining
from ticket_enricher.consumers.engine.offsets import PartitionOffsets
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.engine.rebalance import Rebalance, group_timing

log = logging.getLogger("ticket_enricher.ordered")

Handler = Callable[[Record], Awaitable[object]]
_POLL_MS = 100
_DUE_CHECK_SECONDS = 0.5  # a waiting record notices a revoke or stop this soon


def ordering_key(record: Record) -> Hashable:
    return record.key if record.key is not None else (record.topic, record.partition)


class KeyOrderedConsumer(Draining):
    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group_id: str,
        topics: Iterable[str],
        handler: Handler,
        retry_wait: Callable[[int], float],
        client_id: str = "ticket-enricher",
        max_in_flight: int = 64,
        max_buffered: int = 1000,
        drain_timeout_seconds: float = 30.0,
        auto_offset_reset: str = "earliest",
        consumer_options: dict[str, Any] | None = None,
        key_of: Callable[[Record], Hashable] = ordering_key,
        due_ms: Callable[[Record], int] | None = None,
        connection: dict[str, Any] | None = None,
        batch_handler: BatchHandler | None = None,
        on_revoke: Callable[[set[TopicPartition]], None] | None = None,
    ) -> None:
        """`due_ms`: a record is not started before this time (epoch ms); its account waits for it without
        holding a slot. Records of one key must come due in offset order (true of one delay tier).
        `retry_wait(attempt)`: seconds before a handler that raised is run again on the same record.
        `connection`: security options for the consumer and its admin client (`consumers.engine.connection`).
        `batch_handler`: batch mode (`consumers.engine.batches`): every fetch goes to it at once, `handler` unused.
        `on_revoke`: told which partitions a rebalance took away, once they are drained (a handler's cache)."""
        if max_in_flight < 1 or max_buffered < max_in_flight:
            raise ValueError("need 1 <= max_in_flight <= max_buffered")
        super().__init__(drain_timeout_seconds)
        self.topics = list(topics)
        self.group_id = group_id
        self.handler = handler
        self.retry_wait = retry_wait
        self.key_of = key_of
        self.due_ms = due_ms
        self.max_in_flight = max_in_flight
        self.max_buffered = max_buffered
        self._connection: dict[str, Any] = {**(connection or {}), "bootstrap_servers": bootstrap_servers}
        self._consumer_options: dict[str, Any] = dict(
            **self._connection, group_id=group_id, client_id=client_id, enable_auto_commit=False,
            auto_offset_reset=auto_offset_reset, **{**group_timing(drain_timeout_seconds), **(consumer_options or {})})
        self._consumer: AIOKafkaConsumer = None  # type: ignore[assignment]  # made in start(), inside the loop
        self._admin: AIOKafkaAdminClient | None = None  # reads the done-offsets metadata of assigned partitions
        self._keys: dict[Hashable, deque[Record]] = {}
        self._key_tasks: dict[Hashable, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(max_in_flight)
        self._buffered = 0
        self._paused = False
        self._started = False
        self._tasks: list[asyncio.Task[None]] = []
        self._failure: asyncio.Future[BaseException] | None = None
        self._batches = Batches(self, batch_handler) if batch_handler is not None else None
        self.on_revoke = on_revoke
        self.peak_in_flight = 0
        self.skipped_done = 0  # records a previous owner had finished (from the commit metadata)
        self._in_flight_gauge = metrics.IN_FLIGHT.labels(",".join(self.topics))
        self._buffered_gauge = metrics.BUFFERED.labels(",".join(self.topics))
        self.assignments = 0  # rebalances this member took part in

    @property
    def in_flight(self) -> int:
        return self._batches.running if self._batches is not None else len(self._running)

    @property
    def buffered(self) -> int:
        """Records fetched and not done: running or waiting for their key or a slot."""
        return self._buffered

    @property
    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment()) if self._started else set()

    async def start(self) -> None:
        self._admin = AIOKafkaAdminClient(**self._connection, client_id=f"{self._consumer_options['client_id']}"
                                                                        "-offsets")
        await self._admin.start()
        self._consumer = AIOKafkaConsumer(**self._consumer_options)
        await self._join()
        self._started = True
        self._failure = asyncio.get_running_loop().create_future()
        self._tasks = [asyncio.create_task(self._poll(), name=f"{self.group_id}-poll")]
        if self.commits:
            self._tasks.append(asyncio.create_task(self._committer(), name=f"{self.group_id}-commit"))
        if self._batches is not None:
            self._tasks.append(asyncio.create_task(self._batches.run(), name=f"{self.group_id}-batches"))
        for task in self._tasks:
            task.add_done_callback(self._watch)

    async def _join(self) -> None:
        """Subscribe as a member of the group (the bounded reader assigns its partitions instead)."""
        self._consumer.subscribe(self.topics, listener=Rebalance(self))
        await self._consumer.start()

    def _watch(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            self._fail(error, task.get_name())

    def _fail(self, error: BaseException, where: str) -> None:
        log.error("%s failed; this member can no longer make progress", where, exc_info=error)
        if self._failure is not None and not self._failure.done():
            self._failure.set_result(error)

    async def failed(self) -> BaseException:
        """Returns the error once a background task died: a member that stopped polling or committing
        still heartbeats and would hold its partitions forever, so its owner must stop it."""
        assert self._failure is not None, "start() first"
        return await asyncio.shield(self._failure)

    # -- fetching ---------------------------------------------------------------------------------------------

    async def _poll(self) -> None:
        consumer = self._consumer
        while True:
            self._apply_backpressure()
            room = max(1, self.max_buffered - self._waiting())
            batches = await consumer.getmany(timeout_ms=_POLL_MS, max_records=room)
            for tp, records in batches.items():
                if tp in self._revoking:
                    continue  # fetched just before the partition moved; its next owner reads these
                if tp not in self._offsets:  # assigned, but what its last owner finished is still loading
                    consumer.seek(tp, records[0].offset)
                    continue
                offsets = self._offsets[tp]
                stop = self._stop_offset(tp)
                seen = offsets.last_fetched
                if seen is not None and records[0].offset <= seen:
                    log.warning("%s[%d] fetched again from %d after %d; skipping what is already taken",
                                tp.topic, tp.partition, records[0].offset, seen)
                for raw in records:
                    if stop is not None and raw.offset >= stop:
                        break
                    if seen is None or raw.offset > seen:
                        self._accept(offsets, Record.from_kafka(raw))
            await self._fetched()
            self._buffered_gauge.set(self._buffered)

    def _stop_offset(self, tp: TopicPartition) -> int | None:
        """Where reading `tp` ends (excluded); None: never (a group member reads on)."""
        return None

    async def _fetched(self) -> None:
        """After each poll (the bounded reader pauses partitions that reached their stop)."""

    def _accept(self, offsets: PartitionOffsets, record: Record) -> None:
        offsets.fetched(record.offset)
        if record.offset in offsets.already_done:
            offsets.already_done.discard(record.offset)
            offsets.done(record.offset)
            self.skipped_done += 1
            self._dirty.set()
            return
        self._buffered += 1
        if self._batches is not None:
            self._batches.accept(record)
            return
        key = self.key_of(record)
        queue = self._keys.get(key)
        if queue is None:
            queue = self._keys[key] = deque()
        queue.append(record)
        if key not in self._key_tasks:
            self._key_tasks[key] = asyncio.create_task(self._run_key(key, queue))

    def _waiting(self) -> int:  # in batch mode the next batch is fetched while one is written (<= 2x max_buffered)
        return self._buffered - (self._batches.running if self._batches is not None else 0)

    def _apply_backpressure(self) -> None:
        assigned = self._consumer.assignment()
        waiting = self._waiting()
        if waiting >= self.max_buffered:
            if not self._paused:
                log.debug("%d records waiting; pausing fetches", self._buffered)
            self._consumer.pause(*assigned)  # again each round: partitions assigned meanwhile start unpaused
            self._paused = True
        elif self._paused and waiting <= self.max_buffered // 2:
            self._consumer.resume(*(assigned - self._held_back()))
            self._paused = False

    def _held_back(self) -> set[TopicPartition]:
        """Partitions back-pressure must not resume (the bounded reader's, once read to their stop)."""
        return set()

    # -- processing -------------------------------------------------------------------------------------------

    async def _run_key(self, key: Hashable, queue: deque[Record]) -> None:
        try:
            while queue and not self._stopping:
                record = queue[0]
                tp = TopicPartition(record.topic, record.partition)
                if self._gone(tp):
                    queue.popleft()
                    self._buffered -= 1
                    continue
                if self.due_ms is not None and not await self._wait_until_due(record, tp):
                    continue
                async with self._slots:
                    if self._stopping or not queue or queue[0] is not record or self._gone(tp):
                        continue  # the member stops, or a revoke dropped this record while it waited for a slot
                    self._running[key] = tp
                    self.peak_in_flight = max(self.peak_in_flight, len(self._running))
                    self._in_flight_gauge.set(len(self._running))
                    try:
                        finished = await self._handle(record, tp)
                    finally:
                        del self._running[key]
                        self._in_flight_gauge.set(len(self._running))
                        self._progress.set()
                    if not finished:
                        continue
                    queue.popleft()
                    self._buffered -= 1
                    self._offsets[tp].done(record.offset)
                    self._dirty.set()
        except Exception as error:
            self._fail(error, f"the task of key {key!r}")
        finally:
            if self._key_tasks.get(key) is asyncio.current_task():
                del self._key_tasks[key]
                if not queue:
                    self._keys.pop(key, None)
                elif not self._stopping and not (self._failure and self._failure.done()):
                    # cancelled while records wait behind: hand them to a new task
                    self._key_tasks[key] = asyncio.create_task(self._run_key(key, queue))

    async def _wait_until_due(self, record: Record, tp: TopicPartition) -> bool:
        """Sleep until the record is due; False if the member stops or loses the partition meanwhile. The due
        time is asked once per wait: a bound relative to "now" (`consumers.flows.provenance.due_ms`) stays put."""
        assert self.due_ms is not None
        due = self.due_ms(record) / 1000
        while (wait := due - time.time()) > 0:
            if self._stopping or self._gone(tp):
                return False
            await asyncio.sleep(min(wait, _DUE_CHECK_SECONDS))
        return not (self._stopping or self._gone(tp))

    async def _handle(self, record: Record, tp: TopicPartition) -> bool:
        """Run the handler until it succeeds; False when the partition was lost or the member stops meanwhile."""
        attempt = 1
        while True:
            try:
                await self.handler(record)
                return True
            except Exception:
                wait = self.retry_wait(attempt)
                log.exception("handler failed; retrying in %.1fs", wait,
                              extra={"partition": record.partition, "offset": record.offset})
            if self._stopping or self._gone(tp):
                return False
            await asyncio.sleep(wait)
            attempt += 1
