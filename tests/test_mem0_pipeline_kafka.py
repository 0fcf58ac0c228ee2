"""On a real broker with `memory.backend = "mem0"`, the worker enriches events exactly as with the embedded store."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import TopicReader, outputs_by_event
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.worker import Worker
from ticket_enricher.samples import generate
from ticket_enricher.samples.publish import publish_events
from ticket_enricher.testing.mem0_server import FakeMem0

pytestmark = pytest.mark.kafka


async def test_mem0_backend_gives_the_same_tags(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader, fake_mem0: FakeMem0,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEM0_API_KEY", fake_mem0.api_key)
    settings = load_settings(
        kafka=kafka_settings.kafka.model_dump(), topics=kafka_settings.topics.model_dump(),
        memory={"backend": "mem0", "mem0_base_url": fake_mem0.url},
    )
    stream = generate(seed=13, accounts=8)
    await publish_events(producer, settings.topics.tickets, stream.events)
    async with Worker(settings):
        records = await reader.read(settings.topics.enriched, until=lambda r: len(r) >= len(stream.events))
    outputs = outputs_by_event(records)
    final = {e.account_id: stream.graded(outputs[e.event_id][-1]["tags"]) for e in stream.events}
    assert final == stream.truth
    notes = [m for m in fake_mem0.memories.values() if m["metadata"].get("kind") == "ticket_note"]
    assert len(notes) == len(stream.events)


async def test_mem0_backend_without_a_key_fails_at_start(kafka_settings: Settings) -> None:
    from ticket_enricher.core.errors import MemoryConfigError

    settings = load_settings(kafka=kafka_settings.kafka.model_dump(), memory={"backend": "mem0"})
    with pytest.raises(MemoryConfigError, match="MEM0_API_KEY"):
        async with Worker(settings):
            pass
