"""The OpenAI-compatible adapter through the real SDK against a fake server on loopback: tool calls, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from ticket_enricher.agents.factory import build_model, build_planner
from ticket_enricher.agents.models.limited import LimitedModel
from ticket_enricher.agents.models.openai import OpenAIModel, openai_wire
from ticket_enricher.agents.notes import read_account_tags
from ticket_enricher.agents.planners.rules import RulesPlanner
from ticket_enricher.config.settings import load_settings
from ticket_enricher.core.errors import PermanentFailure, RateLimited, TransientError
from ticket_enricher.memory.sqlite import SqliteMemoryStore
from ticket_enricher.samples import generate
from ticket_enricher.testing.openai_server import FakeOpenAI, diligent, text_turn, tool_results, tool_turn

CONFIG = load_settings()


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


_OPEN: list[OpenAIModel] = []


@pytest.fixture(autouse=True)
async def _close_models() -> AsyncIterator[None]:
    """Every model a test builds is closed after it, as the lifespan closes the worker's."""
    yield
    while _OPEN:
        await _OPEN.pop().close()


def agent_for(server: FakeOpenAI, store: SqliteMemoryStore):
    model = OpenAIModel(name="fake-model", wire=openai_wire(base_url=server.url + "/v1",
                                                                  api_key="test-not-secret", timeout=5))
    _OPEN.append(model)
    return build_planner(CONFIG, store, model)


async def test_a_scripted_model_drives_the_tools_through_the_real_sdk(fake_openai: FakeOpenAI,
                                                                      store: SqliteMemoryStore) -> None:
    fake_openai.script = diligent
    event = generate(seed=1, accounts=1).events[0]
    outcome = await agent_for(fake_openai, store).run(event)
    assert outcome.planner == "fake-model"
    assert outcome.tags_added == ["outage_affected"] and len(outcome.memory_ids) == 1
    assert outcome.summary.startswith("Noted the outage")
    assert outcome.usage.input_tokens > 0 and outcome.usage.output_tokens == 80
    _, tags = await read_account_tags(store, event.account_id)
    assert tags.tags["outage_affected"].evidence_memory_ids == outcome.memory_ids
    first = fake_openai.chat_bodies()[0]
    assert first["messages"][0]["role"] == "system" and "untrusted" in first["messages"][0]["content"]
    assert "<<<TICKET" in first["messages"][1]["content"] and event.ticket.body[:40] in first["messages"][1]["content"]
    assert {t["function"]["name"] for t in first["tools"]} >= {"search_memories", "set_account_tags"}
    again = await agent_for(fake_openai, store).run(event)  # a redelivery: same note, tag already there
    assert again.memory_ids == outcome.memory_ids and again.tags_added == []


async def test_malformed_tool_arguments_go_back_to_the_model(fake_openai: FakeOpenAI,
                                                             store: SqliteMemoryStore) -> None:
    def sloppy(body: dict[str, Any]) -> dict[str, Any]:
        turns = sum(1 for m in body["messages"] if m["role"] == "assistant")
        if turns == 0:
            return tool_turn(("add_memory", '{"text": "unterminated'))
        if turns == 1:
            assert tool_results(body)[0]["content"].startswith("error: invalid arguments")
            return tool_turn(("add_memory", {"text": "fixed note"}))
        return text_turn("ok")

    fake_openai.script = sloppy
    outcome = await agent_for(fake_openai, store).run(generate(seed=1, accounts=1).events[0])
    assert len(outcome.memory_ids) == 1


@pytest.mark.parametrize(
    ("headers", "wait"),
    [({"retry-after": "4"}, 4.0), ({"retry-after-ms": "2500"}, 2.5), ({"x-ratelimit-reset-requests": "1m0s"}, 60.0),
     ({"ratelimit-reset": "9"}, 9.0)],
)
async def test_429_is_rate_limited_with_the_servers_wait_and_no_sdk_retry(
    fake_openai: FakeOpenAI, store: SqliteMemoryStore, headers: dict[str, str], wait: float
) -> None:
    fake_openai.fail_next(1, 429, headers, {"error": {"message": "Rate limit reached", "type": "requests"}})
    with pytest.raises(RateLimited) as caught:
        await agent_for(fake_openai, store).run(generate(seed=1, accounts=1).events[0])
    assert caught.value.retry_after == pytest.approx(wait)
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize(("status", "error"), [(500, TransientError), (503, TransientError),
                                                (400, PermanentFailure)])
async def test_server_errors(fake_openai: FakeOpenAI, store: SqliteMemoryStore, status: int,
                             error: type[Exception]) -> None:
    fake_openai.fail_next(1, status, body={"error": {"message": "boom"}})
    with pytest.raises(error):
        await agent_for(fake_openai, store).run(generate(seed=1, accounts=1).events[0])
    assert len(fake_openai.requests) == 1


async def test_the_model_setting_selects_the_adapter(monkeypatch: pytest.MonkeyPatch, store: SqliteMemoryStore) -> None:
    assert build_model(CONFIG) is None and isinstance(build_planner(CONFIG, store), RulesPlanner)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    limited = build_model(load_settings(model={"name": "gpt-test"}))
    assert isinstance(limited, LimitedModel) and limited.name == "gpt-test"
    chosen = limited.model
    assert isinstance(chosen, OpenAIModel)
    unlimited = build_model(load_settings(model={"name": "x"}, retry={"limiter": False}))
    assert isinstance(unlimited, LimitedModel) and unlimited.limiter is None, "the breaker stays, the limiter goes"
    # one SDK client, without SDK retries, whose requests the wire sends
    client = chosen.wire.client
    assert str(client.base_url).startswith("http://127.0.0.1:9/v1") and client.max_retries == 0
    await limited.close()
    await unlimited.close()
    assert chosen.wire.is_closed(), "closing the model closes its client and session"


async def test_the_request_carries_every_tag_definition_with_examples_and_asks_for_evidence_ids(
    fake_openai: FakeOpenAI, store: SqliteMemoryStore
) -> None:
    """The model judges by the same definitions as the config (and so as the rules model's docs say), with
    examples either way, and is told that a tag must cite memory ids."""
    fake_openai.script = diligent
    await agent_for(fake_openai, store).run(generate(seed=1, accounts=1).events[0])
    body = fake_openai.chat_bodies()[0]
    system = body["messages"][0]["content"]
    assert "evidence the ids of this account's memories" in system
    for name, tag in CONFIG.tags.items():
        assert f"- {name}: {tag.description}" in system
        assert tag.examples_positive and tag.examples_negative, name
        for example in tag.examples_positive + tag.examples_negative:
            assert f'"{example}"' in system, (name, example)
    tools = {t["function"]["name"]: t["function"] for t in body["tools"]}
    evidence = tools["set_account_tags"]["parameters"]["$defs"]["TagAdd"]["properties"]["evidence_memory_ids"]
    assert "ids of this account's memories" in evidence["description"]
    assert set(CONFIG.tags) <= set(tools["set_account_tags"]["description"].replace(",", " ").split())


def test_changing_a_definition_or_an_example_changes_the_planner_fingerprint() -> None:
    from ticket_enricher.agents.factory import planner_fingerprint

    model = OpenAIModel(name="fake-model", wire=openai_wire(base_url="http://127.0.0.1:9/v1", api_key="x"))
    _OPEN.append(model)
    base = planner_fingerprint(CONFIG, model.name)
    churn = CONFIG.tags["churn_risk"]
    for change in ({"description": churn.description + " Also VIPs."},
                   {"examples_negative": [*churn.examples_negative, "Where is your office?"]}):
        tags = {**CONFIG.tags, "churn_risk": churn.model_copy(update=change)}
        assert planner_fingerprint(CONFIG.model_copy(update={"tags": tags}), model.name) != base


async def test_the_wire_sends_every_header_the_sdk_sends(fake_openai: FakeOpenAI) -> None:
    """The wire's requests are the SDK's: same method, path and headers (auth, User-Agent, X-Stainless-*) as
    `client.chat.completions.create()` sends on the SDK's own aiohttp transport, and the same body."""
    import openai

    fake_openai.script = lambda body: text_turn("ok")
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    sdk = openai.AsyncOpenAI(base_url=fake_openai.url + "/v1", api_key="test-not-secret", max_retries=0, timeout=7,
                             http_client=openai.DefaultAioHttpClient(timeout=7))
    wire = openai_wire(base_url=fake_openai.url + "/v1", api_key="test-not-secret", timeout=7)
    try:
        await sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        answer = await wire.post("/chat/completions", json.dumps(body).encode())
    finally:
        await sdk.close()
        await wire.close()
    assert json.loads(answer)["choices"][0]["message"]["content"] == "ok"
    by_sdk, by_wire = fake_openai.requests
    assert (by_wire.method, by_wire.path) == (by_sdk.method, by_sdk.path) == ("POST", "/v1/chat/completions")
    assert json.loads(by_wire.body) == json.loads(by_sdk.body) == body
    lower = lambda headers: {k.lower(): v for k, v in headers.items()  # noqa: E731
                             if k.lower() not in {"host", "content-length", "connection"}}  # hop-by-hop
    assert lower(by_wire.headers) == lower(by_sdk.headers)
    assert lower(by_wire.headers)["authorization"] == "Bearer test-not-secret"
    assert lower(by_wire.headers)["x-stainless-retry-count"] == "0"
    assert lower(by_wire.headers)["user-agent"].startswith("AsyncOpenAI/Python")


@pytest.mark.parametrize(("status", "error", "retry_after"), [
    (429, RateLimited, 3.0), (400, PermanentFailure, None), (404, PermanentFailure, None),
    (401, TransientError, None), (500, TransientError, None), (503, TransientError, None)])
async def test_the_wire_names_each_failure_in_the_error_tree(fake_openai: FakeOpenAI, status: int,
                                                             error: type[Exception], retry_after: float | None) -> None:
    fake_openai.fail_next(1, status, {"retry-after": "3"}, {"error": {"message": "nope", "type": "x"}})
    wire = openai_wire(base_url=fake_openai.url + "/v1", api_key="k", timeout=5)
    try:
        with pytest.raises(error) as caught:
            await wire.post("/chat/completions", b"{}")
    finally:
        await wire.close()
    assert type(caught.value) is error and f"HTTP {status}" in str(caught.value)
    if error is not TransientError:
        assert "nope" in str(caught.value), "the server's own message is kept"
    if retry_after is not None:
        assert isinstance(caught.value, RateLimited) and caught.value.retry_after == retry_after


async def test_a_refused_connection_is_transient() -> None:
    wire = openai_wire(base_url="http://127.0.0.1:9/v1", api_key="k", timeout=2)
    try:
        with pytest.raises(TransientError, match="APIConnectionError"):
            await wire.post("/chat/completions", b"{}")
    finally:
        await wire.close()


def test_the_wire_takes_its_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from ticket_enricher.agents.models.openai_wire import proxy_for

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert proxy_for("https://api.openai.com/v1/chat/completions") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,.svc.cluster.local")
    assert proxy_for("https://api.openai.com/v1/chat/completions") == "http://proxy.internal:3128"
    assert proxy_for("https://llm.ml.svc.cluster.local/v1/chat/completions") is None
    assert proxy_for("http://api.openai.com/v1") is None, "HTTPS_PROXY is for https URLs"
