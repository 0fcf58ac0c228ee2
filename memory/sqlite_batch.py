"""The embedded store's batch writes, one transaction each: the offline planner's group commit
(`memory.batch`) and the bulk import of migrations and benchmarks."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime

import orjson
from pydantic import JsonValue

from ticket_enricher.core.errors import NotFound
from ticket_enricher.memory import ranking
from ticket_enricher.memory.batch import Change, NewMemory, Written, newer, remapped_metadata
from ticket_enricher.memory.sqlite_sql import find_idempotent, timestamp
from ticket_enricher.memory.store import EntityScope


def _dumps(value: object) -> str:
    """JSON text of a stored value (orjson: the hot path writes one or two per memory)."""
    return orjson.dumps(value).decode()


_INSERT_ROWS = (
    "INSERT OR IGNORE INTO memories (id, user_id, agent_id, app_id, run_id, memory, scope, metadata, categories,"
    " idempotency_key, created_at, updated_at) SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3,"
    " value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11"
    " FROM json_each(?)"
)
_CHUNK = 500  # ids per IN (...) list, well under SQLite's limit on bound parameters


def _present(db: sqlite3.Connection, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        part = ids[i:i + _CHUNK]
        marks = ",".join("?" * len(part))
        found.update(r[0] for r in db.execute(f"SELECT id FROM memories WHERE id IN ({marks})", part))
    return found


def write(db: sqlite3.Connection, new: list[NewMemory], changes: list[Change]) -> Written:
    """Every add and change of a batch in one transaction (see `memory.batch`): an add whose key exists is not
    written again (or, with `merge_if_exists`, merges its metadata), and a guarded change that a later stored
    time wins over is skipped.

    Set-based: which planned ids exist is asked once, the adds and their history rows go in with `executemany`,
    the rows to change are read in one query and each written once with its changes merged in order; the
    statements per row were most of a backfill's write time."""
    written = Written()
    now = timestamp(datetime.now(UTC))
    merges: list[Change] = []
    db.execute("BEGIN IMMEDIATE")
    first: dict[str, NewMemory] = {}
    for m in new:
        if m.id in first:  # the same memory twice in one batch: the later one is an existing memory's
            if m.merge_if_exists:
                merges.append(Change(m.id, m.metadata, m.not_after))
            continue
        first[m.id] = m
    before = _present(db, list(first))
    adding = [m for m in first.values() if m.id not in before]
    rows = []
    for m in adding:
        ids, meta = m.scope.ids(), {**m.metadata, "idempotency_key": m.key}
        created = timestamp(m.timestamp or datetime.now(UTC))
        rows.append((m.id, ids.get("user_id"), ids.get("agent_id"), ids.get("app_id"), ids.get("run_id"), m.text,
                     " ".join(ranking.scope_token(k, v) for k, v in ids.items()), _dumps(meta),
                     _dumps(m.categories), m.key, created, created))
    if rows:  # one statement over a JSON array: one call into SQLite, not one per row
        db.execute(_INSERT_ROWS, (orjson.dumps(rows),))
    # an add that was ignored met its key under another id (a memory stored before ids were planned)
    inserted = _present(db, [m.id for m in adding]) if adding else set()
    added = [(m.id, m.text) for m in adding if m.id in inserted]
    if added:
        db.execute("INSERT INTO history (memory_id, event, new_memory, created_at)"
                   " SELECT value ->> 0, 'ADD', value ->> 1, ? FROM json_each(?)", (now, orjson.dumps(added)))
    for m in first.values():
        if m.id in inserted:
            written.ids[m.id] = m.id
            written.created.add(m.id)
            continue
        written.ids[m.id] = m.id if m.id in before else (find_idempotent(db, m.scope.ids(), m.key) or m.id)
        if m.merge_if_exists:
            merges.append(Change(m.id, m.metadata, m.not_after))
    actual = {p: s for p, s in written.ids.items() if p != s}
    todo = [*merges, *changes]
    targets = list(dict.fromkeys(written.ids.get(c.memory_id, c.memory_id) for c in todo))
    current: dict[str, tuple[str, dict[str, JsonValue]]] = {}
    for i in range(0, len(targets), _CHUNK):
        part = targets[i:i + _CHUNK]
        marks = ",".join("?" * len(part))
        for row in db.execute(f"SELECT id, memory, metadata FROM memories WHERE id IN ({marks})", part):
            current[row["id"]] = (row["memory"], orjson.loads(row["metadata"]))
    changed: dict[str, None] = {}
    history = []
    for change in todo:
        memory_id = written.ids.get(change.memory_id, change.memory_id)
        if memory_id not in current:
            raise NotFound(f"no memory with id {memory_id}")
        text, old = current[memory_id]
        if change.not_after is not None and newer(old.get(change.not_after[0]), change.not_after[1]):
            written.skipped += 1
            continue
        current[memory_id] = (text, {**old, **remapped_metadata(change.metadata, actual)})
        changed[memory_id] = None
        history.append((memory_id, text))
    if changed:
        db.execute("UPDATE memories SET metadata = j.value ->> 1, updated_at = ? FROM json_each(?) AS j"
                   " WHERE memories.id = j.value ->> 0", (now, orjson.dumps([(m, _dumps(current[m][1]))
                                                                            for m in changed])))
    if history:
        db.execute("INSERT INTO history (memory_id, event, old_memory, new_memory, created_at)"
                   " SELECT value ->> 0, 'UPDATE', value ->> 1, value ->> 1, ? FROM json_each(?)",
                   (now, orjson.dumps(history)))
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
