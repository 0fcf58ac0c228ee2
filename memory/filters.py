"""Mem0's filter grammar, parsed into a small typed tree and checked before any I/O.

    {"AND": [{"user_id": "acme"}, {"created_at": {"gte": "2026-01-01"}},
             {"OR": [{"categories": {"in": ["billing"]}}, {"metadata": {"kind": "ticket_note"}}]}]}

- `AND` / `OR` / `NOT` take a list (NOT negates the AND of its items) and nest freely; a dict with several keys is
  an implicit AND, but a logical key beside any other key is rejected (Mem0 silently drops a sibling `OR`).
- Entity fields `user_id`, `agent_id`, `app_id`, `run_id`: a value (eq), `"*"` (any non-null), or
  `{"eq"|"ne": v}` / `{"in": [..]}`.
- Time fields `created_at`, `updated_at`: `{"gt"|"gte"|"lt"|"lte": date or datetime}`.
- `categories`: `{"in": [..]}` (has any of these) or `{"contains": "text"}` (a category containing the text).
- `metadata`: `{"key": value}` (eq) or `{"key": {"eq"|"ne"|"contains": value}}`, top-level keys only.
- The filter must be positively scoped to at least one entity id: wildcards and NOT do not scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from ticket_enricher.core.errors import InvalidFilter

ENTITY_FIELDS = ("user_id", "agent_id", "app_id", "run_id")
TIME_FIELDS = ("created_at", "updated_at")
LOGICAL = ("AND", "OR", "NOT")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")

Scalar = str | int | float | bool
Op = Literal["eq", "ne", "in", "gt", "gte", "lt", "lte", "contains", "any"]


@dataclass(frozen=True)
class Cond:
    field: str  # an entity or time field, "categories", or "metadata"
    op: Op
    value: Scalar | tuple[Scalar, ...] | datetime | None
    key: str | None = None  # the metadata key

    def operands(self) -> tuple[Scalar, ...]:
        """The values an `in` condition lists (a tuple wherever a condition is parsed or built)."""
        if not isinstance(self.value, tuple):
            raise TypeError(f"{self.field} {self.op} needs a tuple of values, not {self.value!r}")
        return self.value

    def moment(self) -> datetime:
        """The bound of a time condition (`created_at`/`updated_at` gt, gte, lt, lte)."""
        if not isinstance(self.value, datetime):
            raise TypeError(f"{self.field} {self.op} needs a datetime, not {self.value!r}")
        return self.value


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    items: tuple[Node, ...]


Node = Cond | And | Or | Not
_LOGICAL: dict[str, type[And] | type[Or] | type[Not]] = {"AND": And, "OR": Or, "NOT": Not}


def parse_filters(raw: object, *, require_scope: bool = True) -> Node:
    node = _node(raw, "filters")
    if require_scope and not is_scoped(node):
        raise InvalidFilter("filters", "must be scoped to at least one entity id (user_id, agent_id, app_id or "
                                       "run_id) with eq or in, outside any NOT; wildcards do not scope")
    return node


def as_node(filters: Node | dict[str, object]) -> Node:
    """Adapters accept the parsed tree or Mem0's JSON form; JSON is checked here, before any I/O."""
    return parse_filters(filters) if isinstance(filters, dict) else filters


def scope(**entities: str) -> Node:
    """The filter `{"AND": [{"user_id": ...}, ...]}` for the given entity ids."""
    items = tuple(Cond(k, "eq", v) for k, v in entities.items() if v is not None)
    if not items or any(k not in ENTITY_FIELDS for k in entities):
        raise InvalidFilter("filters", f"scope needs one of {', '.join(ENTITY_FIELDS)}")
    return items[0] if len(items) == 1 else And(items)


def all_of(*nodes: Node) -> Node:
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def is_scoped(node: Node) -> bool:
    if isinstance(node, Cond):
        return node.field in ENTITY_FIELDS and node.op in ("eq", "in")
    if isinstance(node, And):
        return any(is_scoped(n) for n in node.items)
    if isinstance(node, Or):
        return all(is_scoped(n) for n in node.items)
    return False


def scoped_entities(node: Node) -> set[tuple[str, Scalar]] | None:
    """(field, value) pairs of which every match carries at least one; None when unknown."""
    if isinstance(node, Cond):
        if node.field in ENTITY_FIELDS and node.op == "eq" and isinstance(node.value, str | int | float | bool):
            return {(node.field, node.value)}
        if node.field in ENTITY_FIELDS and node.op == "in":
            return {(node.field, v) for v in node.operands()}
        return None
    if isinstance(node, And):
        options = [s for s in (scoped_entities(n) for n in node.items) if s is not None]
        return min(options, key=len) if options else None
    if isinstance(node, Or):
        found: set[tuple[str, Scalar]] = set()
        for part in (scoped_entities(n) for n in node.items):
            if part is None:
                return None
            found |= part
        return found
    return None


def to_json(node: Node) -> dict[str, object]:
    """The Mem0 wire form: logical operators always explicit, so no sibling can be dropped."""
    if isinstance(node, (And, Or, Not)):
        return {type(node).__name__.upper(): [to_json(n) for n in node.items]}
    value: object = node.value
    if isinstance(value, datetime):
        value = value.isoformat()
    if isinstance(value, tuple):
        value = list(value)
    if node.field == "metadata":
        inner: object = value if node.op == "eq" else {node.op: value}
        return {"metadata": {node.key: inner}}
    if node.op == "any":
        return {node.field: "*"}
    if node.op == "eq":
        return {node.field: value}
    return {node.field: {node.op: value}}


def _node(raw: object, where: str) -> Node:
    if not isinstance(raw, dict) or not raw:
        raise InvalidFilter(where, "expected a non-empty object")
    logical = [k for k in raw if k in LOGICAL]
    if logical and len(raw) > 1:
        others = ", ".join(k for k in raw if k != logical[0])
        raise InvalidFilter(where, f"{logical[0]} has sibling keys ({others}); nest them inside it instead")
    if logical:
        key = logical[0]
        items = raw[key]
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list) or not items:
            raise InvalidFilter(f"{where}.{key}", "expected a non-empty list of conditions")
        parsed = tuple(_node(item, f"{where}.{key}[{i}]") for i, item in enumerate(items))
        return _LOGICAL[key](parsed)
    conds = tuple(_field(k, v, f"{where}.{k}") for k, v in raw.items())
    return conds[0] if len(conds) == 1 else And(conds)


def _field(name: str, spec: object, where: str) -> Node:
    if name in ENTITY_FIELDS:
        return _entity(name, spec, where)
    if name in TIME_FIELDS:
        return _time(name, spec, where)
    if name == "categories":
        return _categories(spec, where)
    if name == "metadata":
        return _metadata(spec, where)
    raise InvalidFilter(where, f"unknown field {name!r}; expected one of AND, OR, NOT, "
                               f"{', '.join(ENTITY_FIELDS + TIME_FIELDS)}, categories, metadata")


def _one_op(spec: dict[str, object], where: str, allowed: tuple[Op, ...]) -> tuple[Op, object]:
    if len(spec) != 1:
        raise InvalidFilter(where, f"expected exactly one operator of {', '.join(allowed)}")
    (op, value), = spec.items()
    known = next((a for a in allowed if a == op), None)  # `op in allowed`, as the Op it is
    if known is None:
        raise InvalidFilter(where, f"operator {op!r} is not allowed here; use one of {', '.join(allowed)}")
    return known, value


def _entity(name: str, spec: object, where: str) -> Cond:
    if spec == "*":
        return Cond(name, "any", None)
    if isinstance(spec, str):
        if not spec:
            raise InvalidFilter(where, "entity id must not be empty")
        return Cond(name, "eq", spec)
    if not isinstance(spec, dict):
        raise InvalidFilter(where, "expected an id, \"*\", or {eq|ne|in: …}")
    op, value = _one_op(spec, where, ("eq", "ne", "in"))
    if op == "in":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise InvalidFilter(where, "in takes a non-empty list of ids")
        return Cond(name, "in", tuple(value))
    if not isinstance(value, str) or not value or value == "*":
        raise InvalidFilter(where, f"{op} takes one id")
    return Cond(name, op, value)


def parse_time(value: object, where: str = "time") -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                moment = datetime.combine(date.fromisoformat(value), datetime.min.time())
            except ValueError:
                raise InvalidFilter(where, f"{value!r} is not an ISO date or datetime") from None
    else:
        raise InvalidFilter(where, "expected an ISO date or datetime string")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _time(name: str, spec: object, where: str) -> Cond:
    if not isinstance(spec, dict):
        raise InvalidFilter(where, "expected {gt|gte|lt|lte: date}")
    op, value = _one_op(spec, where, ("gt", "gte", "lt", "lte"))
    return Cond(name, op, parse_time(value, where))


def _categories(spec: object, where: str) -> Cond:
    if not isinstance(spec, dict):
        raise InvalidFilter(where, "expected {in: [..]} or {contains: text}")
    op, value = _one_op(spec, where, ("in", "contains"))
    if op == "in":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise InvalidFilter(where, "in takes a non-empty list of category names")
        return Cond("categories", "in", tuple(value))
    if not isinstance(value, str) or not value:
        raise InvalidFilter(where, "contains takes a non-empty string")
    return Cond("categories", "contains", value)


def _metadata(spec: object, where: str) -> Node:
    if not isinstance(spec, dict) or not spec:
        raise InvalidFilter(where, "expected {key: value} or {key: {eq|ne|contains: value}}")
    conds = []
    for key, value in spec.items():
        here = f"{where}.{key}"
        if not isinstance(key, str) or not _KEY.match(key):
            raise InvalidFilter(here, "metadata keys are top-level names (letters, digits, _ and -); "
                                      "nested paths are not supported")
        if isinstance(value, dict):
            if len(value) == 1 and next(iter(value)) not in ("eq", "ne", "contains"):
                raise InvalidFilter(here, f"nested metadata ({key}.{next(iter(value))}) is not supported; "
                                          "filter on top-level keys")
            op, inner = _one_op(value, here, ("eq", "ne", "contains"))
            if not isinstance(inner, (str, int, float, bool)):
                raise InvalidFilter(here, "nested metadata values are not supported; compare a top-level "
                                          "scalar key")
            if op == "contains" and not isinstance(inner, str):
                raise InvalidFilter(here, "contains takes a string")
            conds.append(Cond("metadata", op, inner, key=key))
        elif isinstance(value, (str, int, float, bool)):
            conds.append(Cond("metadata", "eq", value, key=key))
        else:
            raise InvalidFilter(here, "expected a scalar value or {eq|ne|contains: value}")
    return conds[0] if len(conds) == 1 else And(tuple(conds))
