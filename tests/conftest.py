"""Shared fixtures: one real Kafka broker per session, isolated topics per test, no secrets, no remote calls."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from tests.model_server_fixtures import model_server  # noqa: F401 (a fixture)
from tests.ordered_helpers import topic_factory  # noqa: F401 (a fixture)
from tests.postgres_fixtures import postgres_dsn, postgres_server  # noqa: F401 (fixtures)
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.operations.topics import create_topics
from ticket_enricher.localkafka import LocalBroker
from ticket_enricher.memory.sqlite import SqliteMemoryStore
from ticket_enricher.memory.store import MemoryStore
from ticket_enricher.testing.openai_server import FakeOpenAI, diligent

if TYPE_CHECKING:
    from ticket_enricher.core.events import TicketEvent
    from ticket_enricher.testing.mem0_server import FakeMem0
    from ticket_enricher.testing.openai_server import FakeOpenAI

_SECRET_PREFIXES = ("OPENAI_", "MEM0_", "TICKET_ENRICHER_", "PGPASSWORD")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up a developer's keys or settings."""
    import os

    for name in list(os.environ):
        if name.startswith(_SECRET_PREFIXES) and name not in ("TICKET_ENRICHER_KAFKA_LIB",
                                                               "TICKET_ENRICHER_PG_BINDIR",
                                                               "TICKET_ENRICHER_MODEL_SERVER_DIR"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection that leaves the machine: no test may reach a real model or memory API."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> None:  # address: whatever socket.connect takes
        if isinstance(address, tuple) and self.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise ConnectionRefusedError(f"tests may only connect to loopback, not {host}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteMemoryStore]:
    """The embedded memory store on a fresh file (`tmp_path / "m.db"`)."""
    s = SqliteMemoryStore(tmp_path / "m.db")
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real single-node KRaft broker from the official jars, on a free port, for the whole session."""
    broker = LocalBroker(tmp_path_factory.mktemp("kafka"), heap="768m")
    bootstrap = broker.start()
    try:
        yield bootstrap
    finally:
        broker.stop()


@pytest.fixture
async def kafka_settings(kafka_bootstrap: str, tmp_path: Path) -> Settings:
    """Settings with topics and a group of this test's own, already created."""
    run = uuid.uuid4().hex[:8]
    settings = load_settings(
        kafka={"bootstrap_servers": kafka_bootstrap, "group_id": f"enricher-{run}"},
        topics={"tickets": f"tickets-{run}", "enriched": f"enriched-{run}", "dlq": f"dlq-{run}",
                "deletion_requests": f"forget-{run}", "deletion_completed": f"forgotten-{run}"},
        memory={"path": tmp_path / "memory.db"},
        ops={"http_port": 0},
    )
    await create_topics(settings)
    return settings


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    """A plain aiokafka producer, as a support desk would use."""
    p = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=5)
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


class TopicReader:
    """Reads whole topics from the beginning without joining any group."""

    def __init__(self, bootstrap: str, settings: Settings) -> None:
        self.bootstrap = bootstrap
        self.settings = settings
        self.records: dict[str, list[ConsumerRecord]] = {}

    async def _from_beginning(self, topic: str) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        parts = [TopicPartition(topic, p) for p in range(self.settings.topics.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        return consumer, parts

    async def read(
        self, topic: str, until: Callable[[list[ConsumerRecord]], bool], timeout: float = 60.0
    ) -> list[ConsumerRecord]:
        consumer, _ = await self._from_beginning(topic)
        try:
            records: list[ConsumerRecord] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while not until(records) and loop.time() < deadline:
                for batch in (await consumer.getmany(timeout_ms=300)).values():
                    records.extend(batch)
            return records
        finally:
            await consumer.stop()

    async def read_to_end(self, topic: str, timeout: float = 60.0) -> list[ConsumerRecord]:
        """Every record on `topic` up to its end offsets when the call starts, however long fetching takes."""
        consumer, parts = await self._from_beginning(topic)
        try:
            ends = await consumer.end_offsets(parts)
            records: list[ConsumerRecord] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            left = {tp for tp, end in ends.items() if end > 0}
            while left:
                assert loop.time() < deadline, f"could not read {topic} to its end in {timeout}s"
                for tp, batch in (await consumer.getmany(*left, timeout_ms=300)).items():
                    records.extend(r for r in batch if r.offset < ends[tp])
                for tp in list(left):
                    if await consumer.position(tp) >= ends[tp]:
                        left.discard(tp)
            return records
        finally:
            await consumer.stop()

    async def settle(self, topic: str, quiet: float = 2.0) -> list[ConsumerRecord]:
        """Everything on `topic` once nothing new has arrived for `quiet` seconds."""
        seen: list[ConsumerRecord] = []
        while True:
            count = len(seen)
            await asyncio.sleep(quiet)
            seen = await self.read_to_end(topic)
            if len(seen) == count:
                return seen


@pytest.fixture
def reader(kafka_bootstrap: str, kafka_settings: Settings) -> TopicReader:
    return TopicReader(kafka_bootstrap, kafka_settings)


def outputs_by_event(records: list[ConsumerRecord]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        payload = json.loads(rec.value)
        out.setdefault(payload["event_id"], []).append(payload)
    return out


@pytest.fixture
def fake_mem0() -> Iterator[FakeMem0]:
    """A fake Mem0 Platform on loopback; at teardown every request the adapter sent must match the spec."""
    from ticket_enricher.testing.contract import violations
    from ticket_enricher.testing.mem0_server import FakeMem0

    server = FakeMem0().start()
    try:
        yield server
    finally:
        server.stop()
    bad = violations([r for r in server.requests if r.path.startswith("/v")])
    assert not bad, "requests outside Mem0's OpenAPI contract:\n" + "\n".join(bad)


@pytest.fixture(params=["sqlite", "mem0", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MemoryStore]:
    """The same behavioural tests run on the embedded store, on Mem0 Platform (through the fake) and on a real
    PostgreSQL (a database of the test's own on the session's server)."""
    if request.param == "sqlite":
        store: MemoryStore = SqliteMemoryStore(tmp_path / "m.db")
    elif request.param == "postgres":
        from ticket_enricher.memory.postgres import PostgresMemoryStore

        store = PostgresMemoryStore(request.getfixturevalue("postgres_dsn"))
    else:
        from ticket_enricher.memory.mem0 import Mem0MemoryStore, mem0_client

        server = request.getfixturevalue("fake_mem0")
        store = Mem0MemoryStore(mem0_client(api_key=server.api_key, base_url=server.url))
    try:
        yield store
    finally:
        await store.close()


def command_env(settings: Settings, model_url: str | None = None, **settings_env: str) -> dict[str, str]:
    """The environment for a `ticket-enricher` subprocess of this test: its broker, topics, group and memory
    file, endpoints off (several members share a host) unless `OPS__HTTP_PORT` says otherwise, the fake model
    when given, and `settings_env` as further `TICKET_ENRICHER_<KEY>` values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MEM0_", "TICKET_"))}
    values = {
        "KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers, "KAFKA__GROUP_ID": settings.kafka.group_id,
        "TOPICS__TICKETS": settings.topics.tickets, "TOPICS__ENRICHED": settings.topics.enriched,
        "TOPICS__DLQ": settings.topics.dlq, "TOPICS__DELETION_REQUESTS": settings.topics.deletion_requests,
        "TOPICS__DELETION_COMPLETED": settings.topics.deletion_completed,
        "MEMORY__PATH": str(settings.memory.path), "OPS__HTTP_PORT": "0",
    } | settings_env
    env |= {f"TICKET_ENRICHER_{k}": v for k, v in values.items()}
    if model_url is not None:
        env |= {"TICKET_ENRICHER_MODEL__NAME": "fake-model", "OPENAI_BASE_URL": model_url + "/v1",
                "OPENAI_API_KEY": "test-not-secret"}
    return env


@pytest.fixture
def slow_model() -> Iterator[FakeOpenAI]:
    """The fake OpenAI-compatible model, diligent and 50 ms per call, on loopback."""
    from ticket_enricher.testing.openai_server import FakeOpenAI, diligent

    server = FakeOpenAI().start()
    server.script = diligent
    server.latency_seconds = 0.05
    try:
        yield server
    finally:
        server.stop()


async def enriched(settings: Settings, expected: int, timeout: float = 90) -> int:
    """How many records the output topic holds, read over `settings`' own connection (security included),
    waiting up to `timeout` for `expected`."""
    from ticket_enricher.consumers.engine.connection import client_options

    consumer = AIOKafkaConsumer(**client_options(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(settings.topics.enriched, p) for p in range(settings.topics.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        seen, deadline = 0, time.monotonic() + timeout
        while seen < expected and time.monotonic() < deadline:
            seen += sum(len(b) for b in (await consumer.getmany(timeout_ms=500)).values())
        return seen
    finally:
        await consumer.stop()


async def publish_over(settings: Settings, events: list[TicketEvent]) -> None:
    """Publish `events` to the input topic over `settings`' own connection (security included)."""
    from ticket_enricher.consumers.engine.connection import client_options
    from ticket_enricher.samples.publish import publish_events

    producer = AIOKafkaProducer(**client_options(settings))
    await producer.start()
    try:
        await publish_events(producer, settings.topics.tickets, events)
    finally:
        await producer.stop()


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    """The fake OpenAI-compatible server on loopback, answering as a diligent agent (search, note, tag, summary);
    a module that wants another script defines its own `llm`."""
    server = FakeOpenAI().start()
    server.script = diligent
    yield server
    server.stop()
