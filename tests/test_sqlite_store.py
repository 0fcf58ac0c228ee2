"""The embedded store: idempotent adds, account-scoped search, merged updates with history, safe FTS."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memory.sqlite import SqliteMemoryStore


async def test_add_with_the_same_idempotency_key_returns_the_first_memory(store: SqliteMemoryStore) -> None:
    first = await store.add("outage on the dashboard", user_id="acme", idempotency_key="e-1")
    again = await store.add("something else entirely", user_id="acme", idempotency_key="e-1")
    assert first.created and not again.created
    assert again.id == first.id
    assert await store.count(user_id="acme") == 1
    kept = await store.get(first.id)
    assert kept is not None and kept.memory == "outage on the dashboard"


async def test_idempotency_keys_are_per_account(store: SqliteMemoryStore) -> None:
    a = await store.add("x", user_id="acme", idempotency_key="e-1")
    b = await store.add("x", user_id="globex", idempotency_key="e-1")
    assert a.id != b.id and b.created


async def test_search_never_crosses_accounts(store: SqliteMemoryStore) -> None:
    await store.add("invoice charged twice", user_id="acme")
    await store.add("invoice charged twice, refund please", user_id="globex")
    hits = await store.search("invoice charged twice refund", user_id="acme", top_k=10)
    assert [h.user_id for h in hits] == ["acme"]


async def test_search_ranks_relevant_memories_first(store: SqliteMemoryStore) -> None:
    await store.add("question about exporting CSV reports", user_id="acme")
    await store.add("the dashboard outage lasted three hours", user_id="acme")
    await store.add("new colleague needs an invite", user_id="acme")
    hits = await store.search("dashboard outage", user_id="acme", top_k=3)
    assert hits[0].memory.startswith("the dashboard outage")
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert hits[0].score > hits[1].score


@pytest.mark.parametrize("query", ['"unbalanced', "NEAR(a b", "a OR", "*", "col:umn", ") AND (", ""])
async def test_fts_syntax_in_the_query_is_just_text(store: SqliteMemoryStore, query: str) -> None:
    await store.add("a memory", user_id="acme")
    hits = await store.search(query, user_id="acme")
    assert len(hits) == 1


async def test_metadata_filter_and_bad_keys(store: SqliteMemoryStore) -> None:
    await store.add("note", user_id="acme", metadata={"kind": "ticket_note"})
    await store.add("profile", user_id="acme", metadata={"kind": "account_profile"})
    listed = await store.list(user_id="acme", metadata_eq={"kind": "account_profile"})
    assert [m.memory for m in listed] == ["profile"]
    with pytest.raises(ValueError, match="plain identifier"):
        await store.list(user_id="acme", metadata_eq={"kind') OR 1=1 --": "x"})


async def test_update_merges_metadata_and_records_history(store: SqliteMemoryStore, tmp_path: Path) -> None:
    added = await store.add("v1", user_id="acme", metadata={"a": 1, "b": 2})
    updated = await store.update(added.id, text="v2", metadata={"b": 3, "c": 4})
    assert updated.memory == "v2"
    assert updated.metadata == {"a": 1, "b": 3, "c": 4}
    assert [h.memory for h in await store.search("v2", user_id="acme")] == ["v2"]
    db = sqlite3.connect(tmp_path / "m.db")
    events = [r[0] for r in db.execute("SELECT event FROM history WHERE memory_id = ? ORDER BY id", (added.id,))]
    db.close()
    assert events == ["ADD", "UPDATE"]


async def test_update_of_a_missing_memory_fails(store: SqliteMemoryStore) -> None:
    with pytest.raises(KeyError):
        await store.update("no-such-id", text="x")


async def test_two_handles_on_one_file_share_idempotency(tmp_path: Path) -> None:
    """Two worker processes on one machine open the same file: the unique key keeps one memory."""
    a, b = SqliteMemoryStore(tmp_path / "shared.db"), SqliteMemoryStore(tmp_path / "shared.db")
    try:
        first = await a.add("x", user_id="acme", idempotency_key="e-1")
        second = await b.add("x", user_id="acme", idempotency_key="e-1")
        assert first.id == second.id and not second.created
        assert await b.count() == 1
    finally:
        await a.close()
        await b.close()
