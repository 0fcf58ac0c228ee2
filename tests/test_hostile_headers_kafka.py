"""Hostile headers on every topic the worker reads: forged provenance on both input topics, a due time in the
year 3000 and contradicting headers on the delay tiers, non-UTF-8 and 1 MB values, duplicated names, a record that
only just fits the broker. Nothing is lost, nothing crosses a tenant or a flow, the worker stays up, and every
group's commit point reaches the end. With signing on, a delay record the worker did not write is dead-lettered."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from prometheus_client import REGISTRY

from tests.conftest import TopicReader, outputs_by_event
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.operations.lag import group_lag
from ticket_enricher.consumers.operations.status import watched_groups
from ticket_enricher.consumers.operations.topics import create_topics
from ticket_enricher.consumers.worker import Worker
from ticket_enricher.core.events import DeletionRequest, Subject, Ticket, TicketEvent
from ticket_enricher.memory.filters import scope
from ticket_enricher.testing.openai_server import FakeOpenAI, diligent, ticket_of

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]
YEAR_3000_MS = b"32503680000000"
PRODUCER_LIMIT = 1_048_576  # aiokafka's (and the worker's) max_request_size, just under the broker's default


def ticket(n: int, account: str) -> TicketEvent:
    return TicketEvent(
        event_id=f"ev-{n}", type="ticket.created", occurred_at=datetime(2026, 11, 20, 9, n, tzinfo=UTC),
        account_id=account,
        ticket=Ticket(id=f"T-{n}", subject="Export question", body="How do I export the report?",
                      priority="normal", channel="email"),
    )


def value(event: TicketEvent) -> bytes:
    return event.model_dump_json().encode()


def foreign(topic: str) -> float:
    return REGISTRY.get_sample_value("ticket_enricher_foreign_provenance_total", {"topic": topic}) or 0.0


def nearly_too_large(key: bytes, value: bytes) -> list[tuple[str, bytes]]:
    """One header that brings the record to 100 bytes under the producer's limit: the record fits, a copy with
    the worker's own headers added does not."""
    base = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, [("blob", b"")])
    return [("blob", b"b" * (PRODUCER_LIMIT - 100 - base))]


async def lags(settings: Settings) -> dict[str, int]:
    from ticket_enricher.consumers.engine.clients import KafkaClients

    return {group: sum(p.lag for p in await group_lag(KafkaClients.from_settings(settings), group, topics))
            for group, topics in watched_groups(settings).items()}


async def test_hostile_headers_lose_nothing_and_cross_no_tenant(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader
) -> None:
    settings = load_settings(kafka=kafka_settings.kafka.model_dump(), topics=kafka_settings.topics.model_dump(),
                             memory=kafka_settings.memory.model_dump(), ops={"http_port": 0},
                             retry={"tiers_seconds": [1, 2]}, privacy={"tiers_seconds": [1, 2]})
    await create_topics(settings)
    routes = settings.routes()
    tickets, deletions = routes.tickets, routes.deletions
    forged = [("x-retry-attempt", b"99"), ("x-retry-original-topic", deletions.topic.encode()),
              ("x-dlq-reason", b"forged"), ("x-redriven-from", b"nowhere:0:0")]
    on_input = {
        "forged": (ticket(1, "acct-a"), forged),
        "not-utf8": (ticket(2, "acct-b"), [("trace", b"\xff\xfe\xfd"), ("x-retry-due-ms", b"\xff\x00")]),
        "duplicated": (ticket(3, "acct-c"), [("trace", b"1"), ("trace", b"2"), ("x-retry-attempt", b"1"),
                                             ("x-retry-attempt", b"3")]),
        "one-megabyte": (ticket(4, "acct-d"), [("blob", b"m" * 1_000_000)]),
    }
    on_tier = {  # as a producer could write them where no ACL stops it
        "year-3000": (ticket(5, "acct-e"), [("x-retry-due-ms", YEAR_3000_MS), ("x-retry-attempt", b"1")]),
        "contradicting": (ticket(6, "acct-f"), [("x-retry-due-ms", b"1"), ("x-retry-due-ms", YEAR_3000_MS),
                                                ("x-retry-attempt", b"2"), ("x-retry-attempt", b"-5")]),
    }
    megabyte_poison = [("blob", b"p" * 1_000_000), ("trace", b"keep")]
    near_limit = nearly_too_large(b"acct-p", b"{not json")
    seeded = ticket(7, "acct-z")

    for event, headers in on_input.values():
        await producer.send(tickets.topic, value(event), key=event.account_id.encode(), headers=headers)
    await producer.send(tickets.topic, b"{not json", key=b"acct-p", headers=megabyte_poison)
    await producer.send(tickets.topic, b"{not json", key=b"acct-p", headers=near_limit)
    await producer.send(tickets.topic, value(seeded), key=b"acct-z")
    for event, headers in on_tier.values():
        await producer.send(tickets.tiers[0].topic, value(event), key=event.account_id.encode(), headers=headers)
    # a ticket on the deletion flow's own tier, claiming to come from the ticket topic: the topic decides the flow
    stray = ticket(8, "acct-g")
    await producer.send(deletions.tiers[0].topic, value(stray), key=b"acct-g",
                        headers=[("x-retry-original-topic", tickets.topic.encode()), ("x-retry-attempt", b"1")])
    await producer.flush()
    valid = [e for e, _ in (*on_input.values(), *on_tier.values())] + [seeded]
    before = {t: foreign(t) for t in (tickets.topic, deletions.topic)}

    async with Worker(settings) as worker:
        records = await reader.read(settings.topics.enriched, until=lambda r: len(r) >= len(valid), timeout=90)
        request = DeletionRequest(request_id="req-z", subject=Subject(account_id="acct-z"),
                                  requested_at=datetime.now(UTC))
        await producer.send_and_wait(deletions.topic, request.model_dump_json().encode(), key=b"z",
                                     headers=[("x-retry-attempt", b"99"), ("x-dlq-attempts", b"99")])
        completed = await reader.read(settings.topics.deletion_completed, until=lambda r: len(r) >= 1, timeout=60)
        dead = await reader.read(tickets.dlq, until=lambda r: len(r) >= 2, timeout=60)
        stray_dead = await reader.read(deletions.dlq, until=lambda r: len(r) >= 1, timeout=60)
        await reader.settle(settings.topics.enriched, quiet=1.5)
        records = await reader.read_to_end(settings.topics.enriched)
        with pytest.raises(TimeoutError):  # no consumer of this member stopped making progress
            await asyncio.wait_for(worker.failed(), 0.5)
        left = (await worker.store.list(filters=scope(user_id="acct-z"), page_size=1)).count
        stray_notes = (await worker.store.list(filters=scope(user_id="acct-g"), page_size=1)).count
        lag = await lags(settings)

    outputs = outputs_by_event(records)
    assert set(outputs) == {e.event_id for e in valid}, "an event was lost"
    assert all(len(v) == 1 for v in outputs.values()), "an event was enriched twice"
    accounts = {e.event_id: e.account_id for e in valid}
    assert all(out[0]["account_id"] == accounts[eid] for eid, out in outputs.items()), "a tenant was crossed"

    done = json.loads(completed[0].value)
    assert done["request_id"] == "req-z" and done["attempts"] == 1, "a forged count reached the deletion flow"
    assert done["verification"]["verified"] and left == 0

    assert len(dead) == 2
    by_size = sorted(dead, key=lambda r: len(dict(r.headers).get("blob", b"")))
    dropped, kept = (dict(r.headers) for r in by_size)
    assert kept["blob"] == b"p" * 1_000_000 and kept["trace"] == b"keep", "producer headers kept byte for byte"
    assert kept["x-dlq-reason"] == b"invalid_json"
    assert dropped["x-dlq-dropped"] == b"headers" and "blob" not in dropped, "the copy too large for the broker"
    assert dropped["x-dlq-reason"] == b"invalid_json" and by_size[0].value == b"{not json"
    for copy in (kept, dropped):
        assert copy["x-dlq-original-topic"] == tickets.topic.encode()
        assert b"forged" not in copy.values()

    assert len(stray_dead) == 1 and dict(stray_dead[0].headers)["x-dlq-reason"] == b"schema"
    assert "ev-8" not in outputs and stray_notes == 0, "a deletion tier record was run as a ticket"

    assert foreign(tickets.topic) == before[tickets.topic] + 3  # forged, not-utf8, duplicated
    assert foreign(deletions.topic) == before[deletions.topic] + 1
    assert lag == {group: 0 for group in lag}, f"a commit point did not reach the end: {lag}"


async def test_with_signing_a_delay_record_the_worker_did_not_write_is_dead_lettered(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm = FakeOpenAI().start()
    llm.script = diligent
    refused: list[str] = []
    lock = threading.Lock()

    def refuse(body: dict[str, Any]) -> dict[str, str] | None:
        with lock:
            if ticket_of(body)["ticket_id"] == "T-1" and not refused:
                refused.append("T-1")
                return {"Retry-After": "1"}
        return None

    llm.refuse = refuse
    monkeypatch.setenv("TICKET_ENRICHER_PROVENANCE_KEY", secrets.token_hex(32))
    try:
        settings = load_settings(
            kafka=kafka_settings.kafka.model_dump(), topics=kafka_settings.topics.model_dump(),
            memory=kafka_settings.memory.model_dump(), ops={"http_port": 0},
            model={"name": "fake-llm", "base_url": llm.url + "/v1"},
            retry={"tiers_seconds": [1, 2], "sign_provenance": True},
        )
        await create_topics(settings)
        tickets = settings.routes().tickets
        honest = ticket(1, "acct-a")
        await producer.send_and_wait(tickets.topic, value(honest), key=b"acct-a")
        async with Worker(settings):
            await reader.read(settings.topics.enriched, until=lambda r: len(r) >= 1, timeout=60)
            signed = (await reader.read_to_end(tickets.tiers[0].topic))[0]
            # an unsigned record, and the worker's own signed headers moved onto another account's ticket
            unsigned = ticket(2, "acct-b")
            moved = ticket(3, "acct-c")
            await producer.send(tickets.tiers[0].topic, value(unsigned), key=b"acct-b",
                                headers=[("x-retry-attempt", b"1"), ("x-retry-due-ms", b"0")])
            await producer.send(tickets.tiers[0].topic, value(moved), key=b"acct-c",
                                headers=list(signed.headers))
            await producer.flush()
            dead = await reader.read(tickets.dlq, until=lambda r: len(r) >= 2, timeout=60)
            await reader.settle(settings.topics.enriched, quiet=1.0)
            outputs = outputs_by_event(await reader.read_to_end(settings.topics.enriched))
    finally:
        llm.stop()
    assert refused == ["T-1"], "the model never answered 429"
    assert list(outputs) == ["ev-1"], "only the worker's own retry ran"
    assert sorted(r.key for r in dead) == [b"acct-b", b"acct-c"]
    for record in dead:
        headers = dict(record.headers)
        assert headers["x-dlq-reason"] == b"forged_provenance"
        assert headers["x-dlq-original-topic"] == tickets.topic.encode()
    assert any(k == "x-retry-signature" for k, _ in signed.headers)
