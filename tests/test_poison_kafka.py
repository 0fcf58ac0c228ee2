"""A thousand poison records of every kind, interleaved with valid events: every bad one is dead-lettered with
its reason, every valid one is processed, and the worker keeps going."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import TopicReader, outputs_by_event
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.operations.topics import create_topics
from ticket_enricher.consumers.worker import Worker
from ticket_enricher.samples import generate

pytestmark = pytest.mark.kafka
MAX_BYTES = 4096


def poison(rng: random.Random, n: int, valid: dict[str, Any]) -> tuple[bytes | None, bytes, str]:
    """One bad record (value, key, expected reason), of the kind n % 12 picks."""
    kind = n % 12
    account = str(valid["account_id"]).encode()
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200))) + b"\xff", account, "invalid_json"
    if kind == 1:
        return json.dumps(valid).encode()[: rng.randint(1, 60)], account, "invalid_json"
    if kind == 2:
        return None, account, "empty"
    if kind == 3:
        return b" \n\t ", account, "empty"
    if kind == 4:
        return b"{" + b'"x": 1,' * (MAX_BYTES // 6) + b'"y": 2}', account, "oversized"
    if kind == 5:
        return json.dumps(rng.choice([[1, 2], "text", 42, None, True])).encode(), account, "schema"
    if kind == 6:
        dropped = rng.choice(["event_id", "occurred_at", "ticket"])
        broken = {k: v for k, v in valid.items() if k != dropped}
        return json.dumps(broken).encode(), account, "schema"
    if kind == 7:
        return json.dumps({**valid, "occurred_at": "2026-03-01T10:00:00"}).encode(), account, "schema"
    if kind == 8:
        ticket = {**valid["ticket"], "priority": rng.choice(["p1", "", "URGENT!!", 3])}
        return json.dumps({**valid, "ticket": ticket}).encode(), account, "schema"
    if kind == 9:
        return json.dumps({**valid, "account_id": ""}).encode(), account, "schema"
    if kind == 10:
        return json.dumps(valid).encode(), b"someone-else", "key_mismatch"
    return json.dumps({**valid, "event_id": {"nested": ["x"]}}).encode(), account, "schema"


@pytest.mark.timeout(240)
async def test_poison_corpus(kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader) -> None:
    settings = load_settings(kafka=kafka_settings.kafka.model_dump(), topics=kafka_settings.topics.model_dump(),
                             memory=kafka_settings.memory.model_dump(), worker={"max_message_bytes": MAX_BYTES})
    await create_topics(settings)
    rng = random.Random(99)
    stream = generate(seed=61, accounts=30)
    valid = stream.events
    expected: dict[str, str] = {}
    bad_count = 1200
    per_valid = bad_count // len(valid) + 1
    n = 0
    for event in valid:
        for _ in range(per_valid):
            if n < bad_count:
                value, key, reason = poison(rng, n, json.loads(event.model_dump_json()))
                await producer.send(settings.topics.tickets, value, key=key, headers=[("poison-id", str(n).encode())])
                expected[str(n)] = reason
                n += 1
        await producer.send(settings.topics.tickets, event.model_dump_json().encode(), key=event.account_id.encode())
    await producer.flush()
    assert len(expected) == bad_count and len(set(expected.values())) == 5

    async with Worker(settings):
        dead = await reader.read(settings.topics.dlq, until=lambda r: len(r) >= bad_count, timeout=180)
        done = await reader.read(settings.topics.enriched, until=lambda r: len(r) >= len(valid), timeout=60)
        last = generate(seed=62, accounts=1).events[0]
        await producer.send_and_wait(settings.topics.tickets, last.model_dump_json().encode(),
                                     key=last.account_id.encode())
        after = await reader.read(settings.topics.enriched, until=lambda r: last.event_id in outputs_by_event(r))

    got = {dict(r.headers)["poison-id"].decode(): dict(r.headers)["x-dlq-reason"].decode()
           for r in dead}
    assert got == expected
    assert set(outputs_by_event(done)) == {e.event_id for e in valid}
    assert last.event_id in outputs_by_event(after), "the worker must still be processing after the poison"
