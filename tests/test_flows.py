"""The flows without Kafka: records in, an in-memory publisher out, the real store and model (the offline rules
model, or the fake OpenAI-compatible server over loopback for 429s). The same code the broker suite drives."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.provenance import arrival, due_ms, from_tier
from ticket_enricher.consumers.flows.replay import ReplayFlow
from ticket_enricher.consumers.lifespan import Deps, lifespan
from ticket_enricher.core.events import DeletionRequest, Subject
from ticket_enricher.memory.filters import scope
from ticket_enricher.samples import generate
from ticket_enricher.testing.openai_server import FakeOpenAI, diligent, ticket_of
from ticket_enricher.testing.publisher import MemoryPublisher, Sent


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(memory={"path": tmp_path / "memory.db"}, retry={"tiers_seconds": [1, 2]})


@pytest.fixture
async def deps(settings: Settings) -> AsyncIterator[Deps]:
    async with lifespan(settings, publisher=MemoryPublisher()) as built:
        yield built


def published(deps: Deps) -> MemoryPublisher:
    assert isinstance(deps.publisher, MemoryPublisher)
    return deps.publisher


def record(topic: str, value: bytes | None, key: bytes | None, offset: int = 0,
           headers: tuple[tuple[str, bytes | None], ...] = ()) -> Record:
    return Record(topic, 0, offset, int(time.time() * 1000), key, value, headers)


def arriving(deps: Deps, offset: int, value: bytes | None, key: bytes | None,
             headers: tuple[tuple[str, bytes | None], ...] = ()) -> tuple[Record, Any]:
    return arrival(record(deps.routes.tickets.topic, value, key, offset, headers))


def as_record(sent: Sent, offset: int = 0) -> Record:
    return record(sent.topic, sent.value, sent.key, offset, tuple(sent.headers))


async def test_a_ticket_is_enriched_once_and_published_keyed_by_its_account(deps: Deps) -> None:
    flow, event = deps.ticket_flow(), generate(seed=3, accounts=1).events[0]
    value, key = event.model_dump_json().encode(), event.account_id.encode()
    assert await flow.handle(*arriving(deps, 0, value, key)) == "processed"
    assert await flow.handle(*arriving(deps, 0, value, key)) == "processed"  # redelivered
    out = published(deps).on(deps.routes.enriched)
    assert [s.key for s in out] == [key, key]
    first, again = out[0].json(), out[1].json()
    assert first["event_id"] == event.event_id and first["memory_ids"] == again["memory_ids"]
    assert again["tags_added"] == [], "a redelivery changes no tag"
    notes = await deps.store.list(filters=scope(user_id=event.account_id), page_size=10)
    assert notes.count == 2  # the note and the account profile, once


@pytest.mark.parametrize(("value", "key", "reason"), [
    (b"{not json", b"acme", "invalid_json"), (b"", b"acme", "empty"),
    (json.dumps({"event_id": "e", "type": "ticket.created"}).encode(), b"acme", "schema"),
])
async def test_a_poison_record_goes_to_its_routes_dlq_with_the_reason(deps: Deps, value: bytes, key: bytes,
                                                                       reason: str) -> None:
    flow = deps.ticket_flow()
    got = await flow.handle(*arriving(deps, 5, value, key, (("trace", b"t-1"), ("x-retry-attempt", b"9"))))
    assert got == "dead_lettered"
    (dead,) = published(deps).sent
    assert dead.topic == deps.routes.tickets.dlq and dead.key == key and dead.value == value
    assert dead.header("x-dlq-reason") == reason and dead.header("x-dlq-attempts") == "1"
    assert dead.header("x-dlq-original-topic") == deps.routes.tickets.topic
    assert dead.header("x-dlq-original-offset") == "5" and dead.header("trace") == "t-1"
    assert dead.header("x-retry-attempt") is None, "a producer's provenance is not carried on"


async def test_a_failed_publish_raises_so_the_engine_retries_it_in_place(deps: Deps) -> None:
    flow, event = deps.ticket_flow(), generate(seed=4, accounts=1).events[0]
    value, key = event.model_dump_json().encode(), event.account_id.encode()
    published(deps).refuse = 1
    with pytest.raises(KafkaConnectionError):
        await flow.handle(*arriving(deps, 0, value, key))
    assert await flow.handle(*arriving(deps, 0, value, key)) == "processed"
    assert len(published(deps).on(deps.routes.enriched)) == 1


async def test_a_429_sends_the_record_to_a_tier_whose_copy_then_completes_it(tmp_path: Path) -> None:
    llm = FakeOpenAI().start()
    llm.script = diligent
    event = generate(seed=5, accounts=1).events[0]
    refused: list[int] = []

    def refuse(body: dict[str, Any]) -> dict[str, str] | None:
        if ticket_of(body)["ticket_id"] == event.ticket.id and not refused:
            refused.append(1)
            return {"Retry-After": "1"}
        return None

    llm.refuse = refuse
    settings = load_settings(memory={"path": tmp_path / "m.db"}, retry={"tiers_seconds": [1, 2]},
                             model={"name": "fake-llm", "base_url": llm.url + "/v1"})
    try:
        async with lifespan(settings, publisher=MemoryPublisher()) as deps:
            flow, route = deps.ticket_flow(), deps.routes.tickets
            value, key = event.model_dump_json().encode(), event.account_id.encode()
            assert await flow.handle(*arriving(deps, 3, value, key)) == "delayed"
            (copy,) = published(deps).sent
            assert copy.topic == route.tiers[0].topic and copy.header("x-retry-attempt") == "1"
            assert copy.header("x-retry-original-offset") == "3" and copy.value == value
            tier_record = as_record(copy)
            # as the tier's consumer would: wait until due (the limiter holds the account back until then)
            await asyncio.sleep(max(0.0, due_ms(tier_record, route, route.tiers[0], int(time.time() * 1000)) / 1000
                                    - time.time()))
            assert await flow.handle(tier_record, from_tier(tier_record, route)) == "processed"
            (out,) = published(deps).on(deps.routes.enriched)
            assert out.json()["tags_added"] == ["outage_affected"]
    finally:
        llm.stop()
    assert refused == [1]


async def test_a_deletion_forgets_the_account_and_its_later_tickets_are_no_ops(deps: Deps) -> None:
    tickets, deletions = deps.ticket_flow(), deps.deletion_flow()
    events = generate(seed=6, accounts=1).events[:3]
    for i, event in enumerate(events):
        await tickets.handle(*arriving(deps, i, event.model_dump_json().encode(), event.account_id.encode()))
    account = events[0].account_id
    request = DeletionRequest(request_id="r-1", subject=Subject(account_id=account), requested_at=datetime.now(UTC))
    got = await deletions.handle(*arrival(record(deps.routes.deletions.topic, request.model_dump_json().encode(),
                                                 b"k")))
    assert got == "deleted"
    (done,) = published(deps).on(deps.routes.deletion_completed)
    assert done.json()["verification"]["verified"] and account not in (done.value or b"").decode()
    assert (await deps.store.list(filters=scope(user_id=account), page_size=1)).count == 0
    before = len(published(deps).sent)
    late = events[0].model_copy(update={"event_id": "late"})
    assert await tickets.handle(*arriving(deps, 9, late.model_dump_json().encode(), account.encode())) == "forgotten"
    assert len(published(deps).sent) == before and (await deps.store.list(filters=scope(user_id=account),
                                                                           page_size=1)).count == 0


async def test_a_deletion_request_with_an_unknown_field_is_refused(deps: Deps) -> None:
    raw = json.dumps({"request_id": "r", "subject": {"account_id": "a"}, "requested_at": "2026-11-01T00:00:00Z",
                      "also": "everything"}).encode()
    got = await deps.deletion_flow().handle(*arrival(record(deps.routes.deletions.topic, raw, b"k")))
    assert got == "dead_lettered"
    (dead,) = published(deps).sent
    assert dead.topic == deps.routes.deletions.dlq and dead.header("x-dlq-reason") == "schema"


async def test_a_replay_skips_what_the_planner_did_and_a_dry_run_changes_nothing(deps: Deps) -> None:
    events = generate(seed=7, accounts=2).events[:6]
    tickets = deps.ticket_flow()
    for i, event in enumerate(events[:3]):
        await tickets.handle(*arriving(deps, i, event.model_dump_json().encode(), event.account_id.encode()))
    sent = len(published(deps).sent)
    dry = ReplayFlow(tickets, dry_run=True)
    records = [record(deps.routes.tickets.topic, e.model_dump_json().encode(), e.account_id.encode(), i)
               for i, e in enumerate(events)]
    assert [await dry.handle(r) for r in records] == ["already_done"] * 3 + ["would_process"] * 3
    assert len(published(deps).sent) == sent, "a dry run publishes nothing"
    only = ReplayFlow(tickets, accounts=frozenset({events[3].account_id}))
    outcomes = [await only.handle(r) for r in records[3:]]
    assert outcomes == ["processed" if e.account_id == events[3].account_id else "outside_accounts"
                        for e in events[3:]]


async def test_forgetting_a_person_scrubs_their_words_from_the_accounts_tag_reasons(deps: Deps) -> None:
    """Tags describe the account and stay, but a reason may quote the person's ticket; after the person's notes
    are deleted no reason quotes them, and no evidence names a deleted note."""
    from ticket_enricher.agents.notes import read_account_tags
    from ticket_enricher.core.events import Requester, Ticket, TicketEvent

    texts = ["Since 9:00 our dashboard is down for the whole team, every page returns 503 errors.",
             "This is the third time this month. If this is not fixed by Friday we will cancel our subscription "
             "and move to a competitor."]
    events = [TicketEvent(event_id=f"q-{i}", type="ticket.created", occurred_at=datetime(2026, 11, 2 + i, tzinfo=UTC),
                          account_id="acct-q", ticket=Ticket(id=f"Q-{i}", subject="Outage", body=body,
                                                             priority="urgent", channel="email",
                                                             requester=Requester(id="p-1")))
              for i, body in enumerate(texts)]
    tickets = deps.ticket_flow()
    for i, event in enumerate(events):
        await tickets.handle(*arriving(deps, i, event.model_dump_json().encode(), b"acct-q"))
    _, before = await read_account_tags(deps.store, "acct-q")
    assert before.tags and any('"' in r.reason for r in before.tags.values()), "no reason quoted the ticket"
    request = DeletionRequest(request_id="r-p", subject=Subject(user_id="p-1"), requested_at=datetime.now(UTC))
    got = await deps.deletion_flow().handle(*arrival(record(deps.routes.deletions.topic,
                                                            request.model_dump_json().encode(), b"k")))
    assert got == "deleted"
    _, after = await read_account_tags(deps.store, "acct-q")
    assert set(after.tags) == set(before.tags), "the account's tags stay"
    for name, tag in after.tags.items():
        quoted = [q for q in tag.reason.split('"')[1::2] if q != "[deleted on request]"]
        assert not quoted, f"{name} still quotes the deleted person: {tag.reason}"
        assert all([await deps.store.get(m) for m in tag.evidence_memory_ids]), "evidence names a deleted note"
