"""What only the PostgreSQL store does, on a real server: idempotency and migrations across members, errors
mapped into the error tree, passwords never shown, deletes that leave no text in any table."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import typer

from ticket_enricher.cli.common import settings_from
from ticket_enricher.config.settings import load_settings
from ticket_enricher.core.errors import PermanentFailure, TransientError
from ticket_enricher.localpostgres import LocalPostgres
from ticket_enricher.memory.embeddings import OpenAIEmbedder, embeddings_client
from ticket_enricher.memory.factory import describe, open_store
from ticket_enricher.memory.postgres import PostgresMemoryStore
from ticket_enricher.memory.postgres_sql import SCHEMA_VERSION
from ticket_enricher.memory.store import EntityScope
from ticket_enricher.testing.openai_server import FakeOpenAI

pytestmark = pytest.mark.postgres
ACME = EntityScope(user_id="acme")
ACME_ONLY = {"user_id": "acme"}


@pytest.fixture
async def pg(postgres_dsn: str) -> AsyncIterator[PostgresMemoryStore]:
    store = PostgresMemoryStore(postgres_dsn)
    try:
        yield store
    finally:
        await store.close()


async def sql(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def test_concurrent_adds_of_one_key_from_two_pools_store_one_memory(postgres_dsn: str) -> None:
    """Two members that both run an event (a rebalance overlap, a zombie after kill -9) write it once."""
    a, b = PostgresMemoryStore(postgres_dsn), PostgresMemoryStore(postgres_dsn)
    try:
        await asyncio.gather(a.ping(), b.ping())
        results = await asyncio.gather(*(store.add("charged twice", scope=ACME, idempotency_key="ev-1")
                                         for _ in range(10) for store in (a, b)))
        assert len({r.id for r in results}) == 1
        assert sum(r.created for r in results) == 1
        rows = await sql(postgres_dsn, "SELECT count(*) AS n FROM memories")
        history = await sql(postgres_dsn, "SELECT event FROM history")
        assert rows[0]["n"] == 1 and [h["event"] for h in history] == ["ADD"]
    finally:
        await a.close()
        await b.close()


async def test_concurrent_updates_from_two_members_lose_no_metadata_key(postgres_dsn: str) -> None:
    a, b = PostgresMemoryStore(postgres_dsn), PostgresMemoryStore(postgres_dsn)
    try:
        profile = await a.add("profile", scope=ACME, metadata={"kind": "account_profile"})
        await asyncio.gather(*(store.update(profile.id, metadata={f"k{i}": i})
                               for i, store in enumerate([a, b] * 8)))
        merged = await a.get(profile.id)
        assert merged is not None and {f"k{i}" for i in range(16)} <= merged.metadata.keys()
    finally:
        await a.close()
        await b.close()


async def test_members_starting_at_once_migrate_the_schema_once(postgres_dsn: str) -> None:
    stores = [PostgresMemoryStore(postgres_dsn) for _ in range(4)]
    try:
        await asyncio.gather(*(s.ping() for s in stores))
        versions = await sql(postgres_dsn, "SELECT version FROM ticket_enricher_schema ORDER BY version")
        assert [v["version"] for v in versions] == list(range(1, SCHEMA_VERSION + 1))
        assert (await stores[3].add("works", scope=ACME)).created
    finally:
        for s in stores:
            await s.close()


async def test_a_schema_newer_than_the_worker_is_refused(pg: PostgresMemoryStore, postgres_dsn: str) -> None:
    await pg.ping()
    await sql(postgres_dsn, "INSERT INTO ticket_enricher_schema (version) VALUES ($1)", SCHEMA_VERSION + 1)
    newer = PostgresMemoryStore(postgres_dsn)
    try:
        with pytest.raises(PermanentFailure, match="newer than this worker"):
            await newer.ping()
    finally:
        await newer.close()


async def test_losing_the_server_is_transient_and_the_pool_recovers() -> None:
    root = Path(tempfile.mkdtemp(prefix="ticket-enricher-pg-loss-"))
    root.chmod(0o755)
    server = LocalPostgres(root / "cluster", unsafe_fast=True)
    store = PostgresMemoryStore(server.start(say=lambda m: None), connect_timeout=3.0)
    try:
        added = await store.add("before the restart", scope=ACME)
        server.stop()
        with pytest.raises(TransientError, match="postgres get"):
            await store.get(added.id)
        server.start(say=lambda m: None)
        got = await store.get(added.id)
        assert got is not None and got.memory == "before the restart"
    finally:
        await store.close()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_a_statement_over_the_timeout_is_transient(postgres_dsn: str) -> None:
    store = PostgresMemoryStore(postgres_dsn, statement_timeout=0.3)
    holder = await asyncpg.connect(postgres_dsn)
    try:
        added = await store.add("locked", scope=ACME)
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM memories WHERE id = $1 FOR UPDATE", added.id)
            with pytest.raises(TransientError, match="QueryCanceled"):
                await store.update(added.id, text="waits for the lock")
        assert (await store.update(added.id, text="free again")).memory == "free again"
    finally:
        await holder.close()
        await store.close()


async def test_the_dsn_password_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cret-Pa55"
    dsn = f"postgresql://someone:{secret}@127.0.0.1:1/nowhere"
    store = PostgresMemoryStore(dsn, connect_timeout=2.0)
    with pytest.raises(TransientError) as refused:
        await store.ping()
    await store.close()
    assert secret not in str(refused.value) and "someone:***@127.0.0.1:1" in str(refused.value)
    assert secret not in repr(store)
    settings = load_settings(memory={"backend": "postgres", "dsn": dsn})
    assert secret not in repr(settings) and secret not in str(settings.model_dump())
    assert secret not in describe(settings) and "***" in describe(settings)
    monkeypatch.setenv("TICKET_ENRICHER_MEMORY__EMBEDDINGS_MODEL", "m")  # an invalid combination
    with pytest.raises(typer.BadParameter) as invalid:
        settings_from(None, memory=dsn)
    assert "embeddings_base_url" in str(invalid.value) and secret not in str(invalid.value)


async def test_the_password_comes_from_pgpassword_when_the_dsn_has_none(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = "member_" + postgres_dsn.rsplit("/", 1)[1]
    database = postgres_dsn.rsplit("/", 1)[1]
    await sql(postgres_dsn, f"CREATE ROLE {role} LOGIN PASSWORD 'right-one'")
    await sql(postgres_dsn, f"ALTER DATABASE {database} OWNER TO {role}")
    dsn = postgres_dsn.replace("ticket_enricher@", f"{role}@")
    monkeypatch.setenv("PGPASSWORD", "right-one")
    store = open_store(load_settings(memory={"backend": "postgres", "dsn": dsn}))
    try:
        assert (await store.add("through PGPASSWORD", scope=ACME)).created
    finally:
        await store.close()
    wrong = PostgresMemoryStore(dsn, password="wrong-one", connect_timeout=5.0)
    with pytest.raises(TransientError, match="check memory.dsn and PGPASSWORD") as refused:
        await wrong.ping()
    await wrong.close()
    assert "wrong-one" not in str(refused.value)


@pytest.mark.parametrize("query", ['"unbalanced', "a | b", "!", "foo:*", "') OR 1=1 --", "<->", "*", ""])
async def test_tsquery_syntax_in_the_query_is_just_text(pg: PostgresMemoryStore, query: str) -> None:
    await pg.add("a memory", scope=ACME)
    hits = await pg.search(query, filters=ACME_ONLY)
    assert len(hits) == 1


async def test_full_text_matching_stems_and_ranks(pg: PostgresMemoryStore) -> None:
    await pg.add("billing question about invoices", scope=ACME)
    await pg.add("unrelated words entirely", scope=ACME)
    hits = await pg.search("invoice", filters=ACME_ONLY, threshold=0.5)
    assert [h.memory for h in hits] == ["billing question about invoices"]
    assert hits[0].score_breakdown["bm25"] > 0


async def test_delete_by_scope_leaves_no_text_in_any_table(postgres_dsn: str) -> None:
    fake = FakeOpenAI().start()
    store = PostgresMemoryStore(postgres_dsn, embedder=OpenAIEmbedder(
        embeddings_client(base_url=fake.url + "/v1", api_key=None), model="m"))
    try:
        doomed = await store.add("zanzibarquux secret complaint", scope=ACME, metadata={"note": "zanzibarquux"})
        await store.update(doomed.id, text="zanzibarquux secret complaint, updated")
        kept = await store.add("zanzibarquux at another account", scope=EntityScope(user_id="globex"))
        await store.delete_by_scope(ACME)
    finally:
        await store.close()
        fake.stop()
    assert [r["id"] for r in await sql(postgres_dsn, "SELECT id FROM memories")] == [kept.id]
    assert (await sql(postgres_dsn, "SELECT count(*) AS n FROM embeddings"))[0]["n"] == 1
    doomed_history = await sql(postgres_dsn, "SELECT * FROM history WHERE memory_id = $1", doomed.id)
    assert {h["event"] for h in doomed_history} == {"ADD", "UPDATE", "DELETE"}
    assert all(h[c] is None for h in doomed_history
               for c in ("old_memory", "new_memory", "old_metadata", "new_metadata"))
    for table in ("memories", "history", "events", "embeddings"):
        left = await sql(postgres_dsn, f"SELECT count(*) AS n FROM {table} t WHERE t::text LIKE '%secret%'")
        assert left[0]["n"] == 0, table


async def test_with_embeddings_semantic_similarity_ranks_synonyms_first(postgres_dsn: str) -> None:
    fake = FakeOpenAI().start()
    store = PostgresMemoryStore(postgres_dsn, embedder=OpenAIEmbedder(
        embeddings_client(base_url=fake.url + "/v1", api_key=None), model="m"))
    try:
        await store.add("the site had an outage all morning", scope=ACME)
        await store.add("please send the invoice again", scope=ACME)
        hits = await store.search("service unavailable", filters=ACME_ONLY)
        assert hits[0].memory.startswith("the site had an outage")
        assert hits[0].score_breakdown["semantic"] > hits[1].score_breakdown["semantic"]
    finally:
        await store.close()
        fake.stop()
