"""The offline structured export: memories projected onto a JSON Schema deterministically, no model involved.

Rules, applied to the schema's top-level `properties`: an array property gets one item per memory (a string item
is the memory text; an object item takes the memory's fields and metadata keys of the same names); a string
property named like an entity id gets that id; `summary`-like strings get the newest memories' texts; integer
properties named `count`/`total` get the number of memories; anything else is null (or left out if required
properties allow it). Deterministic: the same memories give the same object.
"""

from __future__ import annotations

from pydantic import JsonValue

from ticket_enricher.core.errors import InvalidRequest
from ticket_enricher.memory.store import Memory

_SUMMARY_NAMES = ("summary", "overview", "description", "notes")


def project(schema: dict[str, JsonValue], memories: list[Memory], entity_ids: dict[str, str]) -> dict[str, JsonValue]:
    properties = schema.get("properties")
    if schema.get("type") not in (None, "object") or not isinstance(properties, dict):
        raise InvalidRequest("the export schema must be an object schema with `properties`")
    ordered = sorted(memories, key=lambda m: (m.created_at, m.id))
    out: dict[str, JsonValue] = {}
    for name, prop in properties.items():
        kind = prop.get("type") if isinstance(prop, dict) else None
        if kind == "array":
            items = prop.get("items") if isinstance(prop, dict) else None
            out[name] = [_item(items if isinstance(items, dict) else {}, m) for m in ordered]
        elif name in entity_ids or name in ("account_id", "id") and "user_id" in entity_ids:
            out[name] = entity_ids.get(name, entity_ids.get("user_id"))
        elif kind == "string" and any(s in name.lower() for s in _SUMMARY_NAMES):
            out[name] = " ".join(m.memory for m in ordered[-5:])
        elif kind == "integer" and name.lower() in ("count", "total", "memory_count"):
            out[name] = len(ordered)
        else:
            out[name] = None
    return out


def _item(schema: dict[str, JsonValue], memory: Memory) -> JsonValue:
    if schema.get("type") == "string":
        return memory.memory
    fields: dict[str, JsonValue] = {
        "id": memory.id, "memory": memory.memory, "text": memory.memory,
        "created_at": memory.created_at.isoformat(), "updated_at": memory.updated_at.isoformat(),
        "categories": list(memory.categories), **memory.metadata,
    }
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {k: fields[k] for k in ("id", "memory", "created_at")}
    return {name: fields.get(name) for name in properties}
