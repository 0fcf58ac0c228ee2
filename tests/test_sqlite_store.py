"""What only the embedded store does: FTS5 safety, deletes that really delete, several handles, semantics."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ticket_enricher.core.errors import MemoryConfigError
from ticket_enricher.memory.embeddings import OpenAIEmbedder, embeddings_client
from ticket_enricher.memory.sqlite import SqliteMemoryStore
from ticket_enricher.memory.store import EntityScope
from ticket_enricher.testing.openai_server import FakeOpenAI

ACME = EntityScope(user_id="acme")
ACME_ONLY = {"user_id": "acme"}


@pytest.mark.parametrize("query", ['"unbalanced', "NEAR(a b", "a OR", "*", "col:umn", ") AND (", "scope : x", ""])
async def test_fts_syntax_in_the_query_is_just_text(store: SqliteMemoryStore, query: str) -> None:
    await store.add("a memory", scope=ACME)
    hits = await store.search(query, filters=ACME_ONLY)
    assert len(hits) == 1


async def test_delete_removes_fts_rows_embeddings_and_history_text(tmp_path: Path) -> None:
    fake = FakeOpenAI().start()
    embedder = OpenAIEmbedder(embeddings_client(base_url=fake.url + "/v1", api_key=None), model="m")
    store = SqliteMemoryStore(tmp_path / "d.db", embedder=embedder)
    try:
        doomed = await store.add("zanzibarquux secret complaint", scope=ACME)
        await store.update(doomed.id, text="zanzibarquux secret complaint, updated")
        kept = await store.add("zanzibarquux at another account", scope=EntityScope(user_id="globex"))
        await store.delete_by_scope(ACME)
    finally:
        await store.close()
        fake.stop()
    db = sqlite3.connect(tmp_path / "d.db")
    try:
        matches = [r[0] for r in db.execute("SELECT rowid FROM memories_fts WHERE memories_fts MATCH 'zanzibarquux'")]
        assert len(matches) == 1
        assert db.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 1
        texts = db.execute("SELECT old_memory, new_memory, old_metadata, new_metadata FROM history"
                           " WHERE memory_id = ?", (doomed.id,)).fetchall()
        assert texts and all(v is None for row in texts for v in row)
        assert db.execute("SELECT count(*) FROM history WHERE memory_id = ?", (kept.id,)).fetchone()[0] == 1
    finally:
        db.close()
    raw = (tmp_path / "d.db").read_bytes()
    assert raw.count(b"secret complaint") == 0, "deleted text must not linger in the file"


async def test_two_handles_on_one_file_share_idempotency(tmp_path: Path) -> None:
    """Two worker processes on one machine open the same file: the unique key keeps one memory."""
    a, b = SqliteMemoryStore(tmp_path / "shared.db"), SqliteMemoryStore(tmp_path / "shared.db")
    try:
        first = await a.add("x", scope=ACME, idempotency_key="e-1")
        second = await b.add("x", scope=ACME, idempotency_key="e-1")
        assert first.id == second.id and not second.created
        assert await b.count() == 1
    finally:
        await a.close()
        await b.close()


async def test_without_embeddings_the_semantic_signal_is_absent(store: SqliteMemoryStore) -> None:
    await store.add("the site had an outage all morning", scope=ACME)
    hits = await store.search("service unavailable", filters=ACME_ONLY)
    assert hits and "semantic" not in hits[0].score_breakdown
    assert "bm25" not in hits[0].score_breakdown  # no shared word


async def test_with_embeddings_semantic_similarity_ranks_synonyms_first(tmp_path: Path) -> None:
    fake = FakeOpenAI().start()
    embedder = OpenAIEmbedder(embeddings_client(base_url=fake.url + "/v1", api_key=None), model="m")
    store = SqliteMemoryStore(tmp_path / "e.db", embedder=embedder)
    try:
        await store.add("the site had an outage all morning", scope=ACME)
        await store.add("please send the invoice again", scope=ACME)
        hits = await store.search("service unavailable", filters=ACME_ONLY)
        assert hits[0].memory.startswith("the site had an outage")
        assert hits[0].score_breakdown["semantic"] > hits[1].score_breakdown["semantic"]
        assert all(0.0 <= h.score <= 1.0 for h in hits)
    finally:
        await store.close()
        fake.stop()


async def test_entity_matching_lifts_memories_naming_the_same_ids(store: SqliteMemoryStore) -> None:
    await store.add("ticket about the export page", scope=ACME)
    await store.add("ticket NOR-1042 about the export page", scope=ACME)
    hits = await store.search("NOR-1042 export", filters=ACME_ONLY)
    assert hits[0].memory.startswith("ticket NOR-1042")
    assert hits[0].score_breakdown["entity"] > hits[1].score_breakdown.get("entity", 0.0)


async def test_threshold_drops_weak_matches(store: SqliteMemoryStore) -> None:
    await store.add("billing question", scope=ACME)
    await store.add("unrelated words entirely", scope=ACME)
    strong = await store.search("billing", filters=ACME_ONLY, threshold=0.5)
    assert [h.memory for h in strong] == ["billing question"]


async def test_an_older_schema_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute("CREATE TABLE memories (id TEXT)")
    db.close()
    with pytest.raises(MemoryConfigError, match="schema v0"):
        SqliteMemoryStore(tmp_path / "old.db")


async def test_a_v3_file_is_migrated_in_place(tmp_path: Path) -> None:
    """v3 kept BM25's corpus counts in a `stats` table through triggers calling a Python function on every write;
    v4 reads FTS5's own totals. Opening a v3 file drops those triggers (a write would fail on them otherwise)."""
    path = tmp_path / "v3.db"
    store = SqliteMemoryStore(path)
    await store.add("the dashboard is down again", scope=EntityScope(user_id="acme"))
    await store.close()
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE stats (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        DROP TRIGGER memories_ai;
        CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
            INSERT INTO memories_fts (rowid, scope, memory) VALUES (new.rowid, new.scope, new.memory);
            UPDATE stats SET value = value + word_count(new.memory) WHERE key = 'words';
        END;
        PRAGMA user_version = 3;
    """)
    db.close()
    store = SqliteMemoryStore(path)
    try:
        await store.add("billing is wrong", scope=EntityScope(user_id="acme"))  # the v3 trigger would fail here
        hits = await store.search("dashboard down", filters={"user_id": "acme"})
        assert [h.memory for h in hits][:1] == ["the dashboard is down again"]
    finally:
        await store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 4
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'stats'").fetchone()[0] == 0
    db.close()


async def test_a_new_file_another_process_is_creating_is_waited_for_not_refused(tmp_path: Path) -> None:
    """Two replay processes (or members) opening one fresh file: the second sees the tables before their version
    (written right after them) and waits for it instead of calling the file an old schema."""
    import threading

    from ticket_enricher.memory.sqlite_sql import SCHEMA, SCHEMA_VERSION

    path = tmp_path / "new.db"
    creating = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    creating.executescript(SCHEMA)  # the tables, not yet the version: the other process's moment between the two
    assert creating.execute("PRAGMA user_version").fetchone()[0] == 0
    later = threading.Timer(0.3, lambda: creating.execute(f"PRAGMA user_version={SCHEMA_VERSION}"))
    later.start()
    store = SqliteMemoryStore(path)
    try:
        assert await store.count() == 0
    finally:
        later.join()
        creating.close()
        await store.close()
