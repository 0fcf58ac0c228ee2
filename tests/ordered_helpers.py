"""What the KeyOrderedConsumer tests share: topics of their own, a recording handler, a publisher."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from ticket_enricher.config.settings import load_settings
from ticket_enricher.consumers.engine.clients import KafkaClients
from ticket_enricher.consumers.engine.ordered import KeyOrderedConsumer
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.policy import in_place_wait
from ticket_enricher.consumers.operations.lag import group_lag

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


def clients(bootstrap: str, client_id: str = "ticket-enricher") -> KafkaClients:
    return KafkaClients.plaintext(bootstrap, client_id)


def member(bootstrap: str, topic: str, group: str, handler: Recorder, client_id: str = "ticket-enricher",
           **kwargs: Any) -> KeyOrderedConsumer:
    return KeyOrderedConsumer(clients=clients(bootstrap, client_id), group_id=group, topics=[topic],
                              handler=handler, retry_wait=retry_wait, **kwargs)


async def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def lag_of(bootstrap: str, group: str, topic: str) -> list[int]:
    return [p.lag for p in await group_lag(clients(bootstrap), group, [topic])]


async def hand_over(bootstrap: str, group: str, topic: str, a: KeyOrderedConsumer, b: KeyOrderedConsumer,
                    recorder: Recorder) -> None:
    """60 keys x 10 records through two members of one group: B joins while A runs, then A leaves gracefully
    (drains its in-flight records and commits before B takes over). Every key ran in order, once each, never on
    both members at once, and the group's lag ends at 0."""
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
        assert await lag_of(bootstrap, group, topic) == [0, 0, 0]
    finally:
        await a.stop()
        await b.stop()
    assert recorder.overlaps == [], "a key ran on two members at once during a hand-over"
    for k in range(60):
        assert recorder.seen[f"k{k}"] == list(range(10)), f"k{k} ran out of order or twice: {recorder.seen[f'k{k}']}"
