"""A fake Mem0 Platform on loopback that enforces the documented behaviour our adapter must cope with.

- `Authorization: Token <key>` or 401.
- v3 search/list: `filters` required and scoped to an entity; entity ids at the top level of a search → 400; an
  `AND` with a sibling `OR` silently drops the `OR` (as upstream does).
- Adds are stored verbatim with `infer: false`; with `async_adds` they answer PENDING and land when the event is
  polled. Deletes by filter are asynchronous: PENDING → RUNNING → SUCCEEDED over successive polls.
- `PUT /v1/memories/{id}/` replaces metadata (merging is the client's job).
- `stale_searches`: after a delete-by-filter, that many searches still return the deleted memories (an upstream
  report), so that verification is tested for real.
Its own small filter evaluator is written independently of `memory.filters` on purpose.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from ticket_enricher.core.errors import BadRequest
from ticket_enricher.testing.http import FakeServer, Recorded, Reply, Route, body_json

ENTITIES = ("user_id", "agent_id", "app_id", "run_id")
UUID = r"([0-9a-f\-]{36})"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FakeMem0(FakeServer):
    def __init__(self, api_key: str = "test-key-not-secret", *, async_adds: bool = False) -> None:
        super().__init__()
        self.api_key = api_key
        self.async_adds = async_adds
        self.stale_searches = 0
        self.memories: dict[str, dict[str, Any]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.exports: dict[str, dict[str, Any]] = {}
        self._stale: list[dict[str, Any]] = []
        routes: list[tuple[str, str, Route]] = [
            ("GET", "/v1/ping/", lambda r: Reply(200, {"status": "ok"})),
            ("POST", "/v3/memories/add/", self._add),
            ("POST", "/v3/memories/search/", self._search),
            ("POST", "/v3/memories/", self._list),
            ("GET", f"/v1/memories/{UUID}/", self._get),
            ("PUT", f"/v1/memories/{UUID}/", self._update),
            ("DELETE", f"/v1/memories/{UUID}/", self._delete),
            ("DELETE", "/v1/memories/", self._delete_all),
            ("GET", f"/v1/memories/{UUID}/history/", self._history),
            ("GET", f"/v1/event/{UUID}/", self._event),
            ("POST", "/v1/exports/", self._export_create),
            ("POST", "/v1/exports/get/", self._export_get),
        ]
        for method, pattern, handler in routes:
            self.route(method, pattern, self._authorized(handler))

    def _authorized(self, handler: Route) -> Route:
        def wrapped(request: Recorded, *groups: str) -> Reply:
            if request.headers.get("Authorization") != f"Token {self.api_key}":
                return Reply(401, {"detail": "Invalid API key"})
            return handler(request, *groups)

        return wrapped

    # -- writes ------------------------------------------------------------------------------------------------
    def _add(self, request: Recorded) -> Reply:
        body = body_json(request)
        if not isinstance(body, dict) or not body.get("messages"):
            raise BadRequest("messages is required")
        ids = {k: body[k] for k in ENTITIES if body.get(k)}
        if not ids:
            raise BadRequest("at least one of user_id, agent_id, app_id, run_id is required")
        created = datetime.fromtimestamp(body["timestamp"], UTC).isoformat() if "timestamp" in body else _now()
        categories = [name for entry in body.get("custom_categories") or [] for name in entry]
        pending = []
        for message in body["messages"]:
            memory_id = str(uuid.uuid4())
            pending.append({"id": memory_id, "memory": message["content"], **ids,
                            "metadata": body.get("metadata") or {}, "categories": categories,
                            "created_at": created, "updated_at": created})
        event_id = str(uuid.uuid4())
        results = [{"id": m["id"], "data": {"memory": m["memory"]}, "event": "ADD"} for m in pending]
        if self.async_adds:
            self.events[event_id] = {"status": "PENDING", "event_type": "ADD", "results": results,
                                     "apply": lambda: self._store(pending), "polls": 0}
            return Reply(200, {"message": "queued", "status": "PENDING", "event_id": event_id})
        self._store(pending)
        self.events[event_id] = {"status": "SUCCEEDED", "event_type": "ADD", "results": results, "polls": 0}
        return Reply(200, {"status": "SUCCEEDED", "event_id": event_id, "results": results})

    def _store(self, memories: list[dict[str, Any]]) -> None:
        for m in memories:
            self.memories[m["id"]] = m
            self._log(m, "ADD", None, m["memory"])

    def _log(self, m: dict[str, Any], event: str, old: str | None, new: str) -> None:
        self.history.setdefault(m["id"], []).append({
            "id": str(uuid.uuid4()), "memory_id": m["id"], "input": [], "old_memory": old, "new_memory": new,
            "user_id": m.get("user_id") or "", "event": event, "created_at": _now(), "updated_at": _now(),
        })

    def _update(self, request: Recorded, memory_id: str) -> Reply:
        m = self.memories.get(memory_id)
        if m is None:
            return Reply(404, {"error": "Memory not found"})
        body = body_json(request) or {}
        old = m["memory"]
        if "text" in body:
            m["memory"] = body["text"]
        if "metadata" in body:
            m["metadata"] = body["metadata"]  # replaced, not merged
        m["updated_at"] = _now()
        self._log(m, "UPDATE", old, m["memory"])
        return Reply(200, self._public(m))

    def _delete(self, request: Recorded, memory_id: str) -> Reply:
        m = self.memories.pop(memory_id, None)
        if m is None:
            return Reply(404, {"error": "Memory not found"})
        self._log(m, "DELETE", m["memory"], "")
        return Reply(200, {"message": "Memory deleted successfully!"})

    def _delete_all(self, request: Recorded) -> Reply:
        ids = {k: v[0] for k, v in request.query.items() if k in ENTITIES}
        if not ids:
            raise BadRequest("at least one filter is required to delete all memories")
        doomed = [m for m in self.memories.values() if all(m.get(k) == v for k, v in ids.items())]

        def apply() -> None:
            for m in doomed:
                self.memories.pop(m["id"], None)
                self._log(m, "DELETE", m["memory"], "")
            self._stale = list(doomed) if self.stale_searches else []

        event_id = str(uuid.uuid4())
        self.events[event_id] = {"status": "PENDING", "event_type": "DELETE", "results": [], "apply": apply,
                                 "polls": 0}
        return Reply(200, {"message": "Memories deletion started", "event_id": event_id})

    # -- reads -------------------------------------------------------------------------------------------------
    def _search(self, request: Recorded) -> Reply:
        body = body_json(request)
        if not isinstance(body, dict) or not body.get("query") or "filters" not in body:
            raise BadRequest("query and filters are required")
        top_level = [k for k in ENTITIES if k in body]
        if top_level:
            raise BadRequest(f"{', '.join(top_level)} must be inside filters")
        flt = self._checked(body["filters"])
        pool = list(self.memories.values())
        if self._stale and self.stale_searches > 0:
            self.stale_searches -= 1
            pool += self._stale
        terms = set(re.findall(r"\w+", body["query"].lower()))
        hits = []
        for m in pool:
            if not self._match(flt, m):
                continue
            words = set(re.findall(r"\w+", m["memory"].lower()))
            score = len(terms & words) / len(terms) if terms else 0.0
            if score >= float(body.get("threshold", 0.1)):
                hits.append({**self._public(m), "run_id": m.get("run_id"), "score": score})
        hits.sort(key=lambda h: -h["score"])
        return Reply(200, {"results": hits[: int(body.get("top_k", 10))]})

    def _list(self, request: Recorded) -> Reply:
        body = body_json(request)
        page = int(request.query.get("page", ["1"])[0])
        size = int(request.query.get("page_size", ["100"])[0])
        if size > 200 or size < 1 or page < 1:
            raise BadRequest("page_size must be 1..200")
        if not isinstance(body, dict) or "filters" not in body:
            raise BadRequest("filters is required")
        flt = self._checked(body["filters"])
        found = sorted((m for m in self.memories.values() if self._match(flt, m)), key=lambda m: m["created_at"])
        chunk = found[(page - 1) * size: page * size]
        more = page * size < len(found)
        return Reply(200, {"count": len(found), "next": f"{self.url}/v3/memories/?page={page + 1}" if more else None,
                           "previous": None, "results": [self._public(m) for m in chunk]})

    def _get(self, request: Recorded, memory_id: str) -> Reply:
        m = self.memories.get(memory_id)
        return Reply(200, self._public(m)) if m else Reply(404, {"error": "Memory not found"})

    def _history(self, request: Recorded, memory_id: str) -> Reply:
        return Reply(200, self.history.get(memory_id, []))

    def _event(self, request: Recorded, event_id: str) -> Reply:
        event = self.events.get(event_id)
        if event is None:
            return Reply(404, {"error": "Event not found"})
        event["polls"] += 1
        if event["status"] == "PENDING":
            event["status"] = "RUNNING"
        elif event["status"] == "RUNNING":
            event.pop("apply", lambda: None)()
            event["status"] = "SUCCEEDED"
        return Reply(200, {"id": event_id, "event_type": event["event_type"], "status": event["status"],
                           "results": event["results"] if event["status"] == "SUCCEEDED" else []})

    def _export_create(self, request: Recorded) -> Reply:
        body = body_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("schema"), dict):
            raise BadRequest("schema is required")
        flt = self._checked(body.get("filters") or {})
        found = sorted((m for m in self.memories.values() if self._match(flt, m)), key=lambda m: m["created_at"])
        props = body["schema"].get("properties", {})
        filled = {name: ([m["memory"] for m in found] if spec.get("type") == "array" else None)
                  for name, spec in props.items()}
        export_id = str(uuid.uuid4())
        self.exports[export_id] = {"ready": False, "data": filled}
        return Reply(201, {"message": "Memory export request received", "id": export_id})

    def _export_get(self, request: Recorded) -> Reply:
        body = body_json(request) or {}
        export = self.exports.get(body.get("memory_export_id", ""))
        if export is None or not export["ready"]:
            if export is not None:
                export["ready"] = True  # ready on the next poll
            return Reply(404, {"error": "Export not ready"})
        return Reply(200, export["data"])

    # -- the filter grammar, independently -------------------------------------------------------------------
    def _checked(self, flt: Any) -> dict[str, Any]:
        if not isinstance(flt, dict) or not flt:
            raise BadRequest("filters must be a non-empty object")
        if not self._scoped(flt):
            raise BadRequest("filters must include at least one entity id")
        return flt

    def _scoped(self, flt: dict[str, Any]) -> bool:
        if "AND" in flt:
            return any(self._scoped(f) for f in flt["AND"])
        if "OR" in flt:
            return all(self._scoped(f) for f in flt["OR"])
        return any(k in ENTITIES and v != "*" and not (isinstance(v, dict) and "ne" in v) for k, v in flt.items())

    def _match(self, flt: dict[str, Any], m: dict[str, Any]) -> bool:
        if "AND" in flt:  # a sibling OR is dropped, as upstream does
            return all(self._match(f, m) for f in flt["AND"])
        if "OR" in flt:
            return any(self._match(f, m) for f in flt["OR"])
        if "NOT" in flt:
            return not all(self._match(f, m) for f in flt["NOT"])
        return all(self._field(k, v, m) for k, v in flt.items())

    def _field(self, key: str, spec: Any, m: dict[str, Any]) -> bool:
        if key in ENTITIES:
            value = m.get(key)
            if spec == "*":
                return value is not None
            if isinstance(spec, dict):
                op, arg = next(iter(spec.items()))
                return bool({"eq": value == arg, "ne": value != arg, "in": value in arg}[op])
            return bool(value == spec)
        if key in ("created_at", "updated_at"):
            (op, arg), = spec.items()
            left, right = _time(m[key]), _time(arg)
            return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]
        if key == "categories":
            (op, arg), = spec.items()
            cats = m.get("categories") or []
            return any(c in arg for c in cats) if op == "in" else any(arg in c for c in cats)
        if key == "metadata":
            meta = m.get("metadata") or {}
            for name, cond in spec.items():
                op, arg = next(iter(cond.items())) if isinstance(cond, dict) else ("eq", cond)
                value = meta.get(name)
                if op == "eq" and value != arg or op == "ne" and value == arg:
                    return False
                if op == "contains" and not (arg in value if isinstance(value, (str, list)) else False):
                    return False
            return True
        raise BadRequest(f"unknown filter field {key}")

    @staticmethod
    def _public(m: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in m.items() if k != "run_id"}
        out["session_id"] = m.get("run_id")
        return out
