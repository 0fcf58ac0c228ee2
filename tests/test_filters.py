"""Mem0's filter grammar: what parses, what is refused and why, and the wire form sent to Mem0."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ticket_enricher.core.errors import InvalidFilter
from ticket_enricher.memory.filters import And, Cond, Or, is_scoped, parse_filters, scoped_entities, to_json


def test_implicit_and_and_nesting() -> None:
    node = parse_filters({"user_id": "acme", "metadata": {"kind": "note"}})
    assert node == And((Cond("user_id", "eq", "acme"), Cond("metadata", "eq", "note", key="kind")))
    nested = parse_filters({"AND": [{"user_id": "a"}, {"OR": [{"categories": {"in": ["x"]}},
                                                                {"created_at": {"gte": "2026-01-01"}}]}]})
    assert isinstance(nested, And) and isinstance(nested.items[1], Or)
    assert nested.items[1].items[1] == Cond("created_at", "gte", datetime(2026, 1, 1, tzinfo=UTC))


def test_wire_form_never_has_siblings_and_round_trips() -> None:
    raw = {"user_id": "acme", "metadata": {"kind": "note", "priority": {"ne": "low"}}, "run_id": "*"}
    wire = to_json(parse_filters(raw))
    assert list(wire) == ["AND"]
    assert parse_filters(wire) == parse_filters(raw)


@pytest.mark.parametrize(
    ("raw", "where", "problem"),
    [
        ({"AND": [{"user_id": "a"}], "OR": [{"user_id": "b"}]}, "filters", "sibling"),
        ({"user_id": "a", "OR": [{"user_id": "b"}]}, "filters", "sibling"),
        ({"AND": []}, "filters.AND", "non-empty list"),
        ({"user_id": {"gt": "a"}}, "filters.user_id", "not allowed"),
        ({"user_id": {"in": []}}, "filters.user_id", "non-empty list"),
        ({"user_id": "a", "metadata": {"x": {"y": 1}}}, "filters.metadata.x", "nested"),
        ({"user_id": "a", "metadata": {"x": [1, 2]}}, "filters.metadata.x", "scalar"),
        ({"user_id": "a", "updated_at": "2026-01-01"}, "filters.updated_at", "gt|gte"),
        ({"user_id": "a", "categories": {"contains": ""}}, "filters.categories", "non-empty"),
    ],
)
def test_errors_name_the_place_and_the_problem(raw: dict[str, object], where: str, problem: str) -> None:
    with pytest.raises(InvalidFilter, match=problem) as caught:
        parse_filters(raw)
    assert caught.value.where == where


@pytest.mark.parametrize(
    ("raw", "scoped"),
    [
        ({"user_id": "a"}, True),
        ({"user_id": {"in": ["a", "b"]}}, True),
        ({"user_id": {"ne": "a"}}, False),
        ({"user_id": "*"}, False),
        ({"NOT": [{"user_id": "a"}]}, False),
        ({"AND": [{"NOT": [{"user_id": "b"}]}, {"agent_id": "x"}]}, True),
        ({"OR": [{"user_id": "a"}, {"agent_id": "x"}]}, True),
        ({"OR": [{"user_id": "a"}, {"categories": {"in": ["x"]}}]}, False),
    ],
)
def test_scope_rule(raw: dict[str, object], scoped: bool) -> None:
    assert is_scoped(parse_filters(raw, require_scope=False)) is scoped


def test_scoped_entities_feed_the_index_shortcut() -> None:
    assert scoped_entities(parse_filters({"user_id": "a", "metadata": {"k": 1}})) == {("user_id", "a")}
    both = parse_filters({"OR": [{"user_id": "a"}, {"agent_id": "x"}]})
    assert scoped_entities(both) == {("user_id", "a"), ("agent_id", "x")}
