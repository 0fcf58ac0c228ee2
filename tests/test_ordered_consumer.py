"""KeyOrderedConsumer on the real broker: order per key, concurrency across keys, back-pressure, hand-over."""

from __future__ import annotations

import asyncio
import random
import time
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from tests.ordered_helpers import Recorder, clients, hand_over, lag_of, member, publish, retry_wait, wait_until
from ticket_enricher.consumers.engine.ordered import KeyOrderedConsumer
from ticket_enricher.consumers.engine.records import Record

pytestmark = pytest.mark.kafka


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
            paused_seen |= bool(consumer.paused)
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
    await hand_over(kafka_bootstrap, group, topic, a, b, handler)


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

    consumer = KeyOrderedConsumer(clients=clients(kafka_bootstrap), group_id=f"g-{uuid.uuid4().hex[:6]}",
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

    a = KeyOrderedConsumer(clients=clients(kafka_bootstrap), group_id=group, topics=[topic], handler=stuck_on_k0,
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


async def test_a_member_draining_past_its_session_timeout_stays_in_the_rebalance(
    kafka_bootstrap: str, topic_factory
) -> None:
    """A revoke waits up to `drain_timeout` for the records in flight, which can take longer than the session
    timeout (a model call of seconds). The group must wait for that member, not expel it: expelled, its commit is
    refused, the next owner runs the same records again while they are still running, and the expelled member's
    rejoin starts the next rebalance (a storm, once several members drain slowly)."""
    topic = await topic_factory(2)
    await publish(kafka_bootstrap, topic, keys=4, per_key=1)
    handler = Recorder(delay=lambda: 9.0)  # longer than the 6 s session timeout
    group = f"g-{uuid.uuid4().hex[:6]}"
    options = {"consumer_options": {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1500}}
    a = member(kafka_bootstrap, topic, group, handler, max_in_flight=4, drain_timeout_seconds=20, client_id="a",
               **options)
    b = member(kafka_bootstrap, topic, group, handler, max_in_flight=4, drain_timeout_seconds=20, client_id="b",
               **options)
    await a.start()
    try:
        await wait_until(lambda: len(handler.running) == 4)
        await b.start()  # a rebalance while A's four records have about 9 s to go
        await wait_until(lambda: handler.total() >= 4 and not handler.running, timeout=60)
        await wait_until(lambda: len(a.assignment) == 1 and len(b.assignment) == 1, timeout=30)
        await asyncio.sleep(1.0)
        assert await lag_of(kafka_bootstrap, group, topic) == [0, 0], "A's commit in its revoke was refused"
    finally:
        await a.stop()
        await b.stop()
    assert handler.overlaps == [], "B ran records that A was still running"
    assert dict(handler.seen) == {f"k{k}": [0] for k in range(4)}, "a record ran twice"
