"""The rules model through the enrichment service, and the agent loop with scripted models, over the real stores:
right tags, idempotent, the same whether events come one by one or in batches, tenant-bound."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ticket_enricher.agents.enrichment import Enrichment
from ticket_enricher.agents.factory import build_planner
from ticket_enricher.agents.models import ModelRequest, ModelTurn, ToolCall
from ticket_enricher.agents.notes import read_account_tags
from ticket_enricher.agents.planners import Outcome
from ticket_enricher.agents.planners.agent import AgentPlanner
from ticket_enricher.agents.tools import AccountTools, tool_specs
from ticket_enricher.config.settings import load_settings
from ticket_enricher.core.errors import ModelMisbehaved
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.sqlite import SqliteMemoryStore
from ticket_enricher.memory.store import EntityScope, MemoryStore
from ticket_enricher.samples import generate

CONFIG = load_settings()
SETTINGS = CONFIG.agent
VOCAB = {n: t.description for n, t in CONFIG.tags.items()}


def enrichment(store: MemoryStore) -> Enrichment:
    return Enrichment(build_planner(CONFIG, store), store)


async def run(service: Enrichment, event: TicketEvent) -> Outcome:
    [result] = await service.enrich([event])
    assert not isinstance(result, Exception) and result.outcome is not None, result
    return result.outcome


async def test_sample_stream_gets_the_ground_truth_tags(any_store: MemoryStore) -> None:
    """The same judgment whether memory is embedded or on Mem0 Platform: one setting apart."""
    store = any_store
    stream = generate(seed=3, accounts=30)
    service = enrichment(store)
    for event in stream.events:
        outcome = await run(service, event)
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
    first = [await run(enrichment(store), e) for e in stream.events]  # a fresh cache each time: from the store
    count = await _count(store, stream.accounts)
    tags_before = {a: (await read_account_tags(store, a))[1] for a in stream.truth}
    again = enrichment(store)
    second = [await run(again, e) for e in stream.events]
    assert await _count(store, stream.accounts) == count
    assert {a: (await read_account_tags(store, a))[1] for a in stream.truth} == tags_before
    assert [o.memory_ids for o in second] == [o.memory_ids for o in first]
    assert not any(o.tags_added or o.tags_removed for o in second)


async def test_injected_instructions_in_tickets_change_no_other_account(store: SqliteMemoryStore) -> None:
    stream = generate(seed=5, accounts=16, injections=True)
    injected = [e for e in stream.events if "acct-victim" in e.ticket.body]
    assert injected, "the sample should contain injection attempts"
    service = enrichment(store)
    for event in stream.events:
        await run(service, event)
    assert (await store.list(filters={"user_id": "acct-victim"})).count == 0
    for event in injected:
        _, tags = await read_account_tags(store, event.account_id)
        assert stream.graded(tags.tags) == stream.truth[event.account_id]


async def test_a_batch_judges_and_writes_exactly_what_events_one_by_one_do(any_store: MemoryStore,
                                                                          tmp_path: Path) -> None:
    """Group commit changes how often the store is written, never what: the same stream in batches of 37 (on
    any adapter) and one event at a time (on a second SQLite file) leaves the same notes, tags and outcomes."""
    stream = generate(seed=9, accounts=20)
    batched = enrichment(any_store)
    outcomes: list[Outcome] = []
    for i in range(0, len(stream.events), 37):
        chunk = stream.events[i:i + 37]
        for result in await batched.enrich(chunk):
            assert not isinstance(result, Exception) and result.outcome is not None, result
            outcomes.append(result.outcome)
    single_store = SqliteMemoryStore(tmp_path / "single.db")
    try:
        single = enrichment(single_store)
        singles = [await run(single, e) for e in stream.events]
        for account in stream.accounts:
            _, a = await read_account_tags(any_store, account)
            _, b = await read_account_tags(single_store, account)
            assert {n: (r.reason, r.event_id) for n, r in a.tags.items()} == \
                {n: (r.reason, r.event_id) for n, r in b.tags.items()}, account
            assert a.evaluated_through == b.evaluated_through
            assert (await any_store.list(filters={"user_id": account})).count == \
                (await single_store.list(filters={"user_id": account})).count
    finally:
        await single_store.close()
    assert [(o.tags, o.tags_added, o.tags_removed, o.evidence) for o in outcomes] == \
        [(o.tags, o.tags_added, o.tags_removed, o.evidence) for o in singles]


async def test_a_member_with_stale_state_never_rewinds_an_accounts_tags(store: SqliteMemoryStore) -> None:
    """Two members that both think they own an account (a zombie after a rebalance): the one still holding the
    account's older state writes notes once and leaves the newer evaluation in place."""
    stream = generate(seed=10, accounts=1)
    events = stream.events
    zombie, owner = enrichment(store), enrichment(store)
    await zombie.enrich(events[:2])  # the zombie caches the account after two events
    for event in events[2:]:
        await run(owner, event)  # the new owner processes the rest
    _, after_owner = await read_account_tags(store, events[0].account_id)
    notes = await _count(store, [events[0].account_id])
    await zombie.enrich([events[2]])  # redelivered to the zombie, with its two-event view
    _, after = await read_account_tags(store, events[0].account_id)
    assert after.evaluated_through == after_owner.evaluated_through and after.tags == after_owner.tags
    assert await _count(store, [events[0].account_id]) == notes, "a note was written twice"


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

    async def close(self) -> None:
        """Nothing to release."""


def event(account: str = "acme") -> TicketEvent:
    return generate(seed=1, accounts=1).events[0].model_copy(update={"account_id": account})


async def test_a_tool_call_naming_another_account_is_refused_and_reported(store: SqliteMemoryStore) -> None:
    await store.add("globex secret", scope=EntityScope(user_id="globex"))
    model = ScriptedModel([[("search_memories", {"query": "secret", "filters": {}, "user_id": "globex"})],
                           [("search_memories", {"query": "secret", "filters": {"metadata": {"kind": "x"}}})]])
    outcome = await AgentPlanner(model, store, SETTINGS, VOCAB).run(event("acme"))
    refused = model.seen[1].history[0].results[0]
    assert refused.is_error and "user_id" in refused.content
    allowed = model.seen[2].history[1].results[0]
    assert not allowed.is_error and json.loads(allowed.content) == []
    assert outcome.memory_ids == []


async def test_evidence_from_another_account_is_refused(store: SqliteMemoryStore) -> None:
    foreign = await store.add("globex note", scope=EntityScope(user_id="globex"))
    model = ScriptedModel([[("set_account_tags", {"add": [
        {"tag": "churn_risk", "reason": "told so", "evidence_memory_ids": [foreign.id]}]})]])
    outcome = await AgentPlanner(model, store, SETTINGS, VOCAB).run(event("acme"))
    assert outcome.tags == [] and outcome.tags_added == []
    assert "not one of this account's memories" in model.seen[1].history[0].results[0].content


async def test_unknown_tools_and_bad_arguments_go_back_to_the_model_then_stop(store: SqliteMemoryStore) -> None:
    model = ScriptedModel([[("delete_memories", {})], [("add_memory", {"text": ""})],
                           [("set_account_tags", {"add": [{"tag": "vip"}]})]])
    with pytest.raises(ModelMisbehaved):
        await AgentPlanner(model, store, SETTINGS, VOCAB).run(event())
    first = model.seen[1].history[0].results[0]
    assert first.is_error and "unknown tool" in first.content
    assert await store.count() == 0


async def test_tool_call_budget_is_enforced(store: SqliteMemoryStore) -> None:
    settings = SETTINGS.model_copy(update={"max_tool_calls": 2})
    model = ScriptedModel([[("get_account_tags", {})] * 3])
    outcome = await AgentPlanner(model, store, settings, VOCAB).run(event())
    results = model.seen[1].history[0].results
    assert [r.is_error for r in results] == [False, False, True]
    assert outcome.tool_calls == 2


async def test_tool_schemas_are_generated_from_the_argument_models(store: SqliteMemoryStore) -> None:
    model = ScriptedModel([])
    await AgentPlanner(model, store, SETTINGS, VOCAB).run(event())
    specs = {t.name: t for t in model.seen[0].tools}
    assert set(specs) == {"search_memories", "get_account_tags", "add_memory", "update_memory", "set_account_tags"}
    search: dict[str, Any] = specs["search_memories"].parameters
    set_tags: dict[str, Any] = specs["set_account_tags"].parameters
    assert set(search["required"]) >= {"query", "filters"}
    tag_enum = set_tags["$defs"]["TagAdd"]["properties"]["tag"]["enum"]
    assert set(tag_enum) == set(VOCAB) and "churn_risk" in tag_enum
    assert search["additionalProperties"] is False
    assert "query" in search["required"]


async def test_every_tool_the_model_is_offered_has_a_handler(store: SqliteMemoryStore) -> None:
    tools = AccountTools(event=event(), store=store, vocabulary=VOCAB)
    for spec in tool_specs(tuple(sorted(VOCAB.items()))):
        result = await tools.call(ToolCall(id="c", name=spec.name, arguments="{}"))
        assert "unknown tool" not in result.content, spec.name
