"""A fake OpenAI-compatible API on loopback: `/v1/embeddings` and `/v1/chat/completions`.

Embeddings: words map to concepts through a small synonym table, so "unavailable" and "outage" land close
together: a semantic signal that BM25 alone cannot see. Chat: a test scripts the model with `self.script`, a
function from the request body to the next assistant turn (`tool_turn(...)` or `text_turn(...)`, with an optional
`finish_reason` key to override the one the server reports, e.g. "length"); the server checks the request shape
(model, messages, tool results answering earlier tool calls) and answers 400 otherwise.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from typing import Any

from ticket_enricher.core.errors import BadRequest
from ticket_enricher.testing.http import FakeServer, Recorded, Reply, body_json

DIMENSIONS = 64
CONCEPTS = {
    "outage": "down", "down": "down", "unavailable": "down", "offline": "down", "unreachable": "down",
    "invoice": "bill", "billing": "bill", "charged": "bill", "charge": "bill", "payment": "bill",
    "cancel": "leave", "leaving": "leave", "competitor": "leave", "switch": "leave",
}


def vector(text: str) -> list[float]:
    v = [0.0] * DIMENSIONS
    for word in re.findall(r"\w+", text.lower()):
        concept = CONCEPTS.get(word, word)
        v[int(hashlib.md5(concept.encode()).hexdigest(), 16) % DIMENSIONS] += 1.0
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm for x in v]


def tool_turn(*calls: tuple[str, Any], call_ids: list[str] | None = None) -> dict[str, Any]:
    """An assistant message with tool calls; arguments given as a dict are JSON-encoded, a str is sent as is."""
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": (call_ids or [])[i] if call_ids else f"call_{i}_{name}", "type": "function",
         "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
        for i, (name, args) in enumerate(calls)]}


def text_turn(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool messages answering the model's latest turn, with `content` parsed when it is JSON."""
    out: list[dict[str, Any]] = []
    for message in reversed(body["messages"]):
        if message["role"] != "tool":
            break
        try:
            content = json.loads(message["content"])
        except json.JSONDecodeError:
            content = message["content"]
        out.insert(0, {"tool_call_id": message["tool_call_id"], "content": content})
    return out


class FakeOpenAI(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.script: Callable[[dict[str, Any]], dict[str, Any]] = lambda body: text_turn("done")
        # refuse(body) -> headers of a 429 to answer with, or None to serve the request
        self.refuse: Callable[[dict[str, Any]], dict[str, str] | None] = lambda body: None
        self.latency_seconds = 0.0  # how long each chat completion takes to answer
        self.route("POST", "/v1/embeddings", self._embeddings)
        self.route("POST", "/v1/chat/completions", self._chat)

    def chat_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests if r.path == "/v1/chat/completions" and r.body]

    def _chat(self, request: Recorded) -> Reply:
        body = body_json(request)
        if not isinstance(body, dict) or not body.get("model") or not body.get("messages"):
            raise BadRequest("model and messages are required")
        open_calls: set[str] = set()
        for message in body["messages"]:
            if message.get("role") == "assistant":
                open_calls |= {c["id"] for c in message.get("tool_calls") or []}
            if message.get("role") == "tool" and message.get("tool_call_id") not in open_calls:
                raise BadRequest("a tool message must answer a tool call of an earlier assistant message")
        for tool in body.get("tools") or []:
            if tool.get("type") != "function" or "parameters" not in tool.get("function", {}):
                raise BadRequest("tools must be functions with JSON-schema parameters")
        refusal = self.refuse(body)
        if refusal is not None:
            return Reply(429, {"error": {"message": "Rate limit reached", "type": "requests"}}, refusal)
        message = dict(self.script(body))
        finish = message.pop("finish_reason", None) or ("tool_calls" if message.get("tool_calls") else "stop")
        return Reply(200, delay_seconds=self.latency_seconds, body={
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_800_000_000, "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 100 + len(json.dumps(body)) // 4, "completion_tokens": 20,
                      "total_tokens": 120 + len(json.dumps(body)) // 4},
        })

    def _embeddings(self, request: Recorded) -> Reply:
        body = body_json(request)
        texts = body.get("input") if isinstance(body, dict) else None
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not body.get("model"):
            raise BadRequest("model and input are required")
        data = [{"object": "embedding", "index": i, "embedding": vector(t)} for i, t in enumerate(texts)]
        return Reply(200, {"object": "list", "data": data, "model": body["model"],
                           "usage": {"prompt_tokens": 1, "total_tokens": 1}})


def ticket_of(body: dict[str, Any]) -> dict[str, Any]:
    """The ticket data the adapter put between its markers in the first user message."""
    ticket: dict[str, Any] = json.loads(body["messages"][1]["content"].split("<<<TICKET\n")[1].split("\nTICKET>>>")[0])
    return ticket


def brief(body: dict[str, Any]) -> dict[str, Any]:
    """A two-turn LLM: one note, then the answer."""
    if not any(m["role"] == "assistant" for m in body["messages"]):
        return tool_turn(("add_memory", {"text": "Customer wrote in", "categories": ["question"]}))
    return text_turn("Noted.")


def diligent(body: dict[str, Any]) -> dict[str, Any]:
    """A well-behaved LLM: search, note, tag with the new note as evidence, answer."""
    turns = sum(1 for m in body["messages"] if m["role"] == "assistant")
    if turns == 0:
        return tool_turn(("search_memories", {"query": "outage", "filters": {"metadata": {"kind": "ticket_note"}}}),
                         ("get_account_tags", {}))
    if turns == 1:
        return tool_turn(("add_memory", {"text": "Customer reports an outage", "categories": ["outage"],
                                         "signals": ["outage"]}))
    if turns == 2:
        note_id = tool_results(body)[0]["content"]["id"]
        return tool_turn(("set_account_tags", {"add": [{"tag": "outage_affected", "reason": "reported an outage",
                                                        "evidence_memory_ids": [note_id]}]}))
    return text_turn("Noted the outage and tagged the account.")
