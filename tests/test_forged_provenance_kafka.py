"""A ticket producer cannot forge the worker's provenance headers: an attempt count on the input topic neither
skips the retries, nor can an "original topic" header hand a ticket to the deletion flow and erase another
account. Both attacks, as a producer with write access to the ticket topic only would mount them, with the model
answering one 429."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from tests.conftest import TopicReader, outputs_by_event
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.operations.topics import create_topics
from ticket_enricher.consumers.worker import Worker
from ticket_enricher.core.events import Ticket, TicketEvent
from ticket_enricher.memory.filters import scope
from ticket_enricher.samples import generate
from ticket_enricher.samples.publish import publish_events
from ticket_enricher.testing.openai_server import FakeOpenAI, ticket_of

pytestmark = pytest.mark.kafka


async def with_model(base: Settings, llm: FakeOpenAI) -> Settings:
    settings = load_settings(
        kafka=base.kafka.model_dump(), topics=base.topics.model_dump(), memory=base.memory.model_dump(),
        model={"name": "fake-llm", "base_url": llm.url + "/v1"},
        retry={"tiers_seconds": [1, 2], "max_attempts": 3}, ops={"http_port": 0},
    )
    await create_topics(settings)
    return settings


def refuse_once(llm: FakeOpenAI, ticket_id: str) -> list[int]:
    """The model answers 429 (Retry-After: 1) to the first call for this ticket, and serves every other call."""
    refused: list[int] = []
    lock = threading.Lock()

    def refuse(body: dict[str, Any]) -> dict[str, str] | None:
        with lock:
            if ticket_of(body)["ticket_id"] == ticket_id and not refused:
                refused.append(1)
                return {"Retry-After": "1"}
        return None

    llm.refuse = refuse
    return refused


def foreign(topic: str) -> float:
    return REGISTRY.get_sample_value("ticket_enricher_foreign_provenance_total", {"topic": topic}) or 0.0


async def test_a_forged_attempt_count_on_the_input_topic_does_not_skip_the_retries(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader, llm: FakeOpenAI
) -> None:
    settings = await with_model(kafka_settings, llm)
    event = generate(seed=71, accounts=1).events[0]
    refused = refuse_once(llm, event.ticket.id)
    before = foreign(settings.topics.tickets)
    await producer.send_and_wait(settings.topics.tickets, event.model_dump_json().encode(),
                                 key=event.account_id.encode(),
                                 headers=[("x-retry-attempt", b"99"), ("x-dlq-reason", b"forged"),
                                          ("trace-id", b"keep-me")])
    async with Worker(settings):
        records = await reader.read(settings.topics.enriched, until=lambda r: len(r) >= 1, timeout=60)
        await reader.settle(settings.topics.enriched, quiet=1.0)
    assert refused, "the model never answered 429: the attack was not exercised"
    assert list(outputs_by_event(records)) == [event.event_id]
    assert await reader.read_to_end(settings.topics.dlq) == [], "the forged count sent the event to the DLQ"
    tier = await reader.read_to_end(f"{settings.topics.tickets}.delay.1s")
    assert len(tier) == 1
    headers = tier[0].headers
    assert [v for k, v in headers if k == "x-retry-attempt"] == [b"1"], "the forged count was carried on"
    assert not any(k.startswith("x-dlq-") for k, _ in headers)
    assert ("trace-id", b"keep-me") in headers, "the producer's own headers are carried byte for byte"
    assert foreign(settings.topics.tickets) == before + 1


async def test_a_forged_original_topic_cannot_reach_the_deletion_flow(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader, llm: FakeOpenAI
) -> None:
    settings = await with_model(kafka_settings, llm)
    victims = generate(seed=72, accounts=1).events  # one account, the tenant the attacker wants to wipe
    victim = victims[0].account_id
    await publish_events(producer, settings.topics.tickets, victims)
    attack = TicketEvent(
        event_id="mallory-1", type="ticket.created", occurred_at=victims[-1].occurred_at, account_id="mallory",
        ticket=Ticket(id="M-1", subject="hello", body="nothing to see", priority="low", channel="api"),
    )
    payload = json.loads(attack.model_dump_json()) | {
        "request_id": "dsar-forged", "subject": {"account_id": victim}, "requested_at": "2026-11-25T09:00:00Z",
    }
    refused = refuse_once(llm, "M-1")
    async with Worker(settings) as worker:
        await reader.read(settings.topics.enriched, until=lambda r: len(r) >= len(victims), timeout=60)
        held = (await worker.store.list(filters=scope(user_id=victim), page_size=1)).count
        assert held > 0
        await producer.send_and_wait(
            settings.topics.tickets, json.dumps(payload).encode(), key=b"mallory",
            headers=[("x-retry-original-topic", settings.topics.deletion_requests.encode()),
                     ("x-retry-attempt", b"1"), ("x-retry-due-ms", b"0")])
        records = await reader.read(settings.topics.enriched, until=lambda r: len(r) >= len(victims) + 1,
                                    timeout=60)
        await reader.settle(settings.topics.enriched, quiet=1.5)
        remaining = (await worker.store.list(filters=scope(user_id=victim), page_size=1)).count
    assert refused, "the model never answered 429: the attack was not exercised"
    assert remaining == held, "another account's memories were erased"
    assert await reader.read_to_end(settings.topics.deletion_completed) == []
    outputs = outputs_by_event(records)
    assert len(outputs["mallory-1"]) == 1 and outputs["mallory-1"][0]["account_id"] == "mallory"
    assert await reader.read_to_end(settings.topics.dlq) == []
