"""The agent's model calls as any OpenAI-compatible server needs them, bounded and paid for once: requests
without null content or uncompilable schemas, a per-call output bound, several tool calls in one turn, a cut-off
answer refused, every turn recorded in the account's memory and replayed instead of asked again, the record
deleted with the account, and the cost on the enriched event. The flows without Kafka, a fake model on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ticket_enricher.agents.turns import TURN_KIND
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.provenance import arrival, due_ms, from_tier
from ticket_enricher.consumers.lifespan import Deps, lifespan
from ticket_enricher.core.events import DeletionRequest, Requester, Subject, TicketEvent
from ticket_enricher.memory.filters import Cond, all_of, scope
from ticket_enricher.samples import generate
from ticket_enricher.testing.openai_server import FakeOpenAI, brief, diligent, text_turn, ticket_of, tool_turn
from ticket_enricher.testing.publisher import MemoryPublisher


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


def settings_for(tmp_path: Path, llm: FakeOpenAI, **model: Any) -> Settings:
    return load_settings(memory={"path": tmp_path / "memory.db"}, retry={"tiers_seconds": [1, 2]},
                         model={"name": "fake-llm", "base_url": llm.url + "/v1", **model})


@pytest.fixture
async def deps(tmp_path: Path, llm: FakeOpenAI) -> AsyncIterator[Deps]:
    async with lifespan(settings_for(tmp_path, llm, max_output_tokens=333), publisher=MemoryPublisher()) as built:
        yield built


def published(deps: Deps) -> MemoryPublisher:
    assert isinstance(deps.publisher, MemoryPublisher)
    return deps.publisher


async def until_done(deps: Deps, event: TicketEvent, offset: int = 0) -> str:
    """The event through the ticket flow, its delay-tier copies handled when due as the tier's consumer would."""
    route, flow = deps.routes.tickets, deps.ticket_flow()
    record, provenance = arrival(Record(route.topic, 0, offset, int(time.time() * 1000), event.account_id.encode(),
                                        event.model_dump_json().encode()))
    for _ in range(10):
        status = await flow.handle(record, provenance)
        if status != "delayed":
            return status
        copy = published(deps).sent[-1]
        record = Record(copy.topic, 0, offset, int(time.time() * 1000), copy.key, copy.value, tuple(copy.headers))
        tier = route.tier_of(copy.topic)
        assert tier is not None
        await asyncio.sleep(max(0.0, due_ms(record, route, tier, int(time.time() * 1000)) / 1000 - time.time()))
        provenance = from_tier(record, route)
    raise AssertionError("still delayed after 10 rounds")


async def test_requests_carry_no_null_content_a_token_bound_and_schemas_a_grammar_server_compiles(
        deps: Deps, llm: FakeOpenAI) -> None:
    llm.script = diligent
    assert await until_done(deps, generate(seed=1, accounts=1).events[0]) == "processed"
    bodies = llm.chat_bodies()
    assert len(bodies) == 4
    for body in bodies:
        assert body["max_tokens"] == 333 and "max_completion_tokens" not in body
        assert all(m.get("content") is not None for m in body["messages"]), "null content beside tool calls"
        bounds = [b for tool in body["tools"] for b in bounds_of(tool["function"]["parameters"])]
        assert ("maxLength", 500) in bounds, "the 2,000 of add_memory's text, capped where a grammar compiles"
        assert all(value <= 500 for key, value in bounds if key == "maxLength")
        assert all(value <= 20 for key, value in bounds if key == "maxItems")
    assistant = [m for m in bodies[-1]["messages"] if m["role"] == "assistant"]
    assert assistant and all(m["content"] == "" and m["tool_calls"] for m in assistant)


def bounds_of(schema: Any) -> list[tuple[str, int]]:
    """Every (maxLength | maxItems, value) in a JSON schema."""
    if isinstance(schema, dict):
        found = [(k, v) for k, v in schema.items() if k in ("maxLength", "maxItems") and isinstance(v, int)]
        return found + [b for v in schema.values() for b in bounds_of(v)]
    if isinstance(schema, list):
        return [b for v in schema for b in bounds_of(v)]
    return []


async def test_openai_itself_gets_max_completion_tokens(tmp_path: Path, llm: FakeOpenAI) -> None:
    from ticket_enricher.agents.factory import build_openai

    by_default = settings_for(tmp_path, llm)
    assert by_default.model.tokens_param("https://api.openai.com/v1") == "max_completion_tokens"
    assert by_default.model.tokens_param(None) == "max_completion_tokens"
    assert by_default.model.tokens_param(llm.url + "/v1") == "max_tokens"
    model = build_openai(settings_for(tmp_path, llm, output_tokens_param="max_completion_tokens"))
    try:
        assert model.output_tokens_param == "max_completion_tokens"
    finally:
        await model.close()


async def test_several_tool_calls_in_one_turn_all_run_and_all_answer(deps: Deps, llm: FakeOpenAI) -> None:
    def script(body: dict[str, Any]) -> dict[str, Any]:
        if not any(m["role"] == "assistant" for m in body["messages"]):
            return tool_turn(("get_account_tags", {}), ("add_memory", {"text": "first"}),
                             ("search_memories", {"query": "x", "filters": {"metadata": {"kind": "ticket_note"}}}))
        return text_turn("done")

    llm.script = script
    assert await until_done(deps, generate(seed=2, accounts=1).events[0]) == "processed"
    second = llm.chat_bodies()[1]["messages"]
    answers = [m for m in second if m["role"] == "tool"]
    assert [a["tool_call_id"] for a in answers] == [c["id"] for c in second[2]["tool_calls"]]
    assert not any(a["content"].startswith("error") for a in answers)


async def test_an_answer_cut_at_the_token_bound_is_dead_lettered_as_model_misbehaved(deps: Deps,
                                                                                  llm: FakeOpenAI) -> None:
    llm.script = lambda body: {**text_turn("I think that the customer is" * 40), "finish_reason": "length"}
    assert await until_done(deps, generate(seed=3, accounts=1).events[0]) == "dead_lettered"
    (dead,) = published(deps).on(deps.routes.tickets.dlq)
    assert dead.header("x-dlq-reason") == "model_misbehaved"
    assert "max_output_tokens" in (dead.header("x-dlq-error") or "")
    assert not published(deps).on(deps.routes.enriched), "a cut-off answer is never taken as an answer"


def refuse_the_second_call_once(llm: FakeOpenAI) -> list[str]:
    """Every conversation's second call is refused once with 429 (Retry-After: 1)."""
    refused: list[str] = []

    def refuse(body: dict[str, Any]) -> dict[str, str] | None:
        data = ticket_of(body)
        ticket = f"{data['ticket_id']}@{data['occurred_at']}"
        if sum(m["role"] == "assistant" for m in body["messages"]) == 1 and ticket not in refused:
            refused.append(ticket)
            return {"Retry-After": "1"}
        return None

    llm.refuse = refuse
    return refused


async def test_a_turn_already_answered_is_replayed_after_a_retry_never_paid_again(deps: Deps,
                                                                               llm: FakeOpenAI) -> None:
    """Two-turn conversations whose second call is refused once: 3 calls per event (the turn, the refusal, the
    second turn), not 4 (the first turn again from the delay tier)."""
    llm.script = brief
    refused = refuse_the_second_call_once(llm)
    events = generate(seed=4, accounts=3).events[:6]
    for i, event in enumerate(events):
        assert await until_done(deps, event, i) == "processed"
    assert len(refused) == len(events)
    assert len(llm.chat_bodies()) == 3 * len(events)
    outs = [o.json() for o in published(deps).on(deps.routes.enriched)]
    assert [o["cost"]["replayed_turns"] for o in outs] == [1] * len(events)
    assert [o["cost"]["model_calls"] for o in outs] == [1] * len(events), "the call of the attempt that finished"
    assert all(o["cost"]["input_tokens"] > 0 and o["cost"]["output_tokens"] == 20 for o in outs)
    assert all(o["cost"]["cost_usd"] is None for o in outs), "fake-llm has no price"


async def test_a_redelivered_event_replays_every_turn_and_calls_nothing(deps: Deps, llm: FakeOpenAI) -> None:
    llm.script = diligent
    event = generate(seed=5, accounts=1).events[0]
    assert await until_done(deps, event) == "processed"
    calls = len(llm.chat_bodies())
    assert await until_done(deps, event) == "processed"  # a crash before the commit: the same record again
    assert len(llm.chat_bodies()) == calls
    first, again = (o.json() for o in published(deps).on(deps.routes.enriched))
    assert again["memory_ids"] == first["memory_ids"] and again["tags"] == first["tags"]
    assert again["cost"]["model_calls"] == 0 and again["cost"]["replayed_turns"] == 4


async def test_a_changed_event_or_model_setting_is_a_new_conversation(tmp_path: Path, llm: FakeOpenAI) -> None:
    llm.script = brief
    event = generate(seed=6, accounts=1).events[0]
    async with lifespan(settings_for(tmp_path, llm), publisher=MemoryPublisher()) as deps:
        await until_done(deps, event)
        edited = event.model_copy(update={"ticket": event.ticket.model_copy(update={"body": "changed words"})})
        await until_done(deps, edited)
    assert len(llm.chat_bodies()) == 4
    async with lifespan(settings_for(tmp_path, llm, max_output_tokens=99), publisher=MemoryPublisher()) as deps:
        await until_done(deps, event)
    assert len(llm.chat_bodies()) == 6


async def test_the_turn_records_go_with_an_account_deletion_and_with_a_person_deletion(deps: Deps,
                                                                                    llm: FakeOpenAI) -> None:
    llm.script = brief
    base = generate(seed=7, accounts=1).events[0]
    people = [base.model_copy(update={"event_id": f"e-{i}", "account_id": account,
                                      "ticket": base.ticket.model_copy(update={"requester": Requester(id=who)})})
              for i, (account, who) in enumerate([("acct-a", "p-1"), ("acct-a", "p-2"), ("acct-b", "p-1")])]
    for i, event in enumerate(people):
        assert await until_done(deps, event, i) == "processed"

    async def turns(account: str) -> list[str]:
        found = await deps.store.list(filters=all_of(scope(user_id=account),
                                                     Cond("metadata", "eq", TURN_KIND, key="kind")), page_size=50)
        return sorted(str(m.metadata.get("requester_id")) for m in found.results)

    assert await turns("acct-a") == ["p-1", "p-1", "p-2", "p-2"] and await turns("acct-b") == ["p-1", "p-1"]
    deletions = deps.deletion_flow()
    for n, subject in enumerate([Subject(user_id="p-1"), Subject(account_id="acct-a")]):
        request = DeletionRequest(request_id=f"r-{n}", subject=subject, requested_at=datetime.now(UTC))
        record = Record(deps.routes.deletions.topic, 0, n, int(time.time() * 1000), b"k",
                        request.model_dump_json().encode())
        assert await deletions.handle(*arrival(record)) == "deleted"
        if n == 0:
            assert await turns("acct-a") == ["p-2", "p-2"] and await turns("acct-b") == []
    assert await turns("acct-a") == []


async def test_the_model_never_sees_the_turn_records(deps: Deps, llm: FakeOpenAI) -> None:
    """Its search reads ticket notes only, whatever filter it asks for."""
    found: list[Any] = []

    def script(body: dict[str, Any]) -> dict[str, Any]:
        turns = sum(m["role"] == "assistant" for m in body["messages"])
        if turns == 0:
            return tool_turn(("add_memory", {"text": "a note"}))
        if turns == 1:
            return tool_turn(
                ("search_memories", {"query": "model turn", "filters": {"metadata": {"kind": TURN_KIND}}}),
                ("search_memories", {"query": "model turn of event",
                                     "filters": {"NOT": [{"metadata": {"kind": "ticket_note"}}]}}),
                ("search_memories", {"query": "a note", "filters": {"metadata": {"kind": "ticket_note"}}}))
        found.extend(m["content"] for m in body["messages"][-3:])
        return text_turn("done")

    llm.script = script
    assert await until_done(deps, generate(seed=8, accounts=1).events[0]) == "processed"
    by_kind, not_notes, notes = (json.loads(content) for content in found)
    assert by_kind == [] and not_notes == [], "a turn record reached the model"
    assert notes and all(m["metadata"]["kind"] == "ticket_note" for m in notes)
