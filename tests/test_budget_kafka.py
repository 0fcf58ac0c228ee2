"""One group budget shared by two `ticket-enricher run` processes through the store they share (the embedded
SQLite file on one host; one PostgreSQL database, as on two hosts): over every stretch from the first call, the
tokens the model server was asked for stay within one minute's budget plus the rate, and every event still comes
out, none dead-lettered (a refusal is a delay, not an attempt)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from tests.conftest import TopicReader
from tests.test_scaling_kafka import Members, assert_drained, wait_for
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.operations.status import status as read_status
from ticket_enricher.consumers.operations.topics import create_topics
from ticket_enricher.core.events import Ticket, TicketEvent
from ticket_enricher.samples.publish import publish_events
from ticket_enricher.testing.openai_server import FakeOpenAI, brief

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(400)]
MINUTE = 75_000  # tokens a minute for the group: about 27 calls at once, then one every 2 s or so
TIERS = [1, 2, 5]


class Metered(FakeOpenAI):
    """The fake model, noting when each call arrived and the tokens it reports for it (its usage formula)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[float, int]] = []
        self._meter_lock = threading.Lock()
        self.script = brief
        self.refuse = self._meter

    def _meter(self, body: dict[str, Any]) -> None:
        with self._meter_lock:
            self.calls.append((time.monotonic(), 120 + len(json.dumps(body)) // 4))


def events(accounts: int = 8, per_account: int = 3) -> list[TicketEvent]:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [TicketEvent(event_id=f"ev-{a}-{i}", type="ticket.created", occurred_at=start + timedelta(minutes=i),
                        account_id=f"acct-{a}",
                        ticket=Ticket(id=f"T{a}-{i}", subject="Export", body="The export failed again.",
                                      priority="normal", channel="email"))
            for i in range(per_account) for a in range(accounts)]


def worst_excess(calls: list[tuple[float, int]], minute: float) -> tuple[float, int, float]:
    """The largest ratio of tokens asked for since the first call to one minute's budget plus the rate over that
    stretch, with the total and the stretch."""
    calls = sorted(calls)
    first, total, worst = calls[0][0], 0, 0.0
    for at, tokens in calls:
        total += tokens
        worst = max(worst, total / (minute + minute / 60 * (at - first)))
    return worst, total, calls[-1][0] - first


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_two_members_keep_one_group_budget_and_deliver_every_event(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader, backend: str,
    request: pytest.FixtureRequest,
) -> None:
    settings = load_settings(kafka=kafka_settings.kafka.model_dump(), topics=kafka_settings.topics.model_dump(),
                             memory=kafka_settings.memory.model_dump(), retry={"tiers_seconds": TIERS})
    await create_topics(settings)  # the tiers this test names
    llm = Metered().start()
    members = Members(settings, llm.url)
    members.env |= {"TICKET_ENRICHER_RETRY__TIERS_SECONDS": json.dumps(TIERS),
                    "TICKET_ENRICHER_BUDGET__GROUP_TOKENS_PER_MINUTE": str(MINUTE),
                    "TICKET_ENRICHER_MODEL__MAX_OUTPUT_TOKENS": "64"}
    if backend == "postgres":
        dsn = request.getfixturevalue("postgres_dsn")
        settings = settings.model_copy(update={"memory": settings.memory.model_copy(update={
            "backend": "postgres", "dsn": SecretStr(dsn)})})
        members.env |= {"TICKET_ENRICHER_MEMORY__BACKEND": "postgres", "TICKET_ENRICHER_MEMORY__DSN": dsn}
    stream = events()
    await publish_events(producer, settings.topics.tickets, stream)
    try:
        members.start()
        members.start()
        seen = await wait_for(reader, settings, {e.event_id for e in stream}, members, timeout=240)
        await assert_drained(settings)
    finally:
        members.stop_all()
        llm.stop()
    assert set(seen) == {e.event_id for e in stream}
    assert await reader.read_to_end(settings.topics.dlq) == [], "a budget refusal was dead-lettered"
    worst, total, seconds = worst_excess(llm.calls, MINUTE)
    print(f"{backend}: {len(llm.calls)} calls, {total} tokens in {seconds:.1f} s from the first call; at worst "
          f"{worst:.3f} of one minute's budget + the rate")
    assert total > 1.5 * MINUTE, "the stream fit in one minute's budget: the rate was never tested"
    assert worst <= 1.05
    logs = members.stderr()
    assert "Traceback" not in logs, logs
    # `status` reads the same ledger: what the server reported, to the token, per group and per account
    shown = (await read_status(settings.model_copy(update={"budget": settings.budget.model_copy(
        update={"group_tokens_per_minute": MINUTE})}))).budget
    assert shown is not None and shown.day_tokens == total
    assert shown.minute_left is not None and shown.minute_left <= MINUTE
    assert len(shown.accounts) == 5 and sum(t for _, t, _, _ in shown.accounts) <= total
    assert shown.accounts[0][1] >= shown.accounts[-1][1] > 0


async def test_a_replay_spends_its_own_share_and_sends_the_rest_to_the_delay_tiers(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader,
) -> None:
    from datetime import UTC, datetime

    from ticket_enricher.cli.replay import run_replay

    llm = Metered().start()
    share = 8_000  # tokens a minute for the replay: about two calls, where the group has a million
    settings = load_settings(
        kafka=kafka_settings.kafka.model_dump(), topics=kafka_settings.topics.model_dump(),
        memory=kafka_settings.memory.model_dump(), retry={"tiers_seconds": TIERS},
        model={"name": "fake-model", "base_url": llm.url + "/v1", "max_output_tokens": 64},
        budget={"group_tokens_per_minute": 1_000_000, "replay_tokens_per_minute": share})
    await create_topics(settings)
    stream = events(accounts=10, per_account=1)
    await publish_events(producer, settings.topics.tickets, stream)
    began = time.monotonic()
    try:
        report = await run_replay(settings, f"{settings.kafka.group_id}.replay.budget",
                                  datetime(2020, 1, 1, tzinfo=UTC), None)
    finally:
        llm.stop()
    seconds = time.monotonic() - began
    delayed = [r for tier in settings.routes().tickets.tiers for r in await reader.read_to_end(tier.topic)]
    reasons = {dict(r.headers).get("x-retry-error", b"").decode() for r in delayed}
    assert report.finished and report.total == len(stream)
    assert reasons and all("replay minute budget" in r for r in reasons), reasons
    assert report.outcomes.get("processed", 0) + report.outcomes["delayed"] == len(stream), report.outcomes
    assert await reader.read_to_end(settings.topics.dlq) == []
    assert len(delayed) == report.outcomes["delayed"]  # each waits in the worker's tiers, none lost
    asked = sum(tokens for _, tokens in llm.calls)
    assert share / 4 < asked <= 1.05 * (share + share / 60 * seconds), (asked, seconds)
