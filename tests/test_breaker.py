"""The model's breaker: calls that fail the same way in a row stop model work (held in place, never an attempt,
never dead-lettered), one probe at a time finds out when the model answers again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ticket_enricher.config.settings import load_settings
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.provenance import arrival
from ticket_enricher.consumers.lifespan import lifespan
from ticket_enricher.core.breaker import Breaker
from ticket_enricher.core.errors import ModelUnavailable, TransientError
from ticket_enricher.samples import generate
from ticket_enricher.testing.openai_server import FakeOpenAI, brief
from ticket_enricher.testing.publisher import MemoryPublisher


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_it_opens_after_failures_in_a_row_and_a_success_resets_the_count() -> None:
    clock, changes = Clock(), []
    breaker = Breaker("model", failures=3, probe_seconds=5, max_probe_seconds=20, clock=clock,
                      on_change=lambda is_open, reason: changes.append(is_open))
    boom = TransientError("model: HTTP 500")
    for _ in range(2):
        breaker.admit()
        assert breaker.failed(boom) is None
    breaker.admit()
    breaker.succeeded()
    assert breaker.consecutive == 0 and not breaker.is_open
    for _ in range(2):
        breaker.admit()
        assert breaker.failed(boom) is None
    breaker.admit()
    held = breaker.failed(boom)  # the third in a row: opens, and this failure is held too
    assert isinstance(held, ModelUnavailable) and held.retry_after == 5 and breaker.is_open and changes == [True]
    with pytest.raises(ModelUnavailable):
        breaker.admit()
    assert breaker.retry_in() == 5


def test_one_probe_at_a_time_waiting_longer_after_each_failed_probe_until_the_model_answers() -> None:
    clock = Clock()
    breaker = Breaker("model", failures=1, probe_seconds=5, max_probe_seconds=12, clock=clock)
    breaker.admit()
    breaker.failed(TransientError("refused"))
    waits = []
    for _ in range(3):
        clock.now += breaker.retry_in()
        breaker.admit()  # the probe
        with pytest.raises(ModelUnavailable):
            breaker.admit()  # a second caller while the probe is out
        held = breaker.failed(TransientError("refused"))
        assert held is not None
        waits.append(held.retry_after)
    assert waits == [10, 12, 12]
    clock.now += breaker.retry_in()
    breaker.admit()
    breaker.succeeded()
    assert not breaker.is_open and breaker.retry_in() == 0
    breaker.admit()


def test_a_probe_that_ends_without_a_verdict_leaves_the_next_probe_due() -> None:
    clock = Clock()
    breaker = Breaker("model", failures=1, probe_seconds=5, clock=clock)
    breaker.admit()
    breaker.failed(TransientError("refused"))
    clock.now += 5
    breaker.admit()
    breaker.abandoned()  # cancelled, say
    breaker.admit()  # the next caller probes


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


async def test_a_failing_model_holds_events_in_place_and_dead_letters_nothing(tmp_path: Path,
                                                                             llm: FakeOpenAI) -> None:
    """Five events, each failing its call with 503: the first four go to a delay tier as attempts, the fifth
    opens the breaker and is held (raised to the engine, which runs it again in place), and so is every event
    after it, without a call; once the model answers, the probe's event goes through and the breaker closes."""
    llm.script = brief
    llm.fail_next(5, 503, body={"error": {"message": "overloaded"}})
    settings = load_settings(memory={"path": tmp_path / "m.db"}, model={
        "name": "fake-llm", "base_url": llm.url + "/v1", "breaker_failures": 5, "breaker_probe_seconds": 0.2})
    async with lifespan(settings, publisher=MemoryPublisher()) as deps:
        flow, publisher = deps.ticket_flow(), deps.publisher
        assert isinstance(publisher, MemoryPublisher)
        events = generate(seed=9, accounts=8).events[:7]
        records = [arrival(Record(deps.routes.tickets.topic, 0, i, int(time.time() * 1000),
                                  e.account_id.encode(), e.model_dump_json().encode())) for i, e in enumerate(events)]
        assert [await flow.handle(*r) for r in records[:4]] == ["delayed"] * 4
        for record in records[4:6]:
            with pytest.raises(ModelUnavailable):
                await flow.handle(*record)
        assert len(llm.chat_bodies()) == 5, "no call while the breaker is open"
        assert not publisher.on(deps.routes.tickets.dlq)
        assert len(publisher.sent) == 4, "a held event leaves no copy anywhere"
        time.sleep(0.25)
        assert await flow.handle(*records[5]) == "processed"  # the probe: the model answers again
        assert await flow.handle(*records[6]) == "processed"
    assert len(llm.chat_bodies()) == 5 + 4
