"""KeyOrderedConsumer's batch mode on the real broker: whole fetches in order, the next fetched while one is
written, retries in place, hand-over; and the publisher's batches."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.ordered_helpers import Recorder, clients, hand_over, lag_of, publish, retry_wait, wait_until
from ticket_enricher.consumers.engine.ordered import KeyOrderedConsumer
from ticket_enricher.consumers.engine.records import Record

pytestmark = pytest.mark.kafka


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


def batch_member(bootstrap: str, topic: str, group: str, handler: Callable[[list[Record]], Awaitable[None]],
                 client_id: str = "ticket-enricher", **kwargs: Any) -> KeyOrderedConsumer:
    async def unused(record: Record) -> None:
        raise AssertionError("batch mode runs the batch handler only")

    return KeyOrderedConsumer(clients=clients(bootstrap, client_id), group_id=group, topics=[topic],
                              handler=unused, batch_handler=handler, retry_wait=retry_wait,
                              **kwargs)


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
    consumer = batch_member(kafka_bootstrap, topic, group, held, max_in_flight=10, max_buffered=50)
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
    await hand_over(kafka_bootstrap, group, topic, a, b, recorder)


async def test_send_many_puts_each_key_where_send_would_in_order_whatever_the_batch_size(
    kafka_bootstrap: str, topic_factory
) -> None:
    """The publisher builds record batches itself: same partition per key as the producer's `send`, every message
    once and in order, batches that fill up continued in new ones, and a message no batch holds still refused."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.errors import MessageSizeTooLargeError

    from ticket_enricher.consumers.engine.publishing import KafkaPublisher, Message

    topic, reference = await topic_factory(5), await topic_factory(5)
    publisher = KafkaPublisher(clients(kafka_bootstrap, "test-send-many"))
    await publisher.start()
    try:
        messages: list[Message] = [(topic, f"{k}:{i}:".encode() + b"x" * 3000, f"k{k}".encode(), [("h", b"1")])
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
