"""The PostgreSQL store: one database shared by every member of the group, on any number of hosts.

asyncpg (made for asyncio: its own pool, binary protocol, prepared statements cached per connection). The pool
opens on first use or at `ping()` (the worker's start-up check), which also migrates the schema
(`memory.postgres_pool.migrate`). Idempotency is the database's: a unique index over (entity ids, key) and
INSERT … ON CONFLICT DO NOTHING, so two members that both run an event (a rebalance overlap, a zombie after
kill -9) store it once. Search is the embedded store's hybrid (`memory.ranking`): candidates from the scope's
newest rows and a `tsvector` match over the scope's rows, scored in Python with BM25 over corpus statistics
from the database (exact on a small table, estimated from ANALYZE's statistics on a large one);
with embeddings, cosine over the candidates' vectors (`real[]`; pgvector is not used). Deletes really delete:
rows, vectors and the history's text go, and dead row versions are vacuumed after a delete by scope.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
from pydantic import JsonValue

from ticket_enricher.core.errors import InvalidRequest, MemoryConfigError, NotFound, TransientError
from ticket_enricher.memory import ranking
from ticket_enricher.memory.batch import planned_id
from ticket_enricher.memory.dsn import has_password, is_dsn, redact
from ticket_enricher.memory.embeddings import Embedder
from ticket_enricher.memory.export import project
from ticket_enricher.memory.filters import Node, as_node, scoped_entities
from ticket_enricher.memory.postgres_pool import create_pool, is_driver_error, migrate, translate
from ticket_enricher.memory.postgres_sql import (
    ADD,
    ANY_TERM,
    COLUMNS,
    CORPUS_ESTIMATE,
    CORPUS_EXACT,
    CORPUS_SAMPLED,
    DELETED,
    DOCUMENT_FREQUENCIES,
    FIND,
    SCRUB,
    TERM_FREQUENCIES,
    UPDATE,
    Params,
    compile_filter,
)
from ticket_enricher.memory.store import (
    AddResult,
    EntityScope,
    HistoryEntry,
    Memory,
    MemoryEvent,
    MemoryFields,
    Page,
    ScoredMemory,
    list_all,
)

log = logging.getLogger("ticket_enricher.memory.postgres")
_FTS_CANDIDATES = 500
_SEMANTIC_CANDIDATES = 1000
# Corpus statistics (memories, words, document frequency per term) are counted in the database and kept for a
# while: counting a common term means reading its whole posting list. A small table changes fast in relative
# terms and costs little to count, so its statistics are kept for seconds only.
_STATS_TTL_SECONDS = 600.0
_STATS_TTL_SMALL_SECONDS = 5.0
_STATS_SMALL = 20_000


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class PostgresMemoryStore:
    """`MemoryStore` on PostgreSQL; see `memory.store` for the semantics."""

    def __init__(self, dsn: str, *, password: str | None = None, embedder: Embedder | None = None,
                 pool_max_size: int = 16, statement_timeout: float = 10.0, connect_timeout: float = 15.0) -> None:
        """`password` is used only when the DSN holds none (as libpq does with PGPASSWORD)."""
        if not is_dsn(dsn):
            raise MemoryConfigError("a PostgreSQL DSN starts with postgresql:// or postgres://")
        self.where = redact(dsn)
        self.embedder = embedder
        self._dsn = dsn
        self._password = None if has_password(dsn) else password
        self._pool_max_size = pool_max_size
        self._statement_timeout = statement_timeout
        self._connect_timeout = connect_timeout
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._corpus: tuple[float, int, float] | None = None  # (counted at, memories, average words)
        self._df: dict[str, tuple[float, int]] = {}  # term -> (counted at, memories holding it)

    def __repr__(self) -> str:
        return f"PostgresMemoryStore({self.where!r})"

    async def _ready(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                pool = await create_pool(self._dsn, password=self._password, max_size=self._pool_max_size,
                                         statement_timeout=self._statement_timeout,
                                         connect_timeout=self._connect_timeout)
                try:
                    async with pool.acquire() as conn:
                        await migrate(conn)
                except BaseException:
                    pool.terminate()
                    raise
                self._pool = pool
        return self._pool

    @contextlib.asynccontextmanager
    async def _conn(self, operation: str) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; every driver error inside becomes a `core.errors` error."""
        try:
            pool = await self._ready()
            async with pool.acquire() as conn:  # waits for a free connection (back-pressure)
                yield conn
        except BaseException as exc:
            if is_driver_error(exc):
                raise translate(exc, operation, self.where) from None
            raise

    async def ping(self) -> None:
        """Connect, migrate and answer once: the worker's start-up check."""
        async with self._conn("ping") as conn:
            await conn.fetchval("SELECT 1")

    async def _vectors(self, texts: list[str]) -> list[list[float]] | None:
        if self.embedder is None:
            return None
        return await self.embedder.embed(texts)

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
        ids = scope.ids()
        key = tuple(ids.get(f, "") for f in ("user_id", "agent_id", "app_id", "run_id"))
        if idempotency_key is not None and self.embedder is not None:  # a redelivery costs no embeddings call
            async with self._conn("add") as conn:
                found = await conn.fetchval(FIND, *key, idempotency_key)
            if found is not None:
                return AddResult(id=found, event_id=None, created=False)
        vectors = await self._vectors([text])
        created, now = _utc(timestamp or datetime.now(UTC)), datetime.now(UTC)
        # a keyed memory's id is planned (`memory.batch`): every member names it alike before it is written
        memory_id = planned_id(scope, idempotency_key) if idempotency_key is not None else str(uuid.uuid4())
        event_id = str(uuid.uuid4())
        args = (memory_id, ids.get("user_id"), ids.get("agent_id"), ids.get("app_id"), ids.get("run_id"), text,
                len(ranking.words(text)), meta, categories or [], idempotency_key, created, now, event_id)
        # one statement commits on its own; a vector makes it two, in one transaction
        async with self._conn("add") as conn, conn.transaction() if vectors else contextlib.nullcontext():
            seq = await conn.fetchval(ADD, *args)
            if seq is None:  # another member stored this key first; ON CONFLICT waited for it to commit
                found = await conn.fetchval(FIND, *key, idempotency_key)
                if found is None:
                    raise TransientError("the memory holding this idempotency key was deleted meanwhile")
                return AddResult(id=found, event_id=None, created=False)
            if vectors and self.embedder is not None:  # vectors come from the embedder
                await conn.execute("INSERT INTO embeddings (seq, model, vector) VALUES ($1, $2, $3)",
                                   seq, self.embedder.model, vectors[0])
        return AddResult(id=memory_id, event_id=event_id, created=True)

    async def add_many(self, items: list[tuple[str, EntityScope, dict[str, JsonValue], datetime]]) -> int:
        """Bulk import with COPY (text, scope, metadata, timestamp): no idempotency check, no embeddings, one
        history row each. For migrations and benchmarks; the worker uses `add`."""
        now = datetime.now(UTC)
        rows: list[tuple[object, ...]] = []
        history: list[tuple[str, str, str, datetime]] = []
        for text, scope, meta, moment in items:
            ids, memory_id, created = scope.ids(), str(uuid.uuid4()), _utc(moment)
            rows.append((memory_id, ids.get("user_id"), ids.get("agent_id"), ids.get("app_id"), ids.get("run_id"),
                         text, len(ranking.words(text)), meta, [], created, created))
            history.append((memory_id, "ADD", text, now))
        async with self._conn("add_many") as conn, conn.transaction():
            await conn.copy_records_to_table("memories", records=rows, columns=[
                "id", "user_id", "agent_id", "app_id", "run_id", "memory", "words", "metadata", "categories",
                "created_at", "updated_at"])
            await conn.copy_records_to_table("history", records=history,
                                             columns=["memory_id", "event", "new_memory", "created_at"])
        return len(items)

    async def search(
        self, query: str, *, filters: Node | dict[str, Any], top_k: int = 10, threshold: float = 0.0
    ) -> list[ScoredMemory]:
        """Fused BM25 + entity + recency (+ semantic) score in [0, 1]; see `memory.ranking`."""
        node = as_node(filters)
        terms = ranking.query_terms(query)
        entities = ranking.query_entities(query)
        qvec = (await self.embedder.embed([query]))[0] if self.embedder is not None and query.strip() else None
        params = Params()
        where = compile_filter(node, params)
        recent = params.add(_SEMANTIC_CANDIDATES if qvec is not None else top_k)
        sql = (f"(SELECT {COLUMNS}, false AS matched FROM memories m WHERE {where} "
               f"ORDER BY m.created_at DESC LIMIT {recent})")
        if terms:
            match = ANY_TERM.format(param=params.add(terms))
            # the scope first (OFFSET 0 keeps the planner from merging it into one scan with the tsvector
            # match): an account's rows come from its index and are matched one by one, where a GIN bitmap of
            # a common term would cover a large part of the table
            sql += (f" UNION ALL (SELECT {COLUMNS}, true FROM (SELECT * FROM memories m WHERE {where} OFFSET 0) m"
                    f" WHERE m.tsv @@ {match} LIMIT {_FTS_CANDIDATES})")
        async with self._conn("search") as conn:
            rows: dict[int, asyncpg.Record] = {}
            matched: set[int] = set()
            for row in await conn.fetch(sql, *params.values):
                rows[row["seq"]] = row
                if row["matched"]:
                    matched.add(row["seq"])
            idfs, avg_len = await self._statistics(conn, terms) if matched else ({}, 1.0)
            vectors: dict[int, list[float]] = {}
            if qvec is not None and rows:
                for v in await conn.fetch("SELECT seq, vector FROM embeddings WHERE seq = ANY($1::bigint[])",
                                          list(rows)):
                    vectors[v["seq"]] = list(v["vector"])
        now = datetime.now(UTC)
        scored: list[tuple[float, datetime, int, dict[str, float]]] = []
        for seq, row in rows.items():
            signals = {"recency": ranking.recency_score(row["created_at"], now)}
            if seq in matched:
                signals["bm25"], signals["entity"] = ranking.text_match(terms, entities, row["memory"], idfs, avg_len)
            if qvec is not None:
                signals["semantic"] = ranking.cosine(qvec, vectors[seq]) if seq in vectors else 0.0
            score = ranking.fuse(signals, semantic=qvec is not None)
            if score >= threshold:
                scored.append((score, row["created_at"], seq, signals))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [ScoredMemory(**_fields(rows[seq]), score=score, score_breakdown=signals)
                for score, _, seq, signals in scored[:top_k]]

    async def _statistics(self, conn: asyncpg.Connection, terms: list[str]) -> tuple[dict[str, float], float]:
        """IDF per term and the average memory length, over the whole table (see _STATS_TTL_SECONDS)."""
        clock = time.monotonic()
        ttl = _STATS_TTL_SMALL_SECONDS if self._corpus is None or self._corpus[1] < _STATS_SMALL \
            else _STATS_TTL_SECONDS
        if self._corpus is None or clock - self._corpus[0] > ttl:
            self._corpus = (clock, *await _corpus_size(conn))
        _, docs, avg_len = self._corpus
        stale = [t for t in terms if t not in self._df or clock - self._df[t][0] > ttl]
        if stale and docs >= _STATS_SMALL:
            for term, freq in await conn.fetch(TERM_FREQUENCIES, stale):
                if freq is not None:
                    self._df[term] = (clock, round(freq * docs))
            stale = [t for t in stale if self._df.get(t, (0.0, 0))[0] != clock]
        if stale:
            for term, df in await conn.fetch(DOCUMENT_FREQUENCIES, stale):
                self._df[term] = (clock, int(df))
        if len(self._df) > 100_000:
            self._df = {t: self._df[t] for t in terms}
        dfs = {t: self._df[t][1] for t in terms}
        docs = max(docs, *dfs.values()) if dfs else docs
        return {t: ranking.idf(docs, df) for t, df in dfs.items()}, avg_len

    async def get(self, memory_id: str) -> Memory | None:
        async with self._conn("get") as conn:
            row = await conn.fetchrow(f"SELECT {COLUMNS} FROM memories m WHERE m.id = $1", memory_id)
        return None if row is None else Memory(**_fields(row))

    async def list(self, *, filters: Node | dict[str, Any], page: int = 1, page_size: int = 100) -> Page:
        if page < 1 or not 1 <= page_size <= 200:
            raise InvalidRequest("page starts at 1 and page_size is 1 to 200")
        params = Params()
        where = compile_filter(as_node(filters), params)
        count_only = f"SELECT count(*) FROM memories m WHERE {where}"
        limit, offset = params.add(page_size), params.add((page - 1) * page_size)
        query = (f"SELECT {COLUMNS}, count(*) OVER () AS total FROM memories m WHERE {where} "
                 f"ORDER BY m.created_at, m.seq LIMIT {limit} OFFSET {offset}")
        async with self._conn("list") as conn:
            rows = await conn.fetch(query, *params.values)  # the count rides along: one round trip
            if rows:
                count = rows[0]["total"]
            else:
                count = 0 if page == 1 else await conn.fetchval(count_only, *params.values[:-2])
        return Page(results=[Memory(**_fields(r)) for r in rows], count=count, has_next=page * page_size < count)

    async def update(
        self, memory_id: str, *, text: str | None = None, metadata: dict[str, JsonValue] | None = None
    ) -> Memory:
        """Replace the text and/or merge `metadata` into the existing metadata, under the row's lock (two
        members updating one profile never lose a key); recorded in history."""
        vectors = await self._vectors([text]) if text is not None else None
        words = len(ranking.words(text)) if text is not None else None
        async with self._conn("update") as conn, conn.transaction() if vectors else contextlib.nullcontext():
            row = await conn.fetchrow(UPDATE, memory_id, text, words, metadata or {}, datetime.now(UTC))
            if row is None:
                raise NotFound(f"no memory with id {memory_id}")
            if vectors and self.embedder is not None:
                await conn.execute("INSERT INTO embeddings (seq, model, vector) VALUES ($1, $2, $3) ON "
                                   "CONFLICT (seq) DO UPDATE SET model = excluded.model, vector = excluded.vector",
                                   row["seq"], self.embedder.model, vectors[0])
        return Memory(**_fields(row))

    async def delete(self, memory_id: str) -> bool:
        async with self._conn("delete") as conn, conn.transaction():
            return bool(await self._delete(conn, "m.id = $1", [memory_id]))

    async def _delete(self, conn: asyncpg.Connection, where: str, args: builtins.list[object]) -> builtins.list[str]:
        """Delete the matching memories (their vectors cascade) and strip every history row of their text."""
        ids = [r["id"] for r in await conn.fetch(f"DELETE FROM memories m WHERE {where} RETURNING m.id", *args)]
        if ids:
            await conn.execute(SCRUB, ids)
            await conn.execute(DELETED, ids, datetime.now(UTC))
        return ids

    async def delete_by_scope(self, scope: EntityScope) -> str:
        """Synchronous here (the event is SUCCEEDED at once); then VACUUM, so that no dead row version keeps
        the deleted text in the tables (best effort: the delete itself is committed either way)."""
        params = Params()
        where = compile_filter(scope.as_filter(), params)
        event_id = str(uuid.uuid4())
        async with self._conn("delete_by_scope") as conn:
            async with conn.transaction():
                gone = await self._delete(conn, where, params.values)
                await conn.execute(
                    "INSERT INTO events (id, event_type, status, results, created_at) VALUES "
                    "($1, 'DELETE', 'SUCCEEDED', $2, $3)", event_id, [{"deleted": len(gone)}], datetime.now(UTC))
            if gone:
                try:
                    await conn.execute("VACUUM memories, embeddings, history")
                except (asyncpg.PostgresError, TimeoutError) as exc:
                    log.warning("VACUUM after a delete by scope did not finish: %s", type(exc).__name__)
        return event_id

    async def history(self, memory_id: str) -> builtins.list[HistoryEntry]:
        async with self._conn("history") as conn:
            rows = await conn.fetch("SELECT * FROM history WHERE memory_id = $1 ORDER BY id", memory_id)
        return [HistoryEntry(memory_id=r["memory_id"], event=r["event"], old_memory=r["old_memory"],
                             new_memory=r["new_memory"], created_at=r["created_at"]) for r in rows]

    async def event(self, event_id: str) -> MemoryEvent:
        async with self._conn("event") as conn:
            row = await conn.fetchrow("SELECT * FROM events WHERE id = $1", event_id)
        if row is None:
            raise NotFound(f"no memory event with id {event_id}")
        return MemoryEvent(id=row["id"], status=row["status"], event_type=row["event_type"],
                           results=row["results"], error=row["error"])

    async def export(self, schema: dict[str, JsonValue], *, filters: Node | dict[str, Any]) -> dict[str, JsonValue]:
        node = as_node(filters)
        memories = await list_all(self, filters=node, page_size=200)
        entity_ids = {f: str(v) for f, v in (scoped_entities(node) or set())}
        return project(schema, memories, entity_ids)

    async def count(self) -> int:
        async with self._conn("count") as conn:
            return int(await conn.fetchval("SELECT count(*) FROM memories"))

    async def close(self) -> None:
        if self.embedder is not None:
            await self.embedder.close()
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=10.0)
            except (TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                pool.terminate()


async def _corpus_size(conn: asyncpg.Connection) -> tuple[int, float]:
    """(memories, average words per memory): exact below _STATS_SMALL, estimated above (see postgres_sql)."""
    estimate = await conn.fetchval(CORPUS_ESTIMATE)
    if estimate is not None and estimate >= _STATS_SMALL:
        sampled = await conn.fetchval(CORPUS_SAMPLED)
        if sampled is not None:
            return int(estimate), float(sampled)
    docs, words = await conn.fetchrow(CORPUS_EXACT)
    return int(docs), words / docs if docs else 1.0


def _fields(row: asyncpg.Record) -> MemoryFields:
    return {
        "id": row["id"], "memory": row["memory"],
        "user_id": row["user_id"], "agent_id": row["agent_id"], "app_id": row["app_id"], "run_id": row["run_id"],
        "metadata": row["metadata"], "categories": list(row["categories"]),
        "created_at": row["created_at"], "updated_at": row["updated_at"],
    }
