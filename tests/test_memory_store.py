"""One behavioural suite for every MemoryStore adapter: embedded SQLite, Mem0 Platform (fake) and PostgreSQL (real)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ticket_enricher.core.errors import InvalidFilter, InvalidRequest, NotFound
from ticket_enricher.memory.events import delete_and_verify, wait_for_event
from ticket_enricher.memory.store import EntityScope

ACME = EntityScope(user_id="acme")
GLOBEX = EntityScope(user_id="globex")


async def test_add_then_get_keeps_text_metadata_and_categories(any_store: Any) -> None:
    added = await any_store.add("dashboard outage for three hours", scope=ACME, metadata={"kind": "ticket_note"},
                                categories=["outage"], idempotency_key="e-1")
    assert added.created and added.id
    got = await any_store.get(added.id)
    assert got is not None and got.memory == "dashboard outage for three hours"
    assert got.user_id == "acme"
    assert got.metadata["kind"] == "ticket_note" and got.metadata["idempotency_key"] == "e-1"
    assert got.categories == ["outage"]
    assert await any_store.get("00000000-0000-4000-8000-000000000000") is None


async def test_same_idempotency_key_adds_nothing(any_store: Any) -> None:
    first = await any_store.add("charged twice", scope=ACME, idempotency_key="e-7")
    again = await any_store.add("charged twice (redelivered)", scope=ACME, idempotency_key="e-7")
    other = await any_store.add("charged twice", scope=GLOBEX, idempotency_key="e-7")
    assert again.id == first.id and not again.created
    assert other.id != first.id and other.created
    assert (await any_store.list(filters={"user_id": "acme"})).count == 1


async def test_search_is_confined_to_the_scope_and_ranks_matches_first(any_store: Any) -> None:
    await any_store.add("question about exporting reports", scope=ACME)
    await any_store.add("the dashboard outage lasted three hours", scope=ACME)
    await any_store.add("the dashboard outage at globex", scope=GLOBEX)
    hits = await any_store.search("dashboard outage", filters={"user_id": "acme"}, top_k=5)
    assert hits and all(h.user_id == "acme" for h in hits)
    assert hits[0].memory == "the dashboard outage lasted three hours"
    assert all(0.0 <= h.score <= 1.0 for h in hits)


async def test_list_paginates_in_creation_order(any_store: Any) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(5):
        await any_store.add(f"note {i}", scope=ACME, timestamp=start + timedelta(days=i))
    pages = [await any_store.list(filters={"user_id": "acme"}, page=p, page_size=2) for p in (1, 2, 3)]
    assert [len(p.results) for p in pages] == [2, 2, 1]
    assert [p.has_next for p in pages] == [True, True, False]
    assert all(p.count == 5 for p in pages)
    assert [m.memory for p in pages for m in p.results] == [f"note {i}" for i in range(5)]
    with pytest.raises(InvalidRequest):
        await any_store.list(filters={"user_id": "acme"}, page_size=500)


async def test_update_merges_metadata_and_is_in_history(any_store: Any) -> None:
    added = await any_store.add("v1", scope=ACME, metadata={"a": 1, "b": 2})
    updated = await any_store.update(added.id, text="v2", metadata={"b": 3, "c": 4})
    assert updated.memory == "v2"
    assert {k: updated.metadata[k] for k in "abc"} == {"a": 1, "b": 3, "c": 4}
    events = [h.event for h in await any_store.history(added.id)]
    assert events[:2] == ["ADD", "UPDATE"]
    with pytest.raises(NotFound):
        await any_store.update("00000000-0000-4000-8000-000000000000", text="x")


async def test_delete_by_id(any_store: Any) -> None:
    added = await any_store.add("to forget", scope=ACME)
    assert await any_store.delete(added.id)
    assert await any_store.get(added.id) is None
    assert not await any_store.delete(added.id)
    assert "DELETE" in [h.event for h in await any_store.history(added.id)]


async def test_delete_by_scope_is_verified_and_spares_other_scopes(any_store: Any) -> None:
    for i in range(3):
        await any_store.add(f"acme complaint {i}", scope=ACME)
    kept = await any_store.add("globex complaint", scope=GLOBEX)
    report = await delete_and_verify(any_store, ACME, timeout=10)
    assert report.verified, report
    assert (await any_store.list(filters={"user_id": "acme"})).count == 0
    assert await any_store.get(kept.id) is not None


async def test_add_event_can_be_polled(any_store: Any) -> None:
    added = await any_store.add("something", scope=ACME)
    assert added.event_id is not None
    event = await wait_for_event(any_store, added.event_id, timeout=5)
    assert event.status == "SUCCEEDED"


async def test_structured_export_fills_the_schema(any_store: Any) -> None:
    for text in ("first complaint", "second complaint"):
        await any_store.add(text, scope=ACME)
    await any_store.add("someone else", scope=GLOBEX)
    schema = {"type": "object", "properties": {"complaints": {"type": "array", "items": {"type": "string"}}}}
    exported = await any_store.export(schema, filters={"user_id": "acme"})
    assert sorted(exported["complaints"]) == ["first complaint", "second complaint"]


# -- filters ------------------------------------------------------------------------------------------------------


async def _seed(store: Any) -> dict[str, str]:
    old = datetime(2025, 6, 1, tzinfo=UTC)
    new = datetime(2026, 6, 1, tzinfo=UTC)
    ids = {}
    ids["outage"] = (await store.add("outage note", scope=ACME, categories=["outage"],
                                     metadata={"kind": "ticket_note", "priority": "urgent"}, timestamp=new)).id
    ids["billing"] = (await store.add("billing note", scope=ACME, categories=["billing"],
                                      metadata={"kind": "ticket_note", "priority": "low"}, timestamp=old)).id
    ids["profile"] = (await store.add("profile", scope=ACME, metadata={"kind": "account_profile"},
                                      timestamp=new)).id
    ids["globex"] = (await store.add("globex note", scope=GLOBEX, categories=["outage"],
                                     metadata={"kind": "ticket_note"}, timestamp=new)).id
    return ids


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"user_id": "acme"}, {"outage", "billing", "profile"}),
        ({"OR": [{"user_id": "acme"}, {"user_id": "globex"}]}, {"outage", "billing", "profile", "globex"}),
        ({"user_id": {"in": ["globex"]}}, {"globex"}),
        ({"AND": [{"user_id": "acme"}, {"NOT": [{"metadata": {"kind": "account_profile"}}]}]}, {"outage", "billing"}),
        ({"AND": [{"user_id": "acme"}, {"categories": {"in": ["billing", "security"]}}]}, {"billing"}),
        ({"AND": [{"user_id": "acme"}, {"categories": {"contains": "out"}}]}, {"outage"}),
        ({"AND": [{"user_id": "acme"}, {"created_at": {"gte": "2026-01-01"}}]}, {"outage", "profile"}),
        ({"AND": [{"user_id": "acme"}, {"created_at": {"lt": "2026-01-01T00:00:00Z"}}]}, {"billing"}),
        ({"AND": [{"user_id": "acme"}, {"metadata": {"priority": {"ne": "low"}}},
                  {"metadata": {"kind": "ticket_note"}}]}, {"outage"}),
        ({"AND": [{"user_id": "acme"}, {"metadata": {"priority": {"contains": "urg"}}}]}, {"outage"}),
        ({"AND": [{"user_id": "acme"}, {"OR": [{"categories": {"in": ["billing"]}},
                                                {"metadata": {"kind": "account_profile"}}]}]}, {"billing", "profile"}),
        ({"user_id": "acme", "metadata": {"kind": "account_profile"}}, {"profile"}),
    ],
)
async def test_filter_grammar_selects_the_same_memories(any_store: Any, filters: dict[str, Any],
                                                        expected: set[str]) -> None:
    ids = await _seed(any_store)
    listed = await any_store.list(filters=filters, page_size=50)
    assert {name for name, i in ids.items() if i in {m.id for m in listed.results}} == expected


@pytest.mark.parametrize(
    ("filters", "problem"),
    [
        ({"AND": [{"user_id": "acme"}], "OR": [{"user_id": "globex"}]}, "sibling"),
        ({"NOT": [{"user_id": "acme"}]}, "scoped"),
        ({"user_id": "*"}, "scoped"),
        ({"metadata": {"kind": "x"}}, "scoped"),
        ({"OR": [{"user_id": "acme"}, {"metadata": {"kind": "x"}}]}, "scoped"),
        ({"user_id": "acme", "metadata": {"outer": {"inner": 1}}}, "nested"),
        ({"user_id": "acme", "metadata": {"a.b": 1}}, "top-level"),
        ({"user_id": "acme", "created_at": {"gte": "last tuesday"}}, "ISO"),
        ({"user_id": "acme", "categories": {"eq": "x"}}, "not allowed"),
        ({"user_id": "acme", "color": "blue"}, "unknown field"),
        ({}, "non-empty"),
    ],
)
async def test_invalid_filters_fail_before_any_io(any_store: Any, filters: dict[str, Any], problem: str,
                                                  request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue("fake_mem0") if "mem0" in request.node.callspec.id else None
    before = len(server.requests) if server else 0
    with pytest.raises(InvalidFilter, match=problem):
        await any_store.list(filters=filters)
    with pytest.raises(InvalidFilter, match=problem):
        await any_store.search("anything", filters=filters)
    if server:
        assert len(server.requests) == before


async def test_a_batch_is_written_once_whoever_writes_it_and_never_rewinds(any_store: Any) -> None:
    """Group commit (`memory.batch`): notes named by their planned ids before they exist, a profile that cites
    them, the same batch written again (a redelivery, or a zombie member), and a stale writer that must not
    rewind the profile: on SQLite in one transaction, on Mem0 call by call with its own ids remapped."""
    from ticket_enricher.memory.batch import Change, NewMemory, write_batch

    notes = [NewMemory(f"note {i}", ACME, f"ev-{i}", {"kind": "ticket_note", "event_id": f"ev-{i}"},
                       timestamp=datetime(2026, 1, 1 + i, tzinfo=UTC)) for i in range(3)]
    profile = NewMemory("profile", ACME, "account-profile",
                        {"kind": "account_profile", "evidence": [n.id for n in notes],
                         "evaluated_through": "2026-01-03T00:00:00+00:00"},
                        merge_if_exists=True, not_after=("evaluated_through", "2026-01-03T00:00:00+00:00"))
    first = await write_batch(any_store, [*notes, profile], [])
    assert first.created == {n.id for n in [*notes, profile]}
    again = await write_batch(any_store, [*notes, profile], [])
    assert again.created == set() and again.ids == first.ids, "a batch written twice writes nothing new"
    listed = await any_store.list(filters={"user_id": "acme"}, page_size=10)
    assert listed.count == 4
    stored = {m.metadata.get("event_id"): m.id for m in listed.results}
    (kept,) = [m for m in listed.results if m.metadata.get("kind") == "account_profile"]
    assert sorted(kept.metadata["evidence"]) == sorted(stored[f"ev-{i}"] for i in range(3)), "evidence names them"
    stale = Change(first.ids[profile.id], {"evaluated_through": "2026-01-02T00:00:00+00:00", "tags": ["old"]},
                   not_after=("evaluated_through", "2026-01-02T00:00:00+00:00"))
    assert (await write_batch(any_store, [], [stale])).skipped == 1
    newer = Change(first.ids[profile.id], {"evaluated_through": "2026-01-04T00:00:00+00:00", "tags": ["new"]},
                   not_after=("evaluated_through", "2026-01-04T00:00:00+00:00"))
    assert (await write_batch(any_store, [], [newer])).skipped == 0
    current = await any_store.get(first.ids[profile.id])
    assert current.metadata["tags"] == ["new"] and current.metadata["kind"] == "account_profile"
