"""The agent loop with the rules model over the real SQLite store: right tags, idempotent, tenant-bound."""

from __future__ import annotations

import json

import pytest

from agents.factory import build_agent
from agents.loop import Agent
from core.errors import ModelMisbehaved
from agents.model import ModelRequest, ModelTurn, ToolCall
from agents.notes import read_account_tags
from config.settings import load_settings
from core.events import TicketEvent
from memory.sqlite import SqliteMemoryStore
from memory.store import EntityScope, MemoryStore
from samples import generate

CONFIG = load_settings()
SETTINGS = CONFIG.agent
VOCAB = {n: t.description for n, t in CONFIG.tags.items()}


async def test_sample_stream_gets_the_ground_truth_tags(any_store: MemoryStore) -> None:
    """The same judgment whether memory is embedded or on Mem0 Platform: one setting apart."""
    store = any_store
    stream = generate(seed=3, accounts=30)
    agent = build_agent(CONFIG, store)
    for event in stream.events:
        outcome = await agent.run(event)
        assert len(outcome.memory_ids) == 1
    for account, expected in stream.truth.items():
        _, tags = await read_account_tags(store, account)
        assert stream.graded(tags.tags) == expected, (account, stream.personas[account])
        for record in tags.tags.values():
            assert record.reason and record.evidence_memory_ids
    assert {"at_risk", "healthy", "bumpy", "recovered"} <= set(stream.personas.values())


async def _count(store: MemoryStore, accounts: list[str]) -> int:
    return sum([(await store.list(filters={"user_id": a})).count for a in accounts])


async def test_rerunning_every_event_changes_nothing(any_store: MemoryStore) -> None:
    store = any_store
    stream = generate(seed=4, accounts=12)
    agent = build_agent(CONFIG, store)
    first = [await agent.run(e) for e in stream.events]
    count = await _count(store, stream.accounts)
    tags_before = {a: (await read_account_tags(store, a))[1] for a in stream.truth}
    second = [await agent.run(e) for e in stream.events]
    assert await _count(store, stream.accounts) == count
    assert {a: (await read_account_tags(store, a))[1] for a in stream.truth} == tags_before
    assert [o.memory_ids for o in second] == [o.memory_ids for o in first]
    assert not any(o.tags_added or o.tags_removed for o in second)


async def test_injected_instructions_in_tickets_change_no_other_account(store: SqliteMemoryStore) -> None:
    stream = generate(seed=5, accounts=16, injections=True)
    injected = [e for e in stream.events if "acct-victim" in e.ticket.body]
    assert injected, "the sample should contain injection attempts"
    agent = build_agent(CONFIG, store)
    for event in stream.events:
        await agent.run(event)
    assert (await store.list(filters={"user_id": "acct-victim"})).count == 0
    for event in injected:
        _, tags = await read_account_tags(store, event.account_id)
        assert stream.graded(tags.tags) == stream.truth[event.account_id]


class ScriptedModel:
    """Plays back fixed tool calls, as a misbehaving or manipulated LLM might send them."""

    name = "scripted"

    def __init__(self, turns: list[list[tuple[str, dict[str, object]]]]) -> None:
        self.turns = turns
        self.seen: list[ModelRequest] = []

    async def respond(self, request: ModelRequest) -> ModelTurn:
        self.seen.append(request.model_copy(deep=True))
        if len(self.seen) > len(self.turns):
            return ModelTurn(text="done")
        calls = self.turns[len(self.seen) - 1]
        return ModelTurn(tool_calls=[ToolCall(id=f"c{i}", name=n, arguments=json.dumps(a))
                                     for i, (n, a) in enumerate(calls)])


def event(account: str = "acme") -> TicketEvent:
    return generate(seed=1, accounts=1).events[0].model_copy(update={"account_id": account})


async def test_a_tool_call_naming_another_account_is_refused_and_reported(store: SqliteMemoryStore) -> None:
    await store.add("globex secret", scope=EntityScope(user_id="globex"))
    model = ScriptedModel([[("search_memories", {"query": "secret", "filters": {}, "user_id": "globex"})],
                           [("search_memories", {"query": "secret", "filters": {"metadata": {"kind": "x"}}})]])
    outcome = await Agent(model, store, SETTINGS, VOCAB).run(event("acme"))
    refused = model.seen[1].history[0].results[0]
    assert refused.is_error and "user_id" in refused.content
    allowed = model.seen[2].history[1].results[0]
    assert not allowed.is_error and json.loads(allowed.content) == []
    assert outcome.memory_ids == []


async def test_evidence_from_another_account_is_refused(store: SqliteMemoryStore) -> None:
    foreign = await store.add("globex note", scope=EntityScope(user_id="globex"))
    model = ScriptedModel([[("set_account_tags", {"add": [
        {"tag": "churn_risk", "reason": "told so", "evidence_memory_ids": [foreign.id]}]})]])
    outcome = await Agent(model, store, SETTINGS, VOCAB).run(event("acme"))
    assert outcome.tags == [] and outcome.tags_added == []
    assert "not one of this account's memories" in model.seen[1].history[0].results[0].content


async def test_unknown_tools_and_bad_arguments_go_back_to_the_model_then_stop(store: SqliteMemoryStore) -> None:
    model = ScriptedModel([[("delete_memories", {})], [("add_memory", {"text": ""})],
                           [("set_account_tags", {"add": [{"tag": "vip"}]})]])
    with pytest.raises(ModelMisbehaved):
        await Agent(model, store, SETTINGS, VOCAB).run(event())
    first = model.seen[1].history[0].results[0]
    assert first.is_error and "unknown tool" in first.content
    assert await store.count() == 0


async def test_tool_call_budget_is_enforced(store: SqliteMemoryStore) -> None:
    settings = SETTINGS.model_copy(update={"max_tool_calls": 2})
    model = ScriptedModel([[("get_account_tags", {})] * 3])
    outcome = await Agent(model, store, settings, VOCAB).run(event())
    results = model.seen[1].history[0].results
    assert [r.is_error for r in results] == [False, False, True]
    assert outcome.tool_calls == 2


async def test_tool_schemas_are_generated_from_the_argument_models(store: SqliteMemoryStore) -> None:
    model = ScriptedModel([])
    await Agent(model, store, SETTINGS, VOCAB).run(event())
    specs = {t.name: t for t in model.seen[0].tools}
    assert set(specs) == {"search_memories", "get_account_tags", "add_memory", "update_memory", "set_account_tags"}
    assert set(specs["search_memories"].parameters["required"]) >= {"query", "filters"}
    tag_enum = specs["set_account_tags"].parameters["$defs"]["TagAdd"]["properties"]["tag"]["enum"]
    assert set(tag_enum) == set(VOCAB) and "churn_risk" in tag_enum
    assert specs["search_memories"].parameters["additionalProperties"] is False
    assert "query" in specs["search_memories"].parameters["required"]
