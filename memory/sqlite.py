"""The embedded store: one SQLite file (WAL) with FTS5, safe for several worker processes on one machine.

sqlite3 blocks, so every call runs on a worker thread behind one lock; writes use BEGIN IMMEDIATE and a busy
timeout so that processes queue instead of failing, and a database still locked after that is a
`TransientError` (retry later), never a lost event. Deletes really delete: the FTS rows and embeddings go with the
memory, history keeps only that an ADD/UPDATE/DELETE happened (no text), and freed pages are zeroed.
"""

from __future__ import annotations

import asyncio
import builtins
import sqlite3
import struct
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import JsonValue

from ticket_enricher.core.errors import InvalidRequest, MemoryConfigError, NotFound, TransientError
from ticket_enricher.memory import ranking, sqlite_batch
from ticket_enricher.memory.batch import Change, NewMemory, Written, planned_id
from ticket_enricher.memory.embeddings import Embedder
from ticket_enricher.memory.export import project
from ticket_enricher.memory.filters import Node, as_node, scoped_entities
from ticket_enricher.memory.sqlite_sql import (
    MIGRATIONS,
    SCHEMA,
    SCHEMA_VERSION,
    compile_filter,
    delete_ids,
    find_idempotent,
    fts_totals,
    record_event,
    row_fields,
)
from ticket_enricher.memory.sqlite_sql import timestamp as _ts
from ticket_enricher.memory.store import (
    AddResult,
    EntityScope,
    HistoryEntry,
    Memory,
    MemoryEvent,
    Page,
    ScoredMemory,
    list_all,
)


def _dumps(value: object) -> str:
    """JSON text of a stored value (orjson: the hot path writes one or two per memory)."""
    return orjson.dumps(value).decode()

T = TypeVar("T")
_CREATING_WAIT_SECONDS = 30.0
_FTS_CANDIDATES = 500
_READ_BUSY_SECONDS = 1.0
_SEMANTIC_CANDIDATES = 1000
_DF_TTL_SECONDS = 600.0
_DF_CACHE_SIZE = 100_000


def run_locked(db: sqlite3.Connection, lock: threading.Lock, fn: Callable[[sqlite3.Connection], T], what: str) -> T:
    """`fn(db)` under `lock` (one writer per connection): what it left open is rolled back when it raises, and a
    file locked or busy past the busy timeout (another process writing) is a `TransientError`."""
    with lock:
        try:
            return fn(db)
        except BaseException as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
                raise TransientError(f"{what} busy: {exc}") from exc
            raise


class SqliteMemoryStore:
    """`MemoryStore` over a local SQLite file; see `memory.store` for the semantics."""

    def __init__(self, path: Path | str, *, embedder: Embedder | None = None, busy_timeout_ms: int = 10_000) -> None:
        self.path = Path(path)
        self.embedder = embedder
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=busy_timeout_ms / 1000
        )
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._df: dict[str, tuple[float, int]] = {}  # term -> (computed at, document frequency)
        # A checkpoint per 10,000 WAL pages (~40 MB) instead of 1,000, and an 8 MiB page cache: the random planned
        # ids spread a batch's rows over the whole id index, and a page changed by several batches between two
        # checkpoints is copied back once (batch writes at 100,000 memories: 74 -> 55 us per memory).
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"busy_timeout={busy_timeout_ms}",
                       "secure_delete=ON", "foreign_keys=ON", "cache_size=-8192", "wal_autocheckpoint=10000"):
            self._db.execute(f"PRAGMA {pragma}")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = self._db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'memories'").fetchone()[0]
        waited = 0.0
        while tables and version == 0 and waited < _CREATING_WAIT_SECONDS:
            # another process (a member, a replay process) is creating this new file: its tables are there,
            # its version is written right after them
            time.sleep(0.05)
            waited += 0.05
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if tables and version != SCHEMA_VERSION:
            if version not in MIGRATIONS:
                raise MemoryConfigError(f"{path} holds memory schema v{version}; this version needs "
                                        f"v{SCHEMA_VERSION}. Export what you need and start from a new file.")
            for step in sorted(v for v in MIGRATIONS if v >= version):
                self._db.executescript(MIGRATIONS[step])
        self._db.executescript(SCHEMA)
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._reader = self._db if str(path) == ":memory:" else self._read_connection(path)

    @staticmethod
    def _read_connection(path: Path | str) -> sqlite3.Connection:
        """A second connection for reads, used on the event loop's thread: in WAL mode a reader never waits for a
        writer (here or in another process), so a read is a few hundred microseconds of CPU, cheaper inline
        than the two thread hops of `to_thread` (bench/throughput.py). The short busy timeout bounds the rare
        wait (WAL recovery) that could hold up the loop."""
        db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=_READ_BUSY_SECONDS)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA query_only=ON")
        return db

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only `fn` inline (see `_read_connection`); writes go through `_run`."""
        if self._reader is self._db:
            return await self._run(fn)
        try:
            return fn(self._reader)
        except sqlite3.OperationalError as exc:
            if self._reader.in_transaction:
                self._reader.execute("ROLLBACK")
            if "locked" in str(exc) or "busy" in str(exc):
                raise TransientError(f"memory database busy: {exc}") from exc
            raise

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(run_locked, self._db, self._lock, fn, "memory database")

    async def _vectors(self, texts: list[str]) -> list[bytes] | None:
        if self.embedder is None:
            return None
        return [struct.pack(f"{len(v)}f", *v) for v in await self.embedder.embed(texts)]

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
        # checked before embedding, so a redelivered event costs no embeddings call; checked again under the lock
        existing = await self._existing(ids, idempotency_key) if idempotency_key else None
        if existing is not None:
            return AddResult(id=existing, event_id=None, created=False)
        vectors = await self._vectors([text])
        created = _ts(timestamp or datetime.now(UTC))
        tokens = " ".join(ranking.scope_token(k, v) for k, v in ids.items())

        def add(db: sqlite3.Connection) -> AddResult:
            db.execute("BEGIN IMMEDIATE")
            if idempotency_key is not None:
                found = find_idempotent(db, ids, idempotency_key)
                if found is not None:
                    db.execute("COMMIT")
                    return AddResult(id=found, event_id=None, created=False)
            memory_id = planned_id(scope, idempotency_key) if idempotency_key is not None else str(uuid.uuid4())
            event_id, now = str(uuid.uuid4()), _ts(datetime.now(UTC))
            cur = db.execute(
                "INSERT INTO memories (id, user_id, agent_id, app_id, run_id, memory, scope, metadata, categories,"
                " idempotency_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (memory_id, ids.get("user_id"), ids.get("agent_id"), ids.get("app_id"), ids.get("run_id"), text,
                 tokens, _dumps(meta), _dumps(categories or []), idempotency_key, created, created),
            )
            if vectors and self.embedder is not None:  # vectors come from the embedder
                db.execute("INSERT INTO embeddings (rowid, model, vector) VALUES (?, ?, ?)",
                           (cur.lastrowid, self.embedder.model, vectors[0]))
            db.execute("INSERT INTO history (memory_id, event, new_memory, created_at) VALUES (?, 'ADD', ?, ?)",
                       (memory_id, text, now))
            record_event(db, event_id, "ADD", [{"id": memory_id, "event": "ADD"}], now)
            db.execute("COMMIT")
            return AddResult(id=memory_id, event_id=event_id, created=True)

        return await self._run(add)

    async def write_batch(self, new: list[NewMemory], changes: list[Change]) -> Written:
        """Every add and change of a batch in one transaction (`memory.sqlite_batch`). No embeddings: the batch
        path is the offline planner's."""
        return await self._run(lambda db: sqlite_batch.write(db, new, changes))

    async def add_many(self, items: list[tuple[str, EntityScope, dict[str, JsonValue], datetime]]) -> int:
        """Bulk import in one transaction (text, scope, metadata, timestamp): no idempotency check, no
        embeddings, one history row each. For migrations and benchmarks; the worker uses `add`."""
        return await self._run(lambda db: sqlite_batch.add_many(db, items))

    async def _existing(self, ids: dict[str, str], key: str) -> str | None:
        return await self._read(lambda db: find_idempotent(db, ids, key))

    async def search(
        self, query: str, *, filters: Node | dict[str, Any], top_k: int = 10, threshold: float = 0.0
    ) -> list[ScoredMemory]:
        """Fused BM25 + entity + recency (+ semantic) score in [0, 1]; see `memory.ranking`."""
        node = as_node(filters)
        where, args = compile_filter(node)
        terms = ranking.query_terms(query)
        entities = ranking.query_entities(query)
        scoped = scoped_entities(node)
        tokens = sorted(ranking.scope_token(f, v) for f, v in scoped) if scoped else None
        qvec = (await self.embedder.embed([query]))[0] if self.embedder is not None and query.strip() else None
        recent_limit = _SEMANTIC_CANDIDATES if qvec is not None else top_k

        def search(db: sqlite3.Connection) -> list[ScoredMemory]:
            rows: dict[int, sqlite3.Row] = {}
            matched: set[int] = set()
            for row in db.execute(f"SELECT m.* FROM memories m WHERE {where} ORDER BY m.created_at DESC LIMIT ?",
                                  (*args, recent_limit)):
                rows[row["rowid"]] = row
            if terms:
                match = ranking.fts_match(terms, tokens)
                for row in db.execute(
                    f"SELECT m.* FROM memories m WHERE m.rowid IN (SELECT rowid FROM memories_fts WHERE"
                    f" memories_fts MATCH ? LIMIT {_FTS_CANDIDATES}) AND {where}", (match, *args),
                ):
                    rows[row["rowid"]] = row
                    matched.add(row["rowid"])
            docs, total_words = fts_totals(db)
            idfs = {t: ranking.idf(docs, self._document_frequency(db, t)) for t in terms} if matched else {}
            avg_len = total_words / docs if docs else 1.0
            vectors: dict[int, list[float]] = {}
            if qvec is not None and rows:
                marks = ", ".join("?" * len(rows))
                for row in db.execute(f"SELECT rowid, vector FROM embeddings WHERE rowid IN ({marks})", list(rows)):
                    blob = row["vector"]
                    vectors[row["rowid"]] = list(struct.unpack(f"{len(blob) // 4}f", blob))
            now = datetime.now(UTC)
            scored: list[tuple[float, str, int, dict[str, float]]] = []
            for rowid, row in rows.items():
                signals = {"recency": ranking.recency_score(datetime.fromisoformat(row["created_at"]), now)}
                if rowid in matched:
                    signals["bm25"], signals["entity"] = ranking.text_match(terms, entities, row["memory"], idfs,
                                                                            avg_len)
                if qvec is not None:
                    signals["semantic"] = ranking.cosine(qvec, vectors[rowid]) if rowid in vectors else 0.0
                score = ranking.fuse(signals, semantic=qvec is not None)
                if score >= threshold:
                    scored.append((score, row["created_at"], rowid, signals))
            scored.sort(key=lambda s: (-s[0], s[1]))
            return [
                ScoredMemory(**row_fields(rows[rowid]), score=score, score_breakdown=signals)
                for score, _, rowid, signals in scored[:top_k]
            ]

        return await self._read(search)

    def _document_frequency(self, db: sqlite3.Connection, term: str) -> int:
        """How many memories hold `term`, cached for a while: counting a common term means reading its whole
        posting list, which is what makes FTS5's own bm25() slow on a large index."""
        now = time.monotonic()
        cached = self._df.get(term)
        if cached is not None and now - cached[0] < _DF_TTL_SECONDS:
            return cached[1]
        df: int = db.execute("SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?",
                        (ranking.fts_match([term], None),)).fetchone()[0]
        if len(self._df) > _DF_CACHE_SIZE:
            self._df.clear()
        self._df[term] = (now, df)
        return df

    async def get(self, memory_id: str) -> Memory | None:
        def get(db: sqlite3.Connection) -> Memory | None:
            row = db.execute("SELECT * FROM memories m WHERE id = ?", (memory_id,)).fetchone()
            return None if row is None else Memory(**row_fields(row))

        return await self._read(get)

    async def list(self, *, filters: Node | dict[str, Any], page: int = 1, page_size: int = 100) -> Page:
        if page < 1 or not 1 <= page_size <= 200:
            raise InvalidRequest("page starts at 1 and page_size is 1 to 200")
        where, args = compile_filter(as_node(filters))

        def list_(db: sqlite3.Connection) -> Page:
            count = db.execute(f"SELECT count(*) FROM memories m WHERE {where}", args).fetchone()[0]
            rows = db.execute(f"SELECT m.* FROM memories m WHERE {where} ORDER BY m.created_at, m.rowid"
                              " LIMIT ? OFFSET ?", (*args, page_size, (page - 1) * page_size)).fetchall()
            return Page(results=[Memory(**row_fields(r)) for r in rows], count=count,
                        has_next=page * page_size < count)

        return await self._read(list_)

    async def update(
        self, memory_id: str, *, text: str | None = None, metadata: dict[str, JsonValue] | None = None
    ) -> Memory:
        """Replace the text and/or merge `metadata` into the existing metadata; recorded in history."""
        vectors = await self._vectors([text]) if text is not None else None

        def update(db: sqlite3.Connection) -> Memory:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT * FROM memories WHERE id = ?", (memory_id,)).fetchone()
            if row is None:
                raise NotFound(f"no memory with id {memory_id}")
            new_meta = {**orjson.loads(row["metadata"]), **(metadata or {})}
            new_text = row["memory"] if text is None else text
            now = _ts(datetime.now(UTC))
            db.execute("UPDATE memories SET memory = ?, metadata = ?, updated_at = ? WHERE id = ?",
                       (new_text, _dumps(new_meta), now, memory_id))
            if vectors and self.embedder is not None:
                db.execute("INSERT OR REPLACE INTO embeddings (rowid, model, vector) VALUES (?, ?, ?)",
                           (row["rowid"], self.embedder.model, vectors[0]))
            db.execute("INSERT INTO history (memory_id, event, old_memory, new_memory, created_at)"
                       " VALUES (?, 'UPDATE', ?, ?, ?)", (memory_id, row["memory"], new_text, now))
            db.execute("COMMIT")
            return Memory(**row_fields(db.execute("SELECT * FROM memories WHERE id = ?", (memory_id,)).fetchone()))

        return await self._run(update)

    async def delete(self, memory_id: str) -> bool:
        def delete(db: sqlite3.Connection) -> bool:
            db.execute("BEGIN IMMEDIATE")
            gone = delete_ids(db, [memory_id])
            db.execute("COMMIT")
            return gone == 1

        return await self._run(delete)

    async def delete_by_scope(self, scope: EntityScope) -> str:
        """Synchronous here (the event is SUCCEEDED at once); the WAL is checkpointed so no copy lingers."""
        where, args = compile_filter(scope.as_filter())

        def delete_all(db: sqlite3.Connection) -> str:
            db.execute("BEGIN IMMEDIATE")
            ids = [r[0] for r in db.execute(f"SELECT m.id FROM memories m WHERE {where}", args)]
            gone = delete_ids(db, ids)
            event_id = str(uuid.uuid4())
            record_event(db, event_id, "DELETE", [{"deleted": gone}], _ts(datetime.now(UTC)))
            db.execute("COMMIT")
            db.execute("INSERT INTO memories_fts (memories_fts) VALUES ('optimize')")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return event_id

        return await self._run(delete_all)

    async def history(self, memory_id: str) -> builtins.list[HistoryEntry]:
        def history(db: sqlite3.Connection) -> list[HistoryEntry]:
            rows = db.execute("SELECT * FROM history WHERE memory_id = ? ORDER BY id", (memory_id,))
            return [HistoryEntry(memory_id=r["memory_id"], event=r["event"], old_memory=r["old_memory"],
                                 new_memory=r["new_memory"], created_at=datetime.fromisoformat(r["created_at"]))
                    for r in rows]

        return await self._read(history)

    async def event(self, event_id: str) -> MemoryEvent:
        def event(db: sqlite3.Connection) -> MemoryEvent:
            row = db.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
            if row is None:
                raise NotFound(f"no memory event with id {event_id}")
            return MemoryEvent(id=row["id"], status=row["status"], event_type=row["event_type"],
                               results=orjson.loads(row["results"]), error=row["error"])

        return await self._read(event)

    async def export(self, schema: dict[str, JsonValue], *, filters: Node | dict[str, Any]) -> dict[str, JsonValue]:
        node = as_node(filters)
        memories = await list_all(self, filters=node, page_size=200)
        entity_ids = {f: str(v) for f, v in (scoped_entities(node) or set())}
        return project(schema, memories, entity_ids)

    async def count(self) -> int:
        return await self._read(lambda db: db.execute("SELECT count(*) FROM memories").fetchone()[0])

    async def close(self) -> None:
        if self.embedder is not None:
            await self.embedder.close()
        if self._reader is not self._db:
            self._reader.close()
        await self._run(lambda db: db.close())
