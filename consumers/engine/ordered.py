"""Key-ordered concurrency inside partitions: up to N records in flight, never two of one key at once.

Why not a FastStream subscriber: it runs one record at a time per subscriber, or with `max_workers` either one
consumer per partition or, with ack-first, any order and offsets committed before the work is done. An LLM call
takes seconds, so the first caps a member at partitions ÷ latency and the second loses order and events. This does
what Confluent's Parallel Consumer and Karafka's virtual partitions do, once, on aiokafka.

One consumer, in parts that share one explicit `PartitionState` (`engine.partitions`) and nothing else:

    this module          start and stop, the poll loop, back-pressure
    engine.dispatch      records queued per key, one task per busy key, N in flight (or engine.batches)
    engine.committer     exact offsets: commit points with the done-bitmap metadata
    engine.draining      giving partitions up: on a revoke, and on stop within `drain_timeout`
    engine.rebalance     the group's rebalances (engine.bounded: a replay's fixed partitions instead)

* Back-pressure: past `max_buffered` unfinished records (in batch mode, beside the batch being written) every
  partition is paused, and resumed below half of it; the poll never stops, so a slow model never evicts a member.
* A crash replays the records in flight, a graceful hand-over none.

The engine knows records, keys and handlers: nothing about tickets, settings or the flows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ticket_enricher.consumers import metrics
from ticket_enricher.consumers.engine.batches import Batches, BatchHandler
from ticket_enricher.consumers.engine.clients import KafkaClients, close, started
from ticket_enricher.consumers.engine.committer import Committer
from ticket_enricher.consumers.engine.dispatch import Handler, KeyDispatch, ordering_key
from ticket_enricher.consumers.engine.draining import drain
from ticket_enricher.consumers.engine.failure import Failure
from ticket_enricher.consumers.engine.partitions import PartitionState
from ticket_enricher.consumers.engine.rebalance import GroupSubscription, Rebalance, group_timing
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.core.errors import EngineMisuse

log = logging.getLogger("ticket_enricher.ordered")

_POLL_MS = 100


class Reading(Protocol):
    """Which partitions a member reads and how far: the group's (`engine.rebalance.GroupSubscription`), or
    fixed ones up to fixed offsets (`engine.bounded.Bounds`)."""

    async def join(self, consumer: AIOKafkaConsumer, listener: Rebalance) -> None: ...

    def stop_offset(self, tp: TopicPartition) -> int | None: ...

    async def fetched(self, consumer: AIOKafkaConsumer) -> bool: ...

    def held_back(self) -> set[TopicPartition]: ...


class KeyOrderedConsumer:
    def __init__(
        self,
        *,
        clients: KafkaClients,
        group_id: str,
        topics: Iterable[str],
        handler: Handler,
        retry_wait: Callable[[int], float],
        max_in_flight: int = 64,
        max_buffered: int = 1000,
        drain_timeout_seconds: float = 30.0,
        auto_offset_reset: str = "earliest",
        consumer_options: dict[str, Any] | None = None,
        key_of: Callable[[Record], Hashable] = ordering_key,
        due_ms: Callable[[Record], int] | None = None,
        batch_handler: BatchHandler | None = None,
        on_revoke: Callable[[set[TopicPartition]], None] | None = None,
        reading: Reading | None = None,
        commits: bool = True,
        gate: Callable[[], float] | None = None,
    ) -> None:
        """`clients`: its consumer is `clients.consumer()`, the admin client reading commit metadata
        `clients.admin("offsets")` (scope the factory to name them: `clients.scoped("privacy")`).
        `due_ms`: a record is not started before this time (epoch ms); its account waits for it without
        holding a slot. Records of one key must come due in offset order (true of one delay tier).
        `retry_wait(attempt)`: seconds before a handler that raised is run again on the same record.
        `batch_handler`: batch mode (`engine.batches`): every fetch goes to it at once, `handler` unused.
        `on_revoke`: told which partitions a rebalance took away, once they are drained (a handler's cache).
        `reading`: the group's partitions (default), or a replay's (`engine.bounded`).
        `commits`: False for a dry run that commits nothing.
        `gate()`: seconds until records may start (0: now); while it is shut no record starts and every partition
        is paused, the poll loop still running (a dependency every record needs is down: the model's breaker)."""
        if max_in_flight < 1 or max_buffered < max_in_flight:
            raise EngineMisuse("need 1 <= max_in_flight <= max_buffered")
        self.topics = list(topics)
        self.group_id = group_id
        self.max_buffered = max_buffered
        self.drain_timeout = drain_timeout_seconds
        self.on_revoke = on_revoke
        self._clients = clients
        self._reading: Reading = reading or GroupSubscription(self.topics)
        self._options: dict[str, Any] = dict(
            group_id=group_id, auto_offset_reset=auto_offset_reset,
            **{**group_timing(drain_timeout_seconds), **(consumer_options or {})})
        self._commits = commits
        self._gate = gate
        self._state = PartitionState()
        self._failure = Failure()
        label = ",".join(self.topics)
        self._in_flight_gauge = metrics.IN_FLIGHT.labels(label)
        self._buffered_gauge = metrics.BUFFERED.labels(label)
        self._work: KeyDispatch | Batches = (
            Batches(self._state, batch_handler, retry_wait=retry_wait, name=group_id,
                    in_flight_gauge=self._in_flight_gauge) if batch_handler is not None else
            KeyDispatch(self._state, handler, retry_wait=retry_wait, max_in_flight=max_in_flight, key_of=key_of,
                        due_ms=due_ms, failure=self._failure, in_flight_gauge=self._in_flight_gauge, gate=gate))
        self._consumer: AIOKafkaConsumer | None = None  # made in start(), inside the loop
        self._admin: AIOKafkaAdminClient | None = None  # reads the done-offsets metadata of assigned partitions
        self._committer: Committer | None = None
        self._paused = False
        self._started = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- what it holds ----------------------------------------------------------------------------------------

    @property
    def partitions(self) -> PartitionState:
        return self._state

    @property
    def in_flight(self) -> int:
        return self._work.in_flight

    @property
    def peak_in_flight(self) -> int:
        return self._work.peak_in_flight

    @property
    def buffered(self) -> int:
        """Records fetched and not done: running or waiting for their key or a slot."""
        return self._work.buffered

    @property
    def skipped_done(self) -> int:
        """Records a previous owner had finished (from the commit metadata)."""
        return self._state.skipped_done

    @property
    def assignments(self) -> int:
        """Rebalances this member took part in."""
        return self._state.assignments

    @property
    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment()) if self._started and self._consumer is not None else set()

    @property
    def paused(self) -> set[TopicPartition]:
        """Partitions whose fetching is paused now (back-pressure, or read to their stop)."""
        return set(self._consumer.paused()) if self._started and self._consumer is not None else set()

    # -- start and stop ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and join (or, bounded, assign); on failure every client made is closed before the error goes
        on, and `stop()` has nothing to do."""
        self._admin = await started(self._clients.admin("offsets"))
        self._consumer = consumer = self._clients.consumer(**self._options)
        self._committer = Committer(self._state, consumer, enabled=self._commits)
        listener = Rebalance(self._state, drain=self._drain, read_committed=self._read_committed,
                             on_revoke=self.on_revoke)
        try:
            await self._reading.join(consumer, listener)
        except BaseException:
            await self._close_clients()
            raise
        self._started = True
        self._failure.arm()
        work = [(f"{self.group_id}-poll", self._poll)]
        if self._commits:
            work.append((f"{self.group_id}-commit", self._committer.run))
        self._tasks = [asyncio.create_task(run(), name=name) for name, run in work + self._work.background()]
        for task in self._tasks:
            task.add_done_callback(self._failure.watch)

    async def stop(self) -> None:
        """Stop fetching, let in-flight records finish (up to `drain_timeout`), commit, leave the group."""
        if not self._started:
            return
        self._state.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            try:
                await self._drain(self._state.held)
            finally:
                self._state.closed()
            await self._work.close()
        finally:
            self._started = False
            await self._close_clients()
            self._in_flight_gauge.set(0)
            self._buffered_gauge.set(0)

    async def failed(self) -> BaseException:
        """Returns the error once a background task died: a member that stopped polling or committing
        still heartbeats and would hold its partitions forever, so its owner must stop it."""
        return await self._failure.wait()

    @property
    def error(self) -> BaseException | None:
        """The error a background task died of, if one did."""
        return self._failure.error

    async def commit(self) -> None:
        """Commit what is done of every partition held (the bounded reader, at its end)."""
        assert self._committer is not None, "start() first"
        await self._committer.commit(self._state.holding())

    async def _close_clients(self) -> None:
        try:
            if self._consumer is not None:
                await close(self._consumer)
        finally:
            if self._admin is not None:
                await close(self._admin)

    async def _drain(self, partitions: set[TopicPartition]) -> None:
        assert self._committer is not None
        await drain(partitions, state=self._state, work=self._work, committer=self._committer,
                    timeout=self.drain_timeout)

    async def _read_committed(self, partitions: set[TopicPartition]) -> dict[TopicPartition, Any]:
        assert self._admin is not None
        committed: dict[TopicPartition, Any] = await self._admin.list_consumer_group_offsets(
            self.group_id, partitions=list(partitions))
        return committed

    # -- fetching ---------------------------------------------------------------------------------------------

    async def _poll(self) -> None:
        consumer, state, work, reading = self._consumer, self._state, self._work, self._reading
        assert consumer is not None
        while True:
            self._apply_backpressure(consumer)
            room = max(1, self.max_buffered - work.waiting)
            batches = await consumer.getmany(timeout_ms=_POLL_MS, max_records=room)
            for tp, records in batches.items():
                if state.is_revoking(tp):
                    continue  # fetched just before the partition moved; its next owner reads these
                offsets = state.offsets(tp)
                if offsets is None:  # assigned, but what its last owner finished is still loading
                    consumer.seek(tp, records[0].offset)
                    continue
                stop = reading.stop_offset(tp)
                seen = offsets.last_fetched
                if seen is not None and records[0].offset <= seen:
                    log.warning("%s[%d] fetched again from %d after %d; skipping what is already taken",
                                tp.topic, tp.partition, records[0].offset, seen)
                for raw in records:
                    if stop is not None and raw.offset >= stop:
                        break
                    if (seen is None or raw.offset > seen) and state.fetched(offsets, raw.offset):
                        work.accept(Record.from_kafka(raw))
            if await reading.fetched(consumer):
                state.progressed()
            self._buffered_gauge.set(work.buffered)

    def _apply_backpressure(self, consumer: AIOKafkaConsumer) -> None:
        assigned = consumer.assignment()
        waiting = self._work.waiting
        shut = self._gate is not None and self._gate() > 0
        if waiting >= self.max_buffered or shut:
            if not self._paused:
                log.debug("%s; pausing fetches", "the gate is shut" if shut else f"{waiting} records waiting")
            consumer.pause(*assigned)  # again each round: partitions assigned meanwhile start unpaused
            self._paused = True
        elif self._paused and waiting <= self.max_buffered // 2:
            consumer.resume(*(assigned - self._reading.held_back()))
            self._paused = False

