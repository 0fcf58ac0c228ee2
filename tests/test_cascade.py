"""The cascade planner (`agents/planners/cascade.py`) on a real SQLite store and a fake OpenAI-compatible model
on loopback, built by the factory: the rules judge every event, the model only the unsure and the sampled ones.

The rules' confidences are the test's choice (`Confident`: the real rules planner, its judgments stamped from the
ticket's subject), so what escalates does not depend on how the rules are calibrated."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from ticket_enricher.agents.enrichment import Enrichment
from ticket_enricher.agents.factory import build_model, build_planner, cascade_fingerprint, planner_fingerprint
from ticket_enricher.agents.models.limited import LimitedModel
from ticket_enricher.agents.notes import NOTE_KIND, PROFILE_KIND, note_of, read_account_tags
from ticket_enricher.agents.planners import Outcome, Pace, TagJudgment
from ticket_enricher.agents.planners.agent import AgentPlanner
from ticket_enricher.agents.planners.cascade import CascadePlanner
from ticket_enricher.agents.planners.rules import RulesPlanner
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.core.errors import RateLimited
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.sqlite import SqliteMemoryStore
from ticket_enricher.testing.openai_server import FakeOpenAI, text_turn, ticket_of, tool_results, tool_turn

START = datetime(2026, 11, 2, 9, tzinfo=UTC)


class Confident(RulesPlanner):
    """The rules planner, its judgments stamped: confidence 0.5 on every tag when the subject says "unsure",
    else 0.99 (the decisions as the outcome shows them)."""

    async def judge(self, events: Sequence[TicketEvent], pace: Pace | None = None) -> list[Outcome | Exception]:
        results = await super().judge(events, pace)
        for event, result in zip(events, results, strict=True):
            if isinstance(result, Outcome):
                confidence = 0.5 if "unsure" in event.ticket.subject else 0.99
                result.judgments = {tag: TagJudgment(action=_action(tag, result), confidence=confidence,
                                                     grade="test") for tag in self.model.tags}
        return results


def _action(tag: str, outcome: Outcome) -> Any:
    if tag in outcome.tags_added:
        return "set"
    if tag in outcome.tags_removed:
        return "clear"
    return "keep" if tag in outcome.tags else "leave"


def model_script(body: dict[str, Any]) -> dict[str, Any]:
    """A model that notes the event and tags the account outage_affected."""
    turns = sum(1 for m in body["messages"] if m["role"] == "assistant")
    if turns == 0:
        return tool_turn(("add_memory", {"text": "Customer wrote in", "categories": ["question"]}))
    if turns == 1:
        note = tool_results(body)[0]["content"]["id"]
        return tool_turn(("set_account_tags", {"add": [{"tag": "outage_affected", "reason": "the model read it",
                                                        "evidence_memory_ids": [note]}]}))
    return text_turn("Tagged.")


def event(n: int, account: str, subject: str, body: str = "Hello, a quick question about my plan.",
          event_id: str | None = None) -> TicketEvent:
    return TicketEvent.model_validate({
        "event_id": event_id or f"e-{n}", "type": "ticket.created", "occurred_at": START + timedelta(hours=n),
        "account_id": account, "ticket": {"id": f"T-{n}", "subject": subject, "body": body, "priority": "normal",
                                          "channel": "email"}})


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    server.script = model_script
    yield server
    server.stop()


def settings_for(llm: FakeOpenAI, **cascade: float) -> Settings:
    return load_settings(model={"name": "fake-model", "base_url": llm.url + "/v1", "mode": "cascade"},
                         cascade={"threshold": 0.8, "sample": 0.0, **cascade}, retry={"limiter": False})


@pytest.fixture
async def model(llm: FakeOpenAI) -> AsyncIterator[LimitedModel]:
    built = build_model(settings_for(llm))
    assert built is not None
    yield built
    await built.close()


def cascade(settings: Settings, store: SqliteMemoryStore, model: LimitedModel) -> CascadePlanner:
    planner = build_planner(settings, store, model=model)
    assert isinstance(planner, CascadePlanner)
    planner.rules = Confident(planner.rules.model, store, planner.rules.fingerprint)
    return planner


def chats(llm: FakeOpenAI) -> list[str]:
    """The subject of the ticket of every chat request so far."""
    return [ticket_of(b)["subject"] for b in llm.chat_bodies()]


async def test_a_sure_event_costs_no_model_call_and_an_unsure_one_goes_to_the_model(
        llm: FakeOpenAI, model: LimitedModel, store: SqliteMemoryStore) -> None:
    planner = cascade(settings_for(llm), store, model)
    sure, doubtful = event(1, "acme", "Plan question"), event(2, "globex", "unsure plan question")
    first, second = await planner.judge([sure, doubtful])
    assert isinstance(first, Outcome) and isinstance(second, Outcome)
    assert chats(llm) == ["unsure plan question"] * 3, "the model saw the unsure event only, three turns"
    assert not first.escalated and first.planner == "rules" and first.usage.calls == 0 and first.tags == []
    assert second.escalated and second.planner == "fake-model" and second.usage.calls == 3 and second.turns == 3
    assert second.tags == ["outage_affected"] and second.tags_added == ["outage_affected"]
    assert {j.confidence for j in second.judgments.values()} == {0.5}, "the rules' judgments travel with it"
    _, tags = await read_account_tags(store, "globex")
    record = tags.tags["outage_affected"]
    assert (record.stage, record.confidence, record.reason) == ("model", None, "the model read it")
    # both events are done: their notes carry the cascade's fingerprint
    assert await planner.judged([sure, doubtful]) == {"e-1", "e-2"}
    note = await note_of(store, "globex", "e-2")
    assert note is not None and note.metadata["planner"] == planner.fingerprint
    assert note.metadata["previous_planner"] == planner.agent.fingerprint


async def test_a_model_failure_is_that_events_error_the_others_go_on_and_a_retry_finishes_it(
        llm: FakeOpenAI, model: LimitedModel, store: SqliteMemoryStore) -> None:
    planner = cascade(settings_for(llm), store, model)
    broken, fine, sure = (event(1, "initech", "unsure BUSY"), event(2, "umbrella", "unsure question"),
                          event(3, "hooli", "Plan question"))
    llm.refuse = lambda body: {"retry-after": "0"} if "BUSY" in ticket_of(body)["subject"] else None  # a 429
    failed, escalated, plain = await planner.judge([broken, fine, sure])
    assert isinstance(failed, RateLimited), failed
    assert isinstance(escalated, Outcome) and escalated.escalated and escalated.tags == ["outage_affected"]
    assert isinstance(plain, Outcome) and not plain.escalated
    # the failed event is not done: a replay with skip_done runs it again
    assert await planner.judged([broken, fine, sure]) == {"e-2", "e-3"}
    assert (await read_account_tags(store, "initech"))[1].tags == {}
    # the retry (the flow's policy delayed it): the rules again (the note is found, not written twice), the model
    llm.refuse = lambda body: None
    [retried] = await Enrichment(planner, store).enrich([broken])
    assert not isinstance(retried, Exception) and retried.outcome is not None and retried.outcome.escalated
    kinds = [m.metadata.get("kind") for m in (await store.list(filters={"user_id": "initech"})).results]
    assert kinds.count(NOTE_KIND) == 1 and kinds.count(PROFILE_KIND) == 1, kinds
    assert await planner.judged([broken]) == {"e-1"}


def fraction(event_id: str) -> float:
    return int.from_bytes(hashlib.sha256(event_id.encode()).digest()[:8], "big") / 2**64


async def test_a_sampled_event_escalates_and_a_redelivery_picks_it_again_paying_nothing(
        llm: FakeOpenAI, model: LimitedModel, store: SqliteMemoryStore) -> None:
    ids = [f"evt-{i}" for i in range(40)]
    inside = next(i for i in ids if fraction(i) < 0.3)
    outside = next(i for i in ids if fraction(i) >= 0.3)
    settings = settings_for(llm, sample=0.3)
    events = [event(1, "acme", "Plan question", event_id=inside), event(2, "globex", "Plan question",
                                                                         event_id=outside)]
    first = await cascade(settings, store, model).judge(events)
    assert [isinstance(o, Outcome) and o.escalated for o in first] == [True, False]
    calls = len(llm.chat_bodies())
    assert calls == 3
    again = await cascade(settings, store, model).judge(events)  # a redelivery, on a member that caches nothing
    assert [isinstance(o, Outcome) and o.escalated for o in again] == [True, False]
    assert len(llm.chat_bodies()) == calls, "the recorded turns were replayed, none paid again"
    assert isinstance(again[0], Outcome) and again[0].replayed_turns == 3


async def test_a_later_event_of_the_account_is_judged_on_the_models_tags(
        llm: FakeOpenAI, model: LimitedModel, store: SqliteMemoryStore) -> None:
    """The rules' cached state of an account the model changed is dropped: the next batch reads the model's tag."""
    planner = cascade(settings_for(llm), store, model)
    await planner.judge([event(1, "acme", "unsure plan question")])
    [later] = await planner.judge([event(2, "acme", "Thanks", "All good, thank you!")])
    assert isinstance(later, Outcome) and not later.escalated
    assert "outage_affected" in later.tags + later.tags_removed, "the rules judged as if the model's tag were not there"


async def test_a_later_sure_event_does_not_clear_a_tag_the_model_set(
        llm: FakeOpenAI, model: LimitedModel, store: SqliteMemoryStore) -> None:
    planner = cascade(settings_for(llm), store, model)
    await planner.judge([event(1, "acme", "unsure plan question")])
    [later] = await planner.judge([event(2, "acme", "Thanks", "All good, thank you!")])
    assert isinstance(later, Outcome) and not later.escalated and later.usage.calls == 0
    _, tags = await read_account_tags(store, "acme")
    assert "outage_affected" in tags.tags and tags.tags["outage_affected"].stage == "model"


def test_cascade_settings_are_checked_and_named_in_the_fingerprint(llm: FakeOpenAI) -> None:
    with pytest.raises(ValidationError, match='model.mode is "cascade" but model.name is empty'):
        load_settings(model={"mode": "cascade"})
    with pytest.raises(ValidationError):
        load_settings(cascade={"threshold": 1.5})
    with pytest.raises(ValidationError):
        load_settings(cascade={"sample": -0.1})
    base = settings_for(llm)
    assert load_settings().model.mode == "agent" and load_settings().cascade.threshold == 0.9
    prints = {cascade_fingerprint(s, "rules", "fake-model") for s in
              (base, settings_for(llm, threshold=0.7), settings_for(llm, sample=0.1))}
    assert len(prints) == 3 and all(p.startswith("cascade(rules→fake-model)#") for p in prints)
    assert cascade_fingerprint(base, "rules", "fake-model") not in {planner_fingerprint(base, "rules"),
                                                                    planner_fingerprint(base, "fake-model")}


async def test_the_mode_selects_the_planner(llm: FakeOpenAI, model: LimitedModel, store: SqliteMemoryStore) -> None:
    agent = load_settings(model={"name": "fake-model", "base_url": llm.url + "/v1"})
    assert isinstance(build_planner(agent, store, model=model), AgentPlanner)
    built = build_planner(settings_for(llm, threshold=0.6, sample=0.2), store, model=model)
    assert isinstance(built, CascadePlanner) and (built.threshold, built.sample) == (0.6, 0.2)
    assert built.fingerprint == built.rules.fingerprint != built.agent.fingerprint
    assert built.agent.fingerprint == planner_fingerprint(agent, "fake-model"), "turn records keyed as the agent's"
    assert built.name == "cascade(rules→fake-model)"
