"""The Mem0 Platform adapter: `MemoryStore` over Mem0's REST API with one httpx.AsyncClient.

v3 for add, search and list; v1 for get, update, delete, history, events and exports; `Authorization: Token`.
No retries here: a 429 becomes one `RateLimited` (wait read from the headers), 5xx, timeouts and dropped
connections become `TransientError`, and the consumer's retry policy decides. Notes are stored verbatim
(`infer: false`), categories are offered as the call's only `custom_categories`, and idempotency is
search-before-add on `metadata.idempotency_key`, since Mem0 itself is add-only.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, JsonValue, ValidationError

from ticket_enricher.core.errors import (
    InvalidRequest,
    MemoryConfigError,
    NotFound,
    PermanentFailure,
    RateLimited,
    TransientError,
)
from ticket_enricher.core.ratelimit import retry_after_seconds
from ticket_enricher.memory.events import wait_for_event
from ticket_enricher.memory.filters import And, Cond, Node, as_node, to_json
from ticket_enricher.memory.store import AddResult, EntityScope, HistoryEntry, Memory, MemoryEvent, Page, ScoredMemory

DEFAULT_BASE_URL = "https://api.mem0.ai"


def _field(answer: object, name: str, default: Any) -> Any:
    """One field of a JSON object answer; an answer that is not an object is an unexpected shape."""
    if not isinstance(answer, dict):
        raise PermanentFailure(f"mem0 answered {type(answer).__name__} where an object was expected")
    return answer.get(name, default)


def _memory(raw: dict[str, Any]) -> dict[str, Any]:
    """Mem0 names `run_id` `session_id` outside v3 search, and may send nulls for lists and maps."""
    return {
        "id": raw["id"], "memory": raw.get("memory") or "",
        "user_id": raw.get("user_id"), "agent_id": raw.get("agent_id"), "app_id": raw.get("app_id"),
        "run_id": raw.get("run_id", raw.get("session_id")),
        "metadata": raw.get("metadata") or {}, "categories": raw.get("categories") or [],
        "created_at": raw["created_at"], "updated_at": raw.get("updated_at") or raw["created_at"],
    }


M = TypeVar("M", bound=BaseModel)


def _model(kind: type[M], raw: Any, **extra: object) -> M:
    """A Mem0 answer as our model; an answer of another shape (API drift) is a `PermanentFailure`, not a leak.
    `raw` is decoded JSON of any shape: every shape error below is caught."""
    try:
        fields = _memory(raw) if kind in (Memory, ScoredMemory) else dict(raw)
        return kind(**fields, **extra)
    except (KeyError, TypeError, AttributeError, ValidationError) as exc:
        raise PermanentFailure(f"mem0 answered a {kind.__name__} of an unexpected shape: {exc}"[:300]) from exc


def mem0_client(*, api_key: str, base_url: str = DEFAULT_BASE_URL, timeout: float = 15.0,
                transport: httpx.AsyncBaseTransport | None = None,
                observe: Callable[[Mapping[str, str]], None] | None = None) -> httpx.AsyncClient:
    """The one HTTP client of a Mem0 store. `observe` sees every response's headers (the limiter reads
    `ratelimit-remaining` from them)."""
    if not api_key:
        raise MemoryConfigError("Mem0 needs an API key (MEM0_API_KEY)")

    async def on_response(response: httpx.Response) -> None:
        if observe is not None:
            observe(response.headers)

    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
        headers={"Authorization": f"Token {api_key}", "Accept": "application/json"},
        event_hooks={"response": [on_response]},
    )


class Mem0MemoryStore:
    """`MemoryStore` on Mem0 Platform over the client it is given (`mem0_client`), which it closes on `close()`;
    see `memory.store` for the semantics."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def _call(self, method: str, path: str, *, json: object = None,
                    params: dict[str, Any] | None = None, allow_404: bool = False) -> Any:
        try:
            response = await self._http.request(method, path, json=json, params=params)
        except httpx.TimeoutException as exc:
            raise TransientError(f"mem0 {method} {path}: timed out") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"mem0 {method} {path}: {type(exc).__name__}") from exc
        status = response.status_code
        if status == 429:
            raise RateLimited("mem0", retry_after_seconds(response.headers), f"{method} {path}")
        if status >= 500:
            raise TransientError(f"mem0 {method} {path}: HTTP {status}")
        if status == 404 and allow_404:
            return None
        if status in (401, 403):
            raise TransientError(f"mem0 {method} {path}: HTTP {status}; check MEM0_API_KEY")
        if status >= 400:
            raise PermanentFailure(f"mem0 {method} {path}: HTTP {status}: {response.text[:300]}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise TransientError(f"mem0 {method} {path}: the answer is not JSON") from exc

    async def ping(self) -> None:
        """Fail fast at start-up on a wrong key or base URL."""
        await self._call("GET", "/v1/ping/")

    async def add(
        self,
        text: str,
        *,
        scope: EntityScope,
        metadata: dict[str, JsonValue] | None = None,
        categories: list[str] | None = None,
        idempotency_key: str | None = None,
        timestamp: datetime | None = None,
    ) -> AddResult:
        meta = dict(metadata or {})
        if idempotency_key is not None:
            meta["idempotency_key"] = idempotency_key
            found = await self.list(
                filters=And((scope.as_filter(), Cond("metadata", "eq", idempotency_key, key="idempotency_key"))),
                page_size=1,
            )
            if found.results:
                return AddResult(id=found.results[0].id, event_id=None, created=False)
        body: dict[str, Any] = {"messages": [{"role": "user", "content": text}], **scope.ids(),
                                "metadata": meta, "infer": False}
        if categories:
            body["custom_categories"] = [{name: name} for name in categories]
        if timestamp is not None:
            body["timestamp"] = int(timestamp.timestamp())
        answer = await self._call("POST", "/v3/memories/add/", json=body)
        event_id = _field(answer, "event_id", None)
        results = _field(answer, "results", None)
        if not results and event_id:
            settled = await wait_for_event(self, event_id)
            if settled.status == "FAILED":
                raise TransientError(f"mem0 add event {event_id} failed: {settled.error}")
            results = settled.results
        added = [r for r in results or [] if isinstance(r, dict) and r.get("id")]
        if not added:
            raise PermanentFailure(f"mem0 stored nothing for the add (event {event_id})")
        return AddResult(id=str(added[0]["id"]), event_id=event_id, created=True)

    async def search(
        self, query: str, *, filters: Node | dict[str, Any], top_k: int = 10, threshold: float = 0.0
    ) -> list[ScoredMemory]:
        node = as_node(filters)
        if not query.strip():
            raise InvalidRequest("search needs a non-empty query; use list() to read without one")
        answer = await self._call("POST", "/v3/memories/search/", json={
            "query": query[:2000], "filters": to_json(node), "top_k": top_k, "threshold": threshold,
        })
        return [
            _model(ScoredMemory, r, score=min(max(float(r.get("score") or 0.0), 0.0), 1.0),
                   score_breakdown={k: float(v) for k, v in (r.get("score_breakdown") or {}).items()})
            for r in _field(answer, "results", [])
        ]

    async def get(self, memory_id: str) -> Memory | None:
        raw = await self._call("GET", f"/v1/memories/{memory_id}/", allow_404=True)
        return None if raw is None else _model(Memory, raw)

    async def list(self, *, filters: Node | dict[str, Any], page: int = 1, page_size: int = 100) -> Page:
        if page < 1 or not 1 <= page_size <= 200:
            raise InvalidRequest("page starts at 1 and page_size is 1 to 200")
        answer = await self._call("POST", "/v3/memories/", params={"page": page, "page_size": page_size},
                                  json={"filters": to_json(as_node(filters))})
        return Page(results=[_model(Memory, r) for r in _field(answer, "results", [])],
                    count=int(_field(answer, "count", 0)), has_next=bool(_field(answer, "next", None)))

    async def update(
        self, memory_id: str, *, text: str | None = None, metadata: dict[str, JsonValue] | None = None
    ) -> Memory:
        """Mem0 does not document merging metadata on update: read, merge, write the whole map."""
        body: dict[str, Any] = {}
        if text is not None:
            body["text"] = text
        if metadata is not None:
            current = await self.get(memory_id)
            if current is None:
                raise NotFound(f"no memory with id {memory_id}")
            body["metadata"] = {**current.metadata, **metadata}
        raw = await self._call("PUT", f"/v1/memories/{memory_id}/", json=body, allow_404=True)
        if raw is None:
            raise NotFound(f"no memory with id {memory_id}")
        fresh = await self.get(memory_id) if "memory" not in raw else _model(Memory, raw)
        if fresh is None:
            raise NotFound(f"memory {memory_id} vanished during its update")
        return fresh

    async def delete(self, memory_id: str) -> bool:
        return await self._call("DELETE", f"/v1/memories/{memory_id}/", allow_404=True) is not None

    async def delete_by_scope(self, scope: EntityScope) -> str:
        answer = await self._call("DELETE", "/v1/memories/", params=scope.ids())
        event_id = answer.get("event_id") if isinstance(answer, dict) else None
        if not event_id:
            raise PermanentFailure(f"mem0 delete-by-filter returned no event id: {answer!r}"[:300])
        return str(event_id)

    async def history(self, memory_id: str) -> builtins.list[HistoryEntry]:
        rows = await self._call("GET", f"/v1/memories/{memory_id}/history/", allow_404=True) or []
        return [_model(HistoryEntry, {k: r.get(k) for k in ("memory_id", "event", "old_memory", "new_memory",
                                                            "created_at")}) for r in rows]

    async def event(self, event_id: str) -> MemoryEvent:
        raw = await self._call("GET", f"/v1/event/{event_id}/", allow_404=True)
        if raw is None:
            raise NotFound(f"no memory event with id {event_id}")
        return _model(MemoryEvent, {"id": _field(raw, "id", event_id), "status": _field(raw, "status", None),
                                    "event_type": _field(raw, "event_type", None),
                                    "results": _field(raw, "results", None) or [], "error": _field(raw, "error", None)})

    async def export(self, schema: dict[str, JsonValue], *, filters: Node | dict[str, Any]) -> dict[str, JsonValue]:
        """Mem0 fills the schema with its own model; the export is polled until it is ready."""
        node = as_node(filters)
        created = await self._call("POST", "/v1/exports/", json={"schema": schema, "filters": to_json(node)})
        export_id = _field(created, "id", None)
        if not export_id:
            raise PermanentFailure(f"mem0 export answered without an id: {created!r}"[:300])
        delay = 0.05
        for _ in range(40):
            result = await self._call("POST", "/v1/exports/get/", json={"memory_export_id": export_id},
                                      allow_404=True)
            if isinstance(result, dict):
                return result
            if result is not None:
                raise PermanentFailure(f"mem0 export answered {type(result).__name__} where an object was expected")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
        raise TransientError(f"mem0 export {export_id} not ready")

    async def close(self) -> None:
        await self._http.aclose()
