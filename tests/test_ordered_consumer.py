"""KeyOrderedConsumer on the real broker: order per key, concurrency across keys, back-pressure, hand-over."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from config.settings import load_settings
from consumers.engine.ordered import KeyOrderedConsumer
from consumers.engine.records import Record
from consumers.flows.policy import in_place_wait
from consumers.operations.lag import group_lag

pytestmark = pytest.mark.kafka
RETRY = load_settings().retry


def retry_wait(attempt: int) -> float:
    """The in-place retry policy the worker gives the engine."""
    return in_place_wait(attempt, RETRY)


@pytest.fixture
async def topic_factory(kafka_bootstrap: str) -> AsyncIterator[Callable[[int], Awaitable[str]]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()

    async def make(partitions: int) -> str:
        name = f"ordered-{uuid.uuid4().hex[:8]}"
        await admin.create_topics([NewTopic(name=name, num_partitions=partitions, replication_factor=1)])
        for _ in range(100):
            if name in await admin.list_topics():
                break
            await asyncio.sleep(0.1)
        return name

    try:
        yield make
    finally:
        await admin.close()


class Recorder:
    """A handler that records what ran, for which key, and whether a key ever ran twice at once."""

    def __init__(self, delay: Callable[[], float] = lambda: 0.0) -> None:
        self.delay = delay
        self.seen: dict[str, list[int]] = defaultdict(list)
        self.running: set[str] = set()
        self.overlaps: list[str] = []
        self.fail: dict[tuple[str, int], int] = {}  # (key, seq) -> failures still to raise

    async def __call__(self, record: Record) -> None:
        key, seq = (record.key or b"").decode(), int(record.value or b"0")
        if key in self.running:
            self.overlaps.append(key)
        self.running.add(key)
        try:
            await asyncio.sleep(self.delay())
            if self.fail.get((key, seq), 0) > 0:
                self.fail[key, seq] -= 1
                raise RuntimeError("outcome could not be published")
            self.seen[key].append(seq)
        finally:
            self.running.discard(key)

    def total(self) -> int:
        return sum(len(v) for v in self.seen.values())


async def publish(bootstrap: str, topic: str, keys: int, per_key: int, partition: int | None = None) -> None:
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await p.start()
    try:
        for seq in range(per_key):
            for k in range(keys):
                await p.send(topic, key=f"k{k}".encode(), value=str(seq).encode(), partition=partition)
        await p.flush()
    finally:
        await p.stop()


def member(bootstrap: str, topic: str, group: str, handler: Recorder, **kwargs: object) -> KeyOrderedConsumer:
    return KeyOrderedConsumer(bootstrap_servers=bootstrap, group_id=group, topics=[topic], handler=handler,
                              retry_wait=retry_wait, **kwargs)  # type: ignore[arg-type]


async def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def lag_of(bootstrap: str, group: str, topic: str) -> list[int]:
    return [p.lag for p in await group_lag(bootstrap, group, [topic])]


async def test_many_keys_on_one_partition_run_in_parallel_and_in_order(kafka_bootstrap: str, topic_factory) -> None:
    topic = await topic_factory(1)
    await publish(kafka_bootstrap, topic, keys=40, per_key=15)
    rng = random.Random(3)
    handler = Recorder(delay=lambda: rng.uniform(0, 0.02))
    group = f"g-{uuid.uuid4().hex[:6]}"
    consumer = member(kafka_bootstrap, topic, group, handler, max_in_flight=16, max_buffered=200)
    await consumer.start()
    try:
        await wait_until(lambda: handler.total() == 600)
        await wait_until(lambda: consumer.buffered == 0)
    finally:
        await consumer.stop()
    assert handler.overlaps == [], "two records of one key ran at once"
    assert all(handler.seen[f"k{k}"] == list(range(15)) for k in range(40)), "a key ran out of order"
    assert 8 <= consumer.peak_in_flight <= 16, consumer.peak_in_flight
    assert await lag_of(kafka_bootstrap, group, topic) == [0], "every offset is committed after a clean stop"


async def test_fetching_pauses_at_the_buffer_limit_and_the_member_stays_in_the_group(
    kafka_bootstrap: str, topic_factory
) -> None:
    topic = await topic_factory(3)
    await publish(kafka_bootstrap, topic, keys=30, per_key=8)
    handler = Recorder(delay=lambda: 0.03)
    consumer = member(kafka_bootstrap, topic, f"g-{uuid.uuid4().hex[:6]}", handler, max_in_flight=2,
                      max_buffered=10, consumer_options={"max_poll_interval_ms": 1500, "session_timeout_ms": 6000})
    await consumer.start()
    peak_buffered, paused_seen = 0, False
    try:
        while handler.total() < 240:
            peak_buffered = max(peak_buffered, consumer.buffered)
            paused_seen |= bool(consumer._consumer.paused())
            await asyncio.sleep(0.005)
    finally:
        await consumer.stop()
    assert paused_seen, "fetching never paused although the handler was slower than the fetches"
    assert peak_buffered <= 10
    # 240 records x 30 ms over 2 slots is 3.6 s, longer than max_poll_interval: the poll loop kept going
    assert consumer.assignments == 1, "the member was evicted or rebalanced while waiting on its handler"
    assert all(handler.seen[f"k{k}"] == list(range(8)) for k in range(30))


async def test_a_failing_record_is_retried_in_place_while_other_keys_go_on(
    kafka_bootstrap: str, topic_factory
) -> None:
    topic = await topic_factory(1)
    await publish(kafka_bootstrap, topic, keys=10, per_key=5)
    handler = Recorder()
    handler.fail[("k3", 1)] = 2  # the 2nd record of k3 fails twice (0.5 s, then 1 s of back-off)
    group = f"g-{uuid.uuid4().hex[:6]}"
    consumer = member(kafka_bootstrap, topic, group, handler, max_in_flight=4, max_buffered=100)
    await consumer.start()
    try:
        await wait_until(lambda: handler.total() == 50 - 4)  # all but k3's records from seq 1 on
        assert handler.seen["k3"] == [0]
        await asyncio.sleep(0.3)
        # k3's record 1 is offset 13 (seq-major publishing of 10 keys); nothing at or past it may be committed
        assert await lag_of(kafka_bootstrap, group, topic) == [50 - 13]
        await wait_until(lambda: handler.total() == 50)
        await wait_until(lambda: consumer.buffered == 0)
        await asyncio.sleep(0.3)
        assert await lag_of(kafka_bootstrap, group, topic) == [0]
    finally:
        await consumer.stop()
    assert handler.seen["k3"] == [0, 1, 2, 3, 4]
    assert handler.fail[("k3", 1)] == 0


async def test_members_joining_and_leaving_never_run_one_key_twice_at_once(
    kafka_bootstrap: str, topic_factory
) -> None:
    topic = await topic_factory(3)
    await publish(kafka_bootstrap, topic, keys=60, per_key=10)
    rng = random.Random(5)
    handler = Recorder(delay=lambda: rng.uniform(0.005, 0.03))  # one recorder: overlaps across members show
    group = f"g-{uuid.uuid4().hex[:6]}"
    a = member(kafka_bootstrap, topic, group, handler, max_in_flight=8, client_id="a")
    b = member(kafka_bootstrap, topic, group, handler, max_in_flight=8, client_id="b")
    await a.start()
    try:
        await wait_until(lambda: handler.total() >= 100)
        await b.start()
        await wait_until(lambda: b.assignment != set() and len(a.assignment) < 3)
        await wait_until(lambda: handler.total() >= 300)
        await a.stop()  # graceful leave: drains its in-flight records and commits before B takes over
        await wait_until(lambda: len(b.assignment) == 3)
        await wait_until(lambda: all(len(set(handler.seen[f"k{k}"])) == 10 for k in range(60)))
        await wait_until(lambda: b.buffered == 0)
        await asyncio.sleep(0.3)
        assert await lag_of(kafka_bootstrap, group, topic) == [0, 0, 0]
    finally:
        await a.stop()
        await b.stop()
    assert handler.overlaps == [], "a key ran on two members at once during a hand-over"
    for k in range(60):
        assert handler.seen[f"k{k}"] == list(range(10)), f"k{k} ran out of order or twice: {handler.seen[f'k{k}']}"


async def test_a_record_waiting_for_its_due_time_holds_no_slot(kafka_bootstrap: str, topic_factory) -> None:
    topic = await topic_factory(1)
    due_late = int((time.time() + 2.0) * 1000)
    p = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await p.start()
    await p.send_and_wait(topic, key=b"late", value=b"0", headers=[("due", str(due_late).encode())])
    for seq in range(5):
        await p.send_and_wait(topic, key=b"soon", value=str(seq).encode(), headers=[("due", b"0")])
    await p.stop()
    started: dict[str, float] = {}
    handler = Recorder()

    async def timed(record: Record) -> None:
        started.setdefault((record.key or b"").decode(), time.time())
        await handler(record)

    consumer = KeyOrderedConsumer(bootstrap_servers=kafka_bootstrap, group_id=f"g-{uuid.uuid4().hex[:6]}",
                                  topics=[topic], handler=timed, max_in_flight=1, retry_wait=retry_wait,
                                  due_ms=lambda r: int(r.header("due") or 0))
    await consumer.start()
    try:
        await wait_until(lambda: handler.total() == 6)
    finally:
        await consumer.stop()
    assert handler.seen["soon"] == [0, 1, 2, 3, 4]
    assert started["soon"] < due_late / 1000, "the only slot was held by a record that was not due"
    assert started["late"] >= due_late / 1000, "a record ran before it was due"


async def test_the_next_owner_skips_what_was_finished_beyond_the_commit_point(
    kafka_bootstrap: str, topic_factory
) -> None:
    """A record stuck at the head (cancelled at the drain timeout) holds the commit point back; the records
    finished after it travel in the commit's metadata, and the next member runs only the stuck one."""
    topic = await topic_factory(1)
    await publish(kafka_bootstrap, topic, keys=10, per_key=1)  # k0 at offset 0 ... k9 at offset 9
    group = f"g-{uuid.uuid4().hex[:6]}"
    first = Recorder()

    async def stuck_on_k0(record: Record) -> None:
        if record.key == b"k0":
            await asyncio.sleep(3600)
        await first(record)

    a = KeyOrderedConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, topics=[topic], handler=stuck_on_k0,
                           max_in_flight=4, drain_timeout_seconds=0.5, retry_wait=retry_wait)
    await a.start()
    try:
        await wait_until(lambda: first.total() == 9)
    finally:
        await a.stop()  # k0 is cancelled after 0.5 s; offsets 1-9 are done beyond the commit point 0
    assert await lag_of(kafka_bootstrap, group, topic) == [10], "the commit point stays at the unfinished k0"

    second = Recorder()
    b = member(kafka_bootstrap, topic, group, second, max_in_flight=4)
    await b.start()
    try:
        await wait_until(lambda: second.total() == 1 and b.skipped_done == 9)
        await asyncio.sleep(0.5)
        assert await lag_of(kafka_bootstrap, group, topic) == [0]
    finally:
        await b.stop()
    assert dict(second.seen) == {"k0": [0]}, "the next owner ran records the first had finished"


class Batched:
    """A batch handler over a `Recorder`: each record of the batch in the order given, one after another."""

    def __init__(self, recorder: Recorder, fail_first: int = 0) -> None:
        self.recorder = recorder
        self.sizes: list[int] = []
        self.fail_first = fail_first  # the first this-many batches raise after handling their first record

    async def __call__(self, records: list[Record]) -> None:
        for i, record in enumerate(records):
            await self.recorder(record)
            if i == 0 and self.fail_first:
                self.fail_first -= 1
                raise RuntimeError("the batch's outcomes could not be published")
        self.sizes.append(len(records))


def batch_member(bootstrap: str, topic: str, group: str, handler: Batched, **kwargs: object) -> KeyOrderedConsumer:
    async def unused(record: Record) -> None:
        raise AssertionError("batch mode runs the batch handler only")

    return KeyOrderedConsumer(bootstrap_servers=bootstrap, group_id=group, topics=[topic], handler=unused,
                              batch_handler=handler, retry_wait=retry_wait, **kwargs)  # type: ignore[arg-type]


async def test_batch_mode_hands_whole_fetches_over_in_order_and_commits_every_offset(
    kafka_bootstrap: str, topic_factory
) -> None:
    topic = await topic_factory(2)
    await publish(kafka_bootstrap, topic, keys=40, per_key=15)
    handler = Batched(Recorder())
    group = f"g-{uuid.uuid4().hex[:6]}"
    consumer = batch_member(kafka_bootstrap, topic, group, handler, max_buffered=200)
    await consumer.start()
    try:
        await wait_until(lambda: handler.recorder.total() == 600)
        await wait_until(lambda: consumer.buffered == 0)
    finally:
        await consumer.stop()
    assert all(handler.recorder.seen[f"k{k}"] == list(range(15)) for k in range(40)), "a key ran out of order"
    assert sum(handler.sizes) == 600 and max(handler.sizes) > 1 and max(handler.sizes) <= 200
    assert await lag_of(kafka_bootstrap, group, topic) == [0, 0], "every offset is committed after a clean stop"


async def test_batch_mode_fetches_the_next_batch_while_one_is_written_and_no_more(
    kafka_bootstrap: str, topic_factory
) -> None:
    topic = await topic_factory(1)
    await publish(kafka_bootstrap, topic, keys=20, per_key=20)
    release = asyncio.Event()
    handler = Batched(Recorder())

    async def held(records: list[Record]) -> None:
        await release.wait()  # the first batch is "being written" until the test lets it go
        await handler(records)

    group = f"g-{uuid.uuid4().hex[:6]}"
    consumer = batch_member(kafka_bootstrap, topic, group, handler, max_in_flight=10, max_buffered=50)
    consumer._batches.handler = held  # type: ignore[union-attr]
    await consumer.start()
    try:
        await wait_until(lambda: consumer.in_flight > 0 and consumer.buffered - consumer.in_flight >= 50)
        await asyncio.sleep(1.0)  # polls go on meanwhile; back-pressure must hold them
        assert consumer.in_flight <= 50, "a batch is at most one fetch's worth"
        assert consumer.buffered - consumer.in_flight <= 50, "fetching went on past max_buffered waiting"
        release.set()
        await wait_until(lambda: handler.recorder.total() == 400)
        await wait_until(lambda: consumer.buffered == 0)
    finally:
        release.set()
        await consumer.stop()
    assert all(handler.recorder.seen[f"k{k}"] == list(range(20)) for k in range(20)), "a key ran out of order"
    assert max(handler.sizes) <= 100
    assert await lag_of(kafka_bootstrap, group, topic) == [0]


async def test_batch_mode_retries_a_failing_batch_in_place(kafka_bootstrap: str, topic_factory) -> None:
    topic = await topic_factory(1)
    await publish(kafka_bootstrap, topic, keys=10, per_key=5)
    handler = Batched(Recorder(), fail_first=2)
    group = f"g-{uuid.uuid4().hex[:6]}"
    consumer = batch_member(kafka_bootstrap, topic, group, handler)
    await consumer.start()
    try:
        await wait_until(lambda: sum(handler.sizes) == 50)
        await wait_until(lambda: consumer.buffered == 0)
    finally:
        await consumer.stop()
    assert handler.fail_first == 0, "the failing batches were not retried"
    for k in range(10):  # a retried batch runs its first record again (effects are idempotent), in order
        assert list(dict.fromkeys(handler.recorder.seen[f"k{k}"])) == list(range(5))
    assert await lag_of(kafka_bootstrap, group, topic) == [0]


async def test_batch_mode_members_joining_and_leaving_never_run_one_key_twice_at_once(
    kafka_bootstrap: str, topic_factory
) -> None:
    topic = await topic_factory(3)
    await publish(kafka_bootstrap, topic, keys=60, per_key=10)
    rng = random.Random(6)
    recorder = Recorder(delay=lambda: rng.uniform(0.0005, 0.002))
    group = f"g-{uuid.uuid4().hex[:6]}"
    a = batch_member(kafka_bootstrap, topic, group, Batched(recorder), client_id="a", max_in_flight=50,
                     max_buffered=50)
    b = batch_member(kafka_bootstrap, topic, group, Batched(recorder), client_id="b", max_in_flight=50,
                     max_buffered=50)
    await a.start()
    try:
        await wait_until(lambda: recorder.total() >= 100)
        await b.start()
        await wait_until(lambda: b.assignment != set() and len(a.assignment) < 3)
        await wait_until(lambda: recorder.total() >= 300)
        await a.stop()
        await wait_until(lambda: len(b.assignment) == 3)
        await wait_until(lambda: all(len(set(recorder.seen[f"k{k}"])) == 10 for k in range(60)))
        await wait_until(lambda: b.buffered == 0)
        await asyncio.sleep(0.3)
        assert await lag_of(kafka_bootstrap, group, topic) == [0, 0, 0]
    finally:
        await a.stop()
        await b.stop()
    assert recorder.overlaps == [], "a key ran on two members at once during a hand-over"
    for k in range(60):
        assert recorder.seen[f"k{k}"] == list(range(10)), f"k{k} ran out of order or twice: {recorder.seen[f'k{k}']}"


async def test_send_many_puts_each_key_where_send_would_in_order_whatever_the_batch_size(
    kafka_bootstrap: str, topic_factory
) -> None:
    """The publisher builds record batches itself: same partition per key as the producer's `send`, every message
    once and in order, batches that fill up continued in new ones, and a message no batch holds still refused."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.errors import MessageSizeTooLargeError

    from consumers.engine.publishing import KafkaPublisher

    topic, reference = await topic_factory(5), await topic_factory(5)
    publisher = KafkaPublisher(kafka_bootstrap, "test-send-many")
    await publisher.start()
    try:
        messages = [(topic, f"{k}:{i}:".encode() + b"x" * 3000, f"k{k}".encode(), [("h", b"1")])
                    for i in range(40) for k in range(25)]  # 3 MB: many batches per partition (16 KB each)
        await publisher.send_many(messages)
        for k in range(25):
            await publisher.send(reference, value=b"ref", key=f"k{k}".encode())
        with pytest.raises(MessageSizeTooLargeError):
            await publisher.send_many([(topic, b"y" * 2_000_000, b"k0", [])])
    finally:
        await publisher.stop()
    consumer = AIOKafkaConsumer(topic, reference, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                                group_id=f"g-{uuid.uuid4().hex[:6]}")
    await consumer.start()
    seen: dict[str, list[tuple[int, int]]] = defaultdict(list)  # "topic key" -> (partition, i) in arrival order
    try:
        deadline = time.monotonic() + 30
        while sum(len(v) for v in seen.values()) < 1000 + 25 and time.monotonic() < deadline:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for r in records:
                    i = int(r.value.split(b":")[1]) if tp.topic == topic else -1
                    seen[f"{tp.topic} {r.key.decode()}"].append((tp.partition, i))
                    assert tp.topic == reference or dict(r.headers) == {"h": b"1"}
    finally:
        await consumer.stop()
    for k in range(25):
        mine, ref = seen[f"{topic} k{k}"], seen[f"{reference} k{k}"]
        assert [i for _, i in mine] == list(range(40)), f"k{k}: every message once, in order"
        assert {p for p, _ in mine} == {ref[0][0]}, f"k{k}: on the partition send() chose"
