"""SQL for the embedded store: the schema, the filter tree compiled to a parameterised WHERE clause, and the few
statements several operations share (idempotent lookup, deletes that leave no text, rows as fields)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import orjson
from pydantic import JsonValue

from ticket_enricher.memory.filters import ENTITY_FIELDS, TIME_FIELDS, And, Cond, Node, Not, Or
from ticket_enricher.memory.store import MemoryFields


def _dumps(value: object) -> str:
    """JSON text of a stored value (orjson: the hot path writes one or two per memory)."""
    return orjson.dumps(value).decode()

SCHEMA_VERSION = 4
# Applied in order to a file of an older version (then SCHEMA, which creates what is missing). v4: document counts
# come from FTS5's own totals, so the triggers no longer call Python on every write; the entity indexes leave out
# the rows without that entity (most rows have one entity: a write updates one index, not four).
MIGRATIONS = {
    3: "DROP TRIGGER IF EXISTS memories_ai; DROP TRIGGER IF EXISTS memories_ad; DROP TRIGGER IF EXISTS memories_au;"
       " DROP TABLE IF EXISTS stats; DROP INDEX IF EXISTS memories_user; DROP INDEX IF EXISTS memories_agent;"
       " DROP INDEX IF EXISTS memories_app; DROP INDEX IF EXISTS memories_run;",
}
SCHEMA = """
CREATE TABLE IF NOT EXISTS memories (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT, agent_id TEXT, app_id TEXT, run_id TEXT,
    memory TEXT NOT NULL,
    scope TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    categories TEXT NOT NULL DEFAULT '[]',
    idempotency_key TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS embeddings (rowid INTEGER PRIMARY KEY, model TEXT NOT NULL, vector BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS memories_idempotency ON memories (
    coalesce(user_id, ''), coalesce(agent_id, ''), coalesce(app_id, ''), coalesce(run_id, ''), idempotency_key
) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS memories_user ON memories (user_id, created_at) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS memories_agent ON memories (agent_id, created_at) WHERE agent_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS memories_app ON memories (app_id, created_at) WHERE app_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS memories_run ON memories (run_id, created_at) WHERE run_id IS NOT NULL;
CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5(
    scope, memory, content='memories', content_rowid='rowid', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS memories_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts (rowid, scope, memory) VALUES (new.rowid, new.scope, new.memory);
END;
CREATE TRIGGER IF NOT EXISTS memories_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, scope, memory) VALUES ('delete', old.rowid, old.scope, old.memory);
    DELETE FROM embeddings WHERE rowid = old.rowid;
END;
CREATE TRIGGER IF NOT EXISTS memories_au AFTER UPDATE OF memory ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, scope, memory) VALUES ('delete', old.rowid, old.scope, old.memory);
    INSERT INTO memories_fts (rowid, scope, memory) VALUES (new.rowid, new.scope, new.memory);
END;
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    memory_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
    old_memory TEXT, new_memory TEXT, old_metadata TEXT, new_metadata TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_memory ON history (memory_id, id);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, event_type TEXT NOT NULL, status TEXT NOT NULL, results TEXT NOT NULL DEFAULT '[]',
    error TEXT, created_at TEXT NOT NULL
);
"""


def fts_totals(db: sqlite3.Connection) -> tuple[int, int]:
    """(memories, tokens of their text) from FTS5's averages record (row 1 of its data table: varints for the row
    count, then the token total of each column), which FTS5 keeps current itself: BM25's corpus statistics."""
    row = db.execute("SELECT block FROM memories_fts_data WHERE id = 1").fetchone()
    values, value = [], 0
    for byte in (row[0] if row is not None else b""):
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            values.append(value)
            value = 0
    return (values[0], values[2]) if len(values) >= 3 else (0, 0)


def timestamp(moment: datetime) -> str:
    """The one text form of times in the database: UTC, microseconds, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def compile_filter(node: Node) -> tuple[str, list[object]]:
    if isinstance(node, (And, Or)):
        parts = [compile_filter(n) for n in node.items]
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(p for p, _ in parts) + ")", [a for _, args in parts for a in args]
    if isinstance(node, Not):
        inner, args = compile_filter(And(node.items))
        return f"(NOT {inner})", args
    return _condition(node)


def _scalar(value: object) -> object:
    return int(value) if isinstance(value, bool) else value


def _condition(c: Cond) -> tuple[str, list[object]]:
    if c.field in ENTITY_FIELDS:
        col = f"m.{c.field}"
        if c.op == "any":
            return f"{col} IS NOT NULL", []
        if c.op == "eq":
            return f"{col} = ?", [c.value]
        if c.op == "ne":
            return f"({col} IS NULL OR {col} != ?)", [c.value]
        values: list[object] = list(c.operands())
        return f"{col} IN ({', '.join('?' * len(values))})", values
    if c.field in TIME_FIELDS:
        sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[c.op]
        return f"m.{c.field} {sign} ?", [timestamp(c.moment())]
    if c.field == "categories":
        if c.op == "in":
            values = list(c.operands())
            marks = ", ".join("?" * len(values))
            return f"EXISTS (SELECT 1 FROM json_each(m.categories) WHERE value IN ({marks}))", values
        return "EXISTS (SELECT 1 FROM json_each(m.categories) WHERE instr(value, ?) > 0)", [c.value]
    path = '$."' + str(c.key) + '"'
    value = _scalar(c.value)
    if c.op == "eq":
        return "json_extract(m.metadata, ?) = ?", [path, value]
    if c.op == "ne":
        return "(json_extract(m.metadata, ?) IS NULL OR json_extract(m.metadata, ?) != ?)", [path, path, value]
    return (
        "(CASE json_type(m.metadata, ?) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(m.metadata, ?) "
        "WHERE value = ?) ELSE instr(json_extract(m.metadata, ?), ?) > 0 END)",
        [path, path, value, path, value],
    )


def find_idempotent(db: sqlite3.Connection, ids: dict[str, str], key: str) -> str | None:
    row = db.execute(
        "SELECT id FROM memories WHERE coalesce(user_id, '') = ? AND coalesce(agent_id, '') = ?"
        " AND coalesce(app_id, '') = ? AND coalesce(run_id, '') = ? AND idempotency_key = ?",
        (ids.get("user_id", ""), ids.get("agent_id", ""), ids.get("app_id", ""), ids.get("run_id", ""), key),
    ).fetchone()
    return None if row is None else row[0]


def delete_ids(db: sqlite3.Connection, ids: list[str]) -> int:
    now = timestamp(datetime.now(UTC))
    gone = 0
    for memory_id in ids:
        gone += db.execute("DELETE FROM memories WHERE id = ?", (memory_id,)).rowcount
        db.execute("UPDATE history SET old_memory = NULL, new_memory = NULL, old_metadata = NULL,"
                   " new_metadata = NULL WHERE memory_id = ?", (memory_id,))
        db.execute("INSERT INTO history (memory_id, event, created_at) VALUES (?, 'DELETE', ?)", (memory_id, now))
    return gone


def record_event(db: sqlite3.Connection, event_id: str, kind: str, results: list[JsonValue], now: str) -> None:
    db.execute("INSERT INTO events (id, event_type, status, results, created_at) VALUES (?, ?, 'SUCCEEDED', ?, ?)",
               (event_id, kind, _dumps(results), now))


def row_fields(row: sqlite3.Row) -> MemoryFields:
    return {
        "id": row["id"], "memory": row["memory"],
        "user_id": row["user_id"], "agent_id": row["agent_id"], "app_id": row["app_id"], "run_id": row["run_id"],
        "metadata": orjson.loads(row["metadata"]), "categories": orjson.loads(row["categories"]),
        "created_at": datetime.fromisoformat(row["created_at"]),
        "updated_at": datetime.fromisoformat(row["updated_at"]),
    }
