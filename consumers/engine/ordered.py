"""Key-ordered concurrency inside partitions: up to N records in flight, never two of one key at once.

Why not a FastStream subscriber: FastStream runs one record at a time per subscriber, or with `max_workers` either
one consumer per partition (still one record at a time per partition) or, with ack-first, any order and offsets
committed before the work is done. An LLM call takes seconds, so the first caps a member at partitions ÷ latency
and the second loses order and events. This component does what Confluent's Parallel Consumer and Karafka's
virtual partitions do, once, on aiokafka:

* Records are queued per key (the account id; records without a key are queued per partition). One task per
  busy key runs its records in offset order; a semaphore bounds the records in flight across keys to N.
* Offsets are committed explicitly per partition at the highest point below which every record is done, with
  the records finished beyond it in the commit's metadata (`consumers.engine.offsets`), by one committer that
  coalesces completions. The partition's next owner skips those, so a crash replays the records that were in
  flight (and those finished in the last commit's round trip), a graceful hand-over none. A commit that a
  racing rebalance rejects (stale generation) is not lost when the partition comes back to this member: what it
  finished is remembered across the rebalance and skipped.
* Back-pressure: past `max_buffered` fetched-but-unfinished records every partition is paused, and resumed below
  half of it; the poll loop never stops, so the member is never evicted for a slow model.
* A failing handler (its outcome could not be published) is retried in place with back-off: its key waits, other
  keys go on, and its partition's commit point stays behind it.
* Rebalance: on revoke, waiting records of the lost partitions are dropped, in-flight ones get `drain_timeout`
  to finish (then are cancelled), and what is done is committed before the partitions move. `stop()` does the
  same for every partition and leaves the group.
* Bounded reads (replay): given `bounds`, the consumer assigns exactly those partitions instead of joining the
  group's rebalances, reads each from its start to its stop offset, pauses it there, and `run_to_end()` returns
  once every record below the stops is done and committed. With `commit=False` nothing is committed (dry run).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from config.settings import Settings
from consumers import metrics
from consumers.engine.connection import client_options
from consumers.engine.offsets import PartitionOffsets, decode_done
from consumers.engine.records import Record

log = logging.getLogger("ticket_enricher.ordered")

Handler = Callable[[Record], Awaitable[object]]
_POLL_MS = 100
_RETRY_FIRST_SECONDS, _RETRY_MAX_SECONDS = 0.5, 30.0
_DUE_CHECK_SECONDS = 0.5  # a waiting record notices a revoke or stop this soon


def ordering_key(record: Record) -> Hashable:
    return record.key if record.key is not None else (record.topic, record.partition)


class KeyOrderedConsumer:
    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group_id: str,
        topics: Iterable[str],
        handler: Handler,
        client_id: str = "ticket-enricher",
        max_in_flight: int = 64,
        max_buffered: int = 1000,
        drain_timeout_seconds: float = 30.0,
        auto_offset_reset: str = "earliest",
        consumer_options: dict[str, Any] | None = None,
        key_of: Callable[[Record], Hashable] = ordering_key,
        due_ms: Callable[[Record], int] | None = None,
        bounds: dict[TopicPartition, tuple[int, int]] | None = None,
        commit: bool = True,
        connection: dict[str, Any] | None = None,
    ) -> None:
        """`due_ms`: a record is not started before this time (epoch ms); its account waits for it without
        holding a slot. Records of one key must come due in offset order (true of one delay tier).
        `bounds`: partition -> (start, stop) offsets to read, stop excluded; see the module's docstring.
        `connection`: security options for the consumer and its admin client (`consumers.engine.connection`)."""
        if max_in_flight < 1 or max_buffered < max_in_flight:
            raise ValueError("need 1 <= max_in_flight <= max_buffered")
        self.topics = list(topics)
        self.group_id = group_id
        self.handler = handler
        self.key_of = key_of
        self.due_ms = due_ms
        self.max_in_flight = max_in_flight
        self.max_buffered = max_buffered
        self.drain_timeout = drain_timeout_seconds
        self.bounds = dict(bounds) if bounds is not None else None
        self.commits = commit
        self._fetched_all: set[TopicPartition] = set()  # bounded partitions read up to their stop
        self._connection: dict[str, Any] = {**(connection or {}), "bootstrap_servers": bootstrap_servers}
        self._consumer_options: dict[str, Any] = dict(
            **self._connection, group_id=group_id, client_id=client_id,
            enable_auto_commit=False, auto_offset_reset=auto_offset_reset, **(consumer_options or {}),
        )
        self._consumer: AIOKafkaConsumer = None  # type: ignore[assignment]  # made in start(), inside the loop
        self._admin: AIOKafkaAdminClient | None = None  # reads the done-offsets metadata of assigned partitions
        self._offsets: dict[TopicPartition, PartitionOffsets] = {}
        self._revoking: set[TopicPartition] = set()
        # partitions given up with finished records their last commit could not save (a rebalance raced it);
        # if the next assignment gives them back, those records are skipped instead of run again
        self._unsaved: dict[TopicPartition, PartitionOffsets] = {}
        self._keys: dict[Hashable, deque[Record]] = {}
        self._key_tasks: dict[Hashable, asyncio.Task[None]] = {}
        self._running: dict[Hashable, TopicPartition] = {}  # key -> partition of its record in flight
        self._slots = asyncio.Semaphore(max_in_flight)
        self._progress = asyncio.Event()
        self._dirty = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._buffered = 0
        self._paused = False
        self._started = False
        self._stopping = False
        self._stop_drained = asyncio.Event()  # a stopping member's final drain and commit are over
        self._tasks: list[asyncio.Task[None]] = []
        self._failure: asyncio.Future[BaseException] | None = None
        self.peak_in_flight = 0
        self.skipped_done = 0  # records a previous owner had finished (from the commit metadata)
        label = ",".join(self.topics)
        self._in_flight_gauge = metrics.IN_FLIGHT.labels(label)
        self._buffered_gauge = metrics.BUFFERED.labels(label)
        self.assignments = 0  # rebalances this member took part in

    @property
    def in_flight(self) -> int:
        return len(self._running)

    @property
    def buffered(self) -> int:
        """Records fetched and not done: running or waiting for their key or a slot."""
        return self._buffered

    @property
    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment()) if self._started else set()

    async def start(self) -> None:
        opts = self._consumer_options
        self._admin = AIOKafkaAdminClient(**self._connection, client_id=f"{opts['client_id']}-offsets")
        await self._admin.start()
        self._consumer = AIOKafkaConsumer(**self._consumer_options)
        if self.bounds is None:
            self._consumer.subscribe(self.topics, listener=_Rebalance(self))
        await self._consumer.start()
        if self.bounds is not None:
            self._consumer.assign(list(self.bounds))
            await _Rebalance(self).on_partitions_assigned(set(self.bounds))
            for tp, (start, stop) in self.bounds.items():
                self._consumer.seek(tp, start)
                if start >= stop:
                    self._fetched_all.add(tp)
            if self._fetched_all:
                self._consumer.pause(*self._fetched_all)
        self._started = True
        self._failure = asyncio.get_running_loop().create_future()
        self._tasks = [asyncio.create_task(self._poll(), name=f"{self.group_id}-poll")]
        if self.commits:
            self._tasks.append(asyncio.create_task(self._committer(), name=f"{self.group_id}-commit"))
        for task in self._tasks:
            task.add_done_callback(self._watch)

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

    async def stop(self) -> None:
        """Stop fetching, let in-flight records finish (up to `drain_timeout`), commit, leave the group."""
        if not self._started:
            return
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            try:
                await self._drain(set(self._offsets))
            finally:
                self._stop_drained.set()
            for task in list(self._key_tasks.values()):
                task.cancel()
            await asyncio.gather(*self._key_tasks.values(), return_exceptions=True)
        finally:
            self._started = False
            await self._consumer.stop()
            if self._admin is not None:
                await self._admin.close()
            self._in_flight_gauge.set(0)
            self._buffered_gauge.set(0)

    async def run_to_end(self) -> None:
        """Bounded reads only: wait until every record below the stops is done, then commit."""
        assert self.bounds is not None, "run_to_end() reads bounded partitions"
        while not (len(self._fetched_all) == len(self.bounds)
                   and all(o.outstanding == 0 for o in self._offsets.values())):
            if self._failure is not None and self._failure.done():
                raise self._failure.result()
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), 0.5)
            except TimeoutError:
                pass
        await self._commit(dict(self._offsets))

    def _gone(self, tp: TopicPartition) -> bool:
        return tp in self._revoking or tp not in self._offsets

    # -- fetching ---------------------------------------------------------------------------------------------

    async def _poll(self) -> None:
        consumer = self._consumer
        while True:
            self._apply_backpressure()
            room = max(1, self.max_buffered - self._buffered)
            batches = await consumer.getmany(timeout_ms=_POLL_MS, max_records=room)
            for tp, records in batches.items():
                if tp in self._revoking:
                    continue  # fetched just before the partition moved; its next owner reads these
                if tp not in self._offsets:  # assigned, but what its last owner finished is still loading
                    consumer.seek(tp, records[0].offset)
                    continue
                offsets = self._offsets[tp]
                stop = self.bounds[tp][1] if self.bounds is not None else None
                seen = offsets.last_fetched
                if seen is not None and records[0].offset <= seen:
                    log.warning("%s[%d] fetched again from %d after %d; skipping what is already taken",
                                tp.topic, tp.partition, records[0].offset, seen)
                for raw in records:
                    if stop is not None and raw.offset >= stop:
                        break
                    if seen is None or raw.offset > seen:
                        self._accept(offsets, Record.from_kafka(raw))
            if self.bounds is not None:
                await self._pause_at_stops()
            self._buffered_gauge.set(self._buffered)

    async def _pause_at_stops(self) -> None:
        for tp, (_, stop) in self.bounds.items():  # type: ignore[union-attr]
            if tp not in self._fetched_all and await self._consumer.position(tp) >= stop:
                self._fetched_all.add(tp)
                self._consumer.pause(tp)
                self._progress.set()

    def _accept(self, offsets: PartitionOffsets, record: Record) -> None:
        offsets.fetched(record.offset)
        if record.offset in offsets.already_done:
            offsets.already_done.discard(record.offset)
            offsets.done(record.offset)
            self.skipped_done += 1
            self._dirty.set()
            return
        self._buffered += 1
        key = self.key_of(record)
        queue = self._keys.get(key)
        if queue is None:
            queue = self._keys[key] = deque()
        queue.append(record)
        if key not in self._key_tasks:
            self._key_tasks[key] = asyncio.create_task(self._run_key(key, queue))

    def _apply_backpressure(self) -> None:
        assigned = self._consumer.assignment()
        if self._buffered >= self.max_buffered:
            if not self._paused:
                log.debug("%d records waiting; pausing fetches", self._buffered)
            self._consumer.pause(*assigned)  # again each round: partitions assigned meanwhile start unpaused
            self._paused = True
        elif self._paused and self._buffered <= self.max_buffered // 2:
            self._consumer.resume(*(assigned - self._fetched_all))
            self._paused = False

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
        wait = _RETRY_FIRST_SECONDS
        while True:
            try:
                await self.handler(record)
                return True
            except Exception:
                log.exception("handler failed; retrying in %.1fs", wait,
                              extra={"partition": record.partition, "offset": record.offset})
            if self._stopping or self._gone(tp):
                return False
            await asyncio.sleep(wait)
            wait = min(wait * 2, _RETRY_MAX_SECONDS)

    # -- committing, rebalancing, draining --------------------------------------------------------------------

    async def _committer(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            await self._commit({tp: o for tp, o in self._offsets.items() if tp not in self._revoking})

    async def _commit(self, partitions: dict[TopicPartition, PartitionOffsets]) -> None:
        if not self.commits:
            return
        async with self._commit_lock:
            owned = self._consumer.assignment()
            points = {tp: p for tp, o in partitions.items() if tp in owned and (p := o.uncommitted()) is not None}
            if not points:
                return
            try:
                await self._consumer.commit(points)  # {tp: (offset, metadata)}
            except (CommitFailedError, IllegalStateError, KafkaError) as error:
                log.warning("commit of %d partitions failed (%s); the next one, or the next owner of the "
                            "partition after a rebalance, covers them", len(points), error)
                return
            for tp, point in points.items():
                partitions[tp].committed = point

    async def _drain(self, partitions: set[TopicPartition]) -> None:
        """Drop waiting records of these partitions, finish or cancel their in-flight ones, commit, forget them."""
        self._revoking |= partitions
        for key, queue in self._keys.items():
            keep_head = key in self._running
            kept = [r for i, r in enumerate(queue)
                    if (i == 0 and keep_head) or TopicPartition(r.topic, r.partition) not in partitions]
            self._buffered -= len(queue) - len(kept)
            queue.clear()
            queue.extend(kept)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_timeout
        while stuck := [k for k, tp in self._running.items() if tp in partitions]:
            left = deadline - loop.time()
            if left <= 0:
                log.warning("%d records still running after %.0fs; leaving them to the next owner",
                            len(stuck), self.drain_timeout)
                for key in stuck:
                    if (task := self._key_tasks.get(key)) is not None:
                        task.cancel()
                break
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), left)
            except TimeoutError:
                pass
        # a rebalance waits for this commit (the revoke listener, or for stop() the listener's wait on
        # `_stop_drained`); should it fail anyway, what was finished is remembered (`_unsaved`)
        await self._commit({tp: o for tp, o in self._offsets.items() if tp in partitions})
        for tp in partitions:
            offsets = self._offsets.pop(tp, None)
            if offsets is not None and offsets.uncommitted() is not None:
                self._unsaved[tp] = offsets


def from_settings(settings: Settings, *, group_id: str, topics: Iterable[str], handler: Handler, client_id: str,
                  auto_offset_reset: str, **options: Any) -> KeyOrderedConsumer:
    """A consumer sized and timed by `worker.*` and `kafka.session_timeout_ms`."""
    return KeyOrderedConsumer(
        bootstrap_servers=settings.kafka.bootstrap_servers, group_id=group_id, topics=topics, handler=handler,
        client_id=client_id, max_in_flight=settings.worker.max_in_flight,
        max_buffered=settings.worker.max_buffered, drain_timeout_seconds=settings.worker.drain_timeout_seconds,
        auto_offset_reset=auto_offset_reset,
        consumer_options={"session_timeout_ms": settings.kafka.session_timeout_ms,
                          "heartbeat_interval_ms": max(100, settings.kafka.session_timeout_ms // 4)},
        connection=client_options(settings), **options,
    )


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: KeyOrderedConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if self.owner._stopping:
            # stop() is draining and committing: hold the rebalance until it is done, so that its commit
            # lands while this member's generation is still the group's (else it is refused and the
            # finished records run again on the next owner)
            await self.owner._stop_drained.wait()
        elif revoked:
            log.info("partitions revoked: %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in revoked))
            await self.owner._drain(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        owner = self.owner
        owner.assignments += 1
        committed: dict[TopicPartition, Any] = {}
        if assigned and owner._admin is not None:
            try:
                committed = await owner._admin.list_consumer_group_offsets(owner.group_id,
                                                                           partitions=list(assigned))
            except Exception as error:  # not fatal: finished records are then simply run again (idempotent)
                log.warning("could not read which records the previous owner finished: %s", error)
        unsaved, owner._unsaved = owner._unsaved, {}
        for tp in assigned:
            c = committed.get(tp)
            start = c.offset if c is not None and c.offset >= 0 else 0
            done = decode_done(c.offset, c.metadata) if c is not None and c.offset >= 0 else set()
            if tp in unsaved:  # ours again: what this member finished is done, committed or not
                done |= unsaved[tp].finished_since(start)
            owner._offsets[tp] = PartitionOffsets(already_done=done)
            owner._revoking.discard(tp)
        if assigned:
            log.info("partitions assigned: %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned))
