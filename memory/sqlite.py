"""The embedded store: one SQLite file (WAL) with FTS5, safe for several worker processes on one machine.

sqlite3 blocks, so every call runs on a worker thread behind one lock; writes use BEGIN IMMEDIATE and a busy
timeout so that processes queue instead of failing, and a database still locked after that is a
`TransientError` (retry later), never a lost event.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pydantic import JsonValue

from core.errors import TransientError
from memory.store import AGENT_ID, AddResult, Memory, MetadataScalar, ScoredMemory

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS memories (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT,
    agent_id TEXT,
    memory TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    categories TEXT NOT NULL DEFAULT '[]',
    idempotency_key TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS memories_idempotency
    ON memories (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS memories_user_created ON memories (user_id, created_at);
CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5(
    memory, content='memories', content_rowid='rowid', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS memories_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts (rowid, memory) VALUES (new.rowid, new.memory);
END;
CREATE TRIGGER IF NOT EXISTS memories_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, memory) VALUES ('delete', old.rowid, old.memory);
END;
CREATE TRIGGER IF NOT EXISTS memories_au AFTER UPDATE OF memory ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, memory) VALUES ('delete', old.rowid, old.memory);
    INSERT INTO memories_fts (rowid, memory) VALUES (new.rowid, new.memory);
END;
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    memory_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
    old_memory TEXT,
    new_memory TEXT,
    old_metadata TEXT,
    new_metadata TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_memory ON history (memory_id, id);
"""

_METADATA_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_TOKEN = re.compile(r"\w+", re.UNICODE)
_CANDIDATES = 1000
_RECENCY_HALF_LIFE_DAYS = 30.0
_BM25_WEIGHT = 0.7


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _fts_query(text: str) -> str | None:
    """Every word as a quoted FTS5 string, OR-ed: ticket text can never inject FTS5 syntax."""
    tokens = list(dict.fromkeys(t.lower() for t in _TOKEN.findall(text) if len(t) > 1))[:64]
    return " OR ".join(f'"{t}"' for t in tokens) or None


def _metadata_clause(metadata_eq: dict[str, MetadataScalar] | None) -> tuple[str, list[object]]:
    if not metadata_eq:
        return "", []
    parts, args = [], []
    for key, value in metadata_eq.items():
        if not _METADATA_KEY.match(key):
            raise ValueError(f"metadata key {key!r} is not a plain identifier")
        parts.append(f"json_extract(m.metadata, '$.{key}') = ?")
        args.append(int(value) if isinstance(value, bool) else value)
    return " AND " + " AND ".join(parts), args


class SqliteMemoryStore:
    """`MemoryStore` over a local SQLite file; see `memory.store` for the semantics."""

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 10_000) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=busy_timeout_ms / 1000
        )
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        self._db.executescript(_SCHEMA)

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                try:
                    return fn(self._db)
                except sqlite3.OperationalError as exc:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    if "locked" in str(exc) or "busy" in str(exc):
                        raise TransientError(f"memory database busy: {exc}") from exc
                    raise

        return await asyncio.to_thread(locked)

    async def add(
        self,
        text: str,
        *,
        user_id: str,
        metadata: dict[str, JsonValue] | None = None,
        categories: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> AddResult:
        meta = dict(metadata or {})
        if idempotency_key is not None:
            meta["idempotency_key"] = idempotency_key

        def add(db: sqlite3.Connection) -> AddResult:
            db.execute("BEGIN IMMEDIATE")
            if idempotency_key is not None:
                row = db.execute(
                    "SELECT id FROM memories WHERE user_id = ? AND idempotency_key = ?",
                    (user_id, idempotency_key),
                ).fetchone()
                if row is not None:
                    db.execute("COMMIT")
                    return AddResult(id=row["id"], created=False)
            memory_id, now = str(uuid.uuid4()), _now()
            db.execute(
                "INSERT INTO memories (id, user_id, agent_id, memory, metadata, categories, idempotency_key,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (memory_id, user_id, AGENT_ID, text, json.dumps(meta), json.dumps(categories or []),
                 idempotency_key, now, now),
            )
            db.execute(
                "INSERT INTO history (memory_id, event, new_memory, new_metadata, created_at)"
                " VALUES (?, 'ADD', ?, ?, ?)",
                (memory_id, text, json.dumps(meta), now),
            )
            db.execute("COMMIT")
            return AddResult(id=memory_id, created=True)

        return await self._run(add)

    async def search(
        self,
        query: str,
        *,
        user_id: str,
        top_k: int = 10,
        threshold: float = 0.0,
        metadata_eq: dict[str, MetadataScalar] | None = None,
    ) -> list[ScoredMemory]:
        """BM25 relevance fused with recency into one score in [0, 1]; entity scope is mandatory."""
        where, args = _metadata_clause(metadata_eq)
        match = _fts_query(query)

        def search(db: sqlite3.Connection) -> list[ScoredMemory]:
            ranks: dict[int, float] = {}
            if match is not None:
                for row in db.execute(
                    "SELECT f.rowid, bm25(memories_fts) AS rank FROM memories_fts f"
                    " JOIN memories m ON m.rowid = f.rowid"
                    " WHERE memories_fts MATCH ? AND m.user_id = ?",
                    (match, user_id),
                ):
                    ranks[row["rowid"]] = -row["rank"]
            rows = db.execute(
                f"SELECT m.* FROM memories m WHERE m.user_id = ?{where}"
                " ORDER BY m.created_at DESC LIMIT ?",
                (user_id, *args, _CANDIDATES),
            ).fetchall()
            now = datetime.now(UTC)
            scored = []
            for row in rows:
                relevance = ranks.get(row["rowid"], 0.0)
                relevance = relevance / (1.0 + relevance)
                age_days = max((now - datetime.fromisoformat(row["created_at"])).total_seconds(), 0) / 86400
                recency = math.exp(-math.log(2) * age_days / _RECENCY_HALF_LIFE_DAYS)
                score = _BM25_WEIGHT * relevance + (1 - _BM25_WEIGHT) * recency
                if score >= threshold:
                    scored.append(ScoredMemory(**_memory_fields(row), score=min(max(score, 0.0), 1.0)))
            scored.sort(key=lambda m: (-m.score, m.created_at))
            return scored[:top_k]

        return await self._run(search)

    async def get(self, memory_id: str) -> Memory | None:
        def get(db: sqlite3.Connection) -> Memory | None:
            row = db.execute("SELECT * FROM memories WHERE id = ?", (memory_id,)).fetchone()
            return None if row is None else Memory(**_memory_fields(row))

        return await self._run(get)

    async def list(
        self,
        *,
        user_id: str,
        metadata_eq: dict[str, MetadataScalar] | None = None,
        page: int = 1,
        page_size: int = 100,
    ) -> list[Memory]:
        where, args = _metadata_clause(metadata_eq)

        def list_(db: sqlite3.Connection) -> list[Memory]:
            rows = db.execute(
                f"SELECT m.* FROM memories m WHERE m.user_id = ?{where}"
                " ORDER BY m.created_at, m.rowid LIMIT ? OFFSET ?",
                (user_id, *args, page_size, (page - 1) * page_size),
            ).fetchall()
            return [Memory(**_memory_fields(row)) for row in rows]

        return await self._run(list_)

    async def update(
        self, memory_id: str, *, text: str | None = None, metadata: dict[str, JsonValue] | None = None
    ) -> Memory:
        """Replace the text and/or merge `metadata` into the existing metadata; recorded in history."""

        def update(db: sqlite3.Connection) -> Memory:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT * FROM memories WHERE id = ?", (memory_id,)).fetchone()
            if row is None:
                db.execute("ROLLBACK")
                raise KeyError(f"no memory with id {memory_id}")
            old_meta = json.loads(row["metadata"])
            new_meta = {**old_meta, **(metadata or {})}
            new_text = row["memory"] if text is None else text
            now = _now()
            db.execute(
                "UPDATE memories SET memory = ?, metadata = ?, updated_at = ? WHERE id = ?",
                (new_text, json.dumps(new_meta), now, memory_id),
            )
            db.execute(
                "INSERT INTO history (memory_id, event, old_memory, new_memory, old_metadata, new_metadata,"
                " created_at) VALUES (?, 'UPDATE', ?, ?, ?, ?, ?)",
                (memory_id, row["memory"], new_text, row["metadata"], json.dumps(new_meta), now),
            )
            db.execute("COMMIT")
            fresh = db.execute("SELECT * FROM memories WHERE id = ?", (memory_id,)).fetchone()
            return Memory(**_memory_fields(fresh))

        return await self._run(update)

    async def count(self, *, user_id: str | None = None) -> int:
        def count(db: sqlite3.Connection) -> int:
            if user_id is None:
                return db.execute("SELECT count(*) FROM memories").fetchone()[0]
            return db.execute("SELECT count(*) FROM memories WHERE user_id = ?", (user_id,)).fetchone()[0]

        return await self._run(count)

    async def user_ids(self) -> list[str]:
        def users(db: sqlite3.Connection) -> list[str]:
            rows = db.execute("SELECT DISTINCT user_id FROM memories WHERE user_id IS NOT NULL ORDER BY 1")
            return [row[0] for row in rows]

        return await self._run(users)

    async def close(self) -> None:
        def close(db: sqlite3.Connection) -> None:
            db.close()

        await self._run(close)


def _memory_fields(row: sqlite3.Row) -> dict[str, object]:
    return {
        "id": row["id"],
        "memory": row["memory"],
        "user_id": row["user_id"],
        "agent_id": row["agent_id"],
        "metadata": json.loads(row["metadata"]),
        "categories": json.loads(row["categories"]),
        "created_at": datetime.fromisoformat(row["created_at"]),
        "updated_at": datetime.fromisoformat(row["updated_at"]),
    }
