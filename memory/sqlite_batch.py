"""The embedded store's batch writes, one transaction each: the offline planner's group commit
(`memory.batch`) and the bulk import of migrations and benchmarks."""

from __future__ import annotations

import orjson
import sqlite3
import uuid
from datetime import UTC, datetime

from pydantic import JsonValue

from core.errors import NotFound
from memory import ranking
from memory.batch import Change, NewMemory, Written, newer, remapped
from memory.sqlite_sql import find_idempotent, timestamp
from memory.store import EntityScope


def _dumps(value: object) -> str:
    """JSON text of a stored value (orjson: the hot path writes one or two per memory)."""
    return orjson.dumps(value).decode()


def write(db: sqlite3.Connection, new: list[NewMemory], changes: list[Change]) -> Written:
    """Every add and change of a batch in one transaction (see `memory.batch`): an add whose key exists is not
    written again (or, with `merge_if_exists`, merges its metadata), and a guarded change that a later stored
    time wins over is skipped."""
    written = Written()
    now = timestamp(datetime.now(UTC))
    merges: list[Change] = []
    db.execute("BEGIN IMMEDIATE")
    for m in new:
        ids, meta = m.scope.ids(), {**m.metadata, "idempotency_key": m.key}
        created = timestamp(m.timestamp or datetime.now(UTC))
        cur = db.execute(
            "INSERT OR IGNORE INTO memories (id, user_id, agent_id, app_id, run_id, memory, scope, metadata,"
            " categories, idempotency_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (m.id, ids.get("user_id"), ids.get("agent_id"), ids.get("app_id"), ids.get("run_id"), m.text,
             " ".join(ranking.scope_token(k, v) for k, v in ids.items()), _dumps(meta),
             _dumps(m.categories), m.key, created, created))
        if cur.rowcount:
            written.ids[m.id] = m.id
            written.created.add(m.id)
            db.execute("INSERT INTO history (memory_id, event, new_memory, created_at) VALUES (?, 'ADD', ?, ?)",
                       (m.id, m.text, now))
            continue
        written.ids[m.id] = find_idempotent(db, ids, m.key) or m.id  # written earlier, maybe by another id
        if m.merge_if_exists:
            merges.append(Change(m.id, m.metadata, m.not_after))
    actual = {p: s for p, s in written.ids.items() if p != s}
    for change in [*merges, *changes]:
        memory_id = written.ids.get(change.memory_id, change.memory_id)
        row = db.execute("SELECT memory, metadata FROM memories WHERE id = ?", (memory_id,)).fetchone()
        if row is None:
            raise NotFound(f"no memory with id {memory_id}")
        old = orjson.loads(row["metadata"])
        if change.not_after is not None and newer(old.get(change.not_after[0]), change.not_after[1]):
            written.skipped += 1
            continue
        merged = _dumps({**old, **remapped(change.metadata, actual)})  # type: ignore[dict-item]
        db.execute("UPDATE memories SET metadata = ?, updated_at = ? WHERE id = ?", (merged, now, memory_id))
        db.execute("INSERT INTO history (memory_id, event, old_memory, new_memory, created_at)"
                   " VALUES (?, 'UPDATE', ?, ?, ?)", (memory_id, row["memory"], row["memory"], now))
    db.execute("COMMIT")
    return written


def add_many(db: sqlite3.Connection, items: list[tuple[str, EntityScope, dict[str, JsonValue], datetime]]) -> int:
    """Bulk import in one transaction: no idempotency check, no embeddings, one history row each."""
    now = timestamp(datetime.now(UTC))
    db.execute("BEGIN IMMEDIATE")
    for text, scope, meta, moment in items:
        ids, memory_id, created = scope.ids(), str(uuid.uuid4()), timestamp(moment)
        db.execute(
            "INSERT INTO memories (id, user_id, agent_id, app_id, run_id, memory, scope, metadata,"
            " categories, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)",
            (memory_id, ids.get("user_id"), ids.get("agent_id"), ids.get("app_id"), ids.get("run_id"),
             text, " ".join(ranking.scope_token(k, v) for k, v in ids.items()), _dumps(meta),
             created, created),
        )
        db.execute("INSERT INTO history (memory_id, event, new_memory, created_at) VALUES (?, 'ADD', ?, ?)",
                   (memory_id, text, now))
    db.execute("COMMIT")
    return len(items)
