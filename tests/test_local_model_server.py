"""The real local model server (llama.cpp's, SmolLM2-135M-Instruct) speaks the OpenAI chat-completions protocol
with tools, and refuses what we saw it refuse; protocol facts only, never what the tiny model says."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.model_server_fixtures import require_fetched
from ticket_enricher.core.errors import ModelServerError
from ticket_enricher.localmodel import LocalModelServer

pytestmark = pytest.mark.model_server

USER = {"role": "user", "content": "I was charged twice for my March invoice. Please note it on my account."}


def note_tool(**text_schema: Any) -> dict[str, Any]:
    """One small tool: a function with a short string parameter."""
    return {"type": "function", "function": {
        "name": "add_note", "description": "Save a short note about the customer's account.",
        "parameters": {"type": "object", "properties": {"text": {"type": "string", **text_schema}},
                       "required": ["text"]}}}


@pytest.fixture
def client(model_server: LocalModelServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=model_server.base_url, timeout=90) as c:
        yield c


def chat(client: httpx.Client, **body: Any) -> httpx.Response:
    # max_tokens always: without it a small model may ramble until the client's timeout
    return client.post("/chat/completions", json={"model": "smollm2", "max_tokens": 32, "temperature": 0, **body})


def test_models_lists_the_alias(client: httpx.Client) -> None:
    response = client.get("/models")
    assert response.status_code == 200
    assert "smollm2" in [m["id"] for m in response.json()["data"]]


def test_a_chat_with_one_small_tool_answers_a_tool_call_or_text_with_usage(client: httpx.Client) -> None:
    response = chat(client, messages=[USER], tools=[note_tool()])
    assert response.status_code == 200
    body = response.json()
    [choice] = body["choices"]
    message = choice["message"]
    assert message["role"] == "assistant"
    if message.get("tool_calls"):
        assert choice["finish_reason"] == "tool_calls"
        assert all(c["type"] == "function" and c["function"]["name"] == "add_note"
                   and isinstance(c["function"]["arguments"], str) for c in message["tool_calls"])
    else:
        assert isinstance(message["content"], str)
        assert choice["finish_reason"] in ("stop", "length")
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] >= 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_a_forced_tool_choice_returns_a_tool_call_with_null_content(client: httpx.Client) -> None:
    """The grammar holds the model to the tool's schema; the server itself answers `content: null` here."""
    response = chat(client, messages=[USER], tools=[note_tool(maxLength=40)],
                    tool_choice={"type": "function", "function": {"name": "add_note"}})
    assert response.status_code == 200
    [choice] = response.json()["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "add_note" and isinstance(call["function"]["arguments"], str)


def history(**assistant: Any) -> list[dict[str, Any]]:
    """A user turn, the assistant's tool call (with `assistant` fields), and the tool's result."""
    call = {"id": "call_1", "type": "function",
            "function": {"name": "add_note", "arguments": '{"text": "charged twice"}'}}
    return [USER, {"role": "assistant", "tool_calls": [call], **assistant},
            {"role": "tool", "tool_call_id": "call_1", "content": "saved"}]


def test_an_assistant_message_with_null_content_beside_tool_calls_is_a_500(client: httpx.Client) -> None:
    """What the server answers to the shape OpenAI itself sends back: a request-validation failure, reported
    as HTTP 500 (not 422), naming the assistant message's `content`. An empty string passes."""
    refused = chat(client, messages=history(content=None), tools=[note_tool()])
    assert refused.status_code == 500
    error = refused.json()["error"]
    assert error["type"] == "internal_server_error"
    assert "ChatCompletionRequestAssistantMessage" in error["message"] and "content" in error["message"]
    assert chat(client, messages=history(content=""), tools=[note_tool()]).status_code == 200


def test_an_assistant_message_without_content_is_a_500_from_the_chat_template(client: httpx.Client) -> None:
    response = chat(client, messages=history(), tools=[note_tool()])
    assert response.status_code == 500
    assert "has no attribute 'content'" in response.json()["error"]["message"]


def test_a_string_with_a_large_max_length_kills_the_server(tmp_path: Path) -> None:
    """maxLength 2000 (what agents/tools.py allows a note) under a forced tool call: llama.cpp cannot build the
    grammar ("failed to parse grammar"), the connection drops without a response and the process exits.
    Seen: maxLength 1000 works, 1024 does not. A server of the test's own, so the session's lives on."""
    require_fetched()
    server = LocalModelServer(tmp_path / "doomed")
    server.start(say=lambda m: None)
    try:
        with httpx.Client(base_url=server.base_url, timeout=90) as c, pytest.raises(httpx.RemoteProtocolError):
            chat(c, messages=[USER], tools=[note_tool(maxLength=2000)],
                 tool_choice={"type": "function", "function": {"name": "add_note"}})
        deadline = time.monotonic() + 60
        while server.running() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not server.running()
        assert "failed to parse grammar" in server.log_file.read_text(errors="replace")
    finally:
        server.stop()


def test_a_server_that_cannot_listen_fails_start_with_its_log(model_server: LocalModelServer,
                                                             tmp_path: Path) -> None:
    second = LocalModelServer(tmp_path / "second", port=model_server.port)
    with pytest.raises(ModelServerError, match="exited with") as raised:
        second.start(say=lambda m: None)
    assert "address already in use" in str(raised.value).lower()
    assert not second.running()
