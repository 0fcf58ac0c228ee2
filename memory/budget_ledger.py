"""Where the model budget (`core.budget`) keeps its rows: in the store the members already share.

    SqliteLedger     a table in the embedded memory file; a write transaction (BEGIN IMMEDIATE) per change, so
                     the processes of one host (`run --processes`, a replay beside the worker) take turns
    PostgresLedger   a table in the memory database; the rows locked (SELECT ... FOR UPDATE, in key order, so two
                     members never deadlock) for one transaction: members on any number of hosts
    LocalLedger      in this process only: Mem0 Platform offers no transaction to share, so without `budget.dsn`
                     each member keeps the budget alone (N members may spend N times it; the worker says so)

The rows hold counts and times only (tokens, dollars, a bucket level, a parking time) keyed by the budget's name
and account ids; an account's rows of earlier days are pruned when a member starts.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from ticket_enricher.config.settings import Settings
from ticket_enricher.core.budget import BudgetLedger, Row, utc_day
from ticket_enricher.memory.dsn import redact
from ticket_enricher.memory.postgres_pool import create_pool, is_driver_error, translate
from ticket_enricher.memory.sqlite import run_locked

T = TypeVar("T")
log = logging.getLogger("ticket_enricher.budget")
_SCHEMA_LOCK = 0x7E_B0D6E7  # pg_advisory_xact_lock key of the ledger's schema
_COLUMNS = ("level", "stamp", "day", "tokens", "usd", "parked_until")

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS budget_ledger (
    key TEXT PRIMARY KEY, level REAL NOT NULL, stamp REAL NOT NULL, day TEXT NOT NULL, tokens REAL NOT NULL,
    usd REAL NOT NULL, parked_until REAL NOT NULL)
"""
POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS ticket_enricher_budget (
    key text PRIMARY KEY, level double precision NOT NULL, stamp double precision NOT NULL, day text NOT NULL,
    tokens double precision NOT NULL, usd double precision NOT NULL, parked_until double precision NOT NULL)
"""


def _row(values: Sequence[Any]) -> Row:
    level, stamp, day, tokens, usd, parked = values
    return Row(float(level), float(stamp), str(day), float(tokens), float(usd), float(parked))


def _values(row: Row) -> tuple[float, float, str, float, float, float]:
    return (row.level, row.stamp, row.day, row.tokens, row.usd, row.parked_until)


class LocalLedger:
    def __init__(self) -> None:
        self._rows: dict[str, Row] = {}
        self._lock = asyncio.Lock()

    async def transact(self, keys: list[str], change: Callable[[dict[str, Row]], T]) -> T:
        async with self._lock:
            rows = {k: self._rows.setdefault(k, Row()) for k in keys}
            return change(rows)

    async def rows(self, prefix: str) -> dict[str, Row]:
        return {k: v for k, v in self._rows.items() if k.startswith(prefix)}

    async def prune(self, now: float) -> int:
        return 0

    async def close(self) -> None:
        """Nothing to release."""


class SqliteLedger:
    def __init__(self, path: Path | str, busy_timeout_ms: int = 10_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                   timeout=busy_timeout_ms / 1000)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # as the memory store: a power cut may forget the last spend
        self._db.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        self._db.execute(SQLITE_SCHEMA)
        self._lock = threading.Lock()

    def _locked(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return run_locked(self._db, self._lock, fn, "budget ledger")

    async def transact(self, keys: list[str], change: Callable[[dict[str, Row]], T]) -> T:
        def run(db: sqlite3.Connection) -> T:
            db.execute("BEGIN IMMEDIATE")  # the write lock first: no other process reads these rows meanwhile
            marks = ",".join("?" * len(keys))
            found = {r[0]: _row(tuple(r[1:])) for r in db.execute(
                f"SELECT key, {', '.join(_COLUMNS)} FROM budget_ledger WHERE key IN ({marks})", keys)}
            rows = {k: found.get(k) or Row() for k in keys}
            result = change(rows)
            db.executemany(f"INSERT OR REPLACE INTO budget_ledger (key, {', '.join(_COLUMNS)}) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)", [(k, *_values(r)) for k, r in rows.items()])
            db.execute("COMMIT")
            return result

        return await asyncio.to_thread(self._locked, run)

    async def rows(self, prefix: str) -> dict[str, Row]:
        def read(db: sqlite3.Connection) -> dict[str, Row]:
            return {r[0]: _row(tuple(r[1:])) for r in db.execute(
                f"SELECT key, {', '.join(_COLUMNS)} FROM budget_ledger WHERE substr(key, 1, ?) = ?",
                (len(prefix), prefix))}

        return await asyncio.to_thread(self._locked, read)

    async def prune(self, now: float) -> int:
        def prune(db: sqlite3.Connection) -> int:
            return db.execute("DELETE FROM budget_ledger WHERE key LIKE 'account:%' AND day <> ? AND parked_until < ?",
                              (utc_day(now), now)).rowcount

        return await asyncio.to_thread(self._locked, prune)

    async def close(self) -> None:
        self._db.close()


class PostgresLedger:
    def __init__(self, dsn: str, *, password: str | None, statement_timeout: float = 10.0,
                 connect_timeout: float = 15.0) -> None:
        self._dsn = dsn
        self._password = password
        self.where = redact(dsn)
        self._timeouts = (statement_timeout, connect_timeout)
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _ready(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                statement, connect = self._timeouts
                pool = await create_pool(self._dsn, password=self._password, max_size=4,
                                         statement_timeout=statement, connect_timeout=connect)
                async with pool.acquire() as conn, conn.transaction():
                    # members starting at once: CREATE TABLE IF NOT EXISTS alone races on the catalog
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
                    await conn.execute(POSTGRES_SCHEMA)
                self._pool = pool
        return self._pool

    async def transact(self, keys: list[str], change: Callable[[dict[str, Row]], T]) -> T:
        ordered = sorted(set(keys))
        try:
            pool = await self._ready()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO ticket_enricher_budget (key, level, stamp, day, tokens, usd, parked_until) "
                    "SELECT k, 0, 0, '', 0, 0, 0 FROM unnest($1::text[]) AS k ON CONFLICT (key) DO NOTHING", ordered)
                found = {r["key"]: _row(tuple(r[c] for c in _COLUMNS)) for r in await conn.fetch(
                    f"SELECT key, {', '.join(_COLUMNS)} FROM ticket_enricher_budget WHERE key = ANY($1::text[]) "
                    "ORDER BY key FOR UPDATE", ordered)}
                rows = {k: found.get(k) or Row() for k in keys}
                result = change(rows)
                await conn.executemany(
                    "UPDATE ticket_enricher_budget SET level = $2, stamp = $3, day = $4, tokens = $5, usd = $6, "
                    "parked_until = $7 WHERE key = $1", [(k, *_values(r)) for k, r in rows.items()])
                return result
        except BaseException as exc:
            if is_driver_error(exc):
                raise translate(exc, "budget", self.where) from None
            raise

    async def rows(self, prefix: str) -> dict[str, Row]:
        pool = await self._ready()
        async with pool.acquire() as conn:
            return {r["key"]: _row(tuple(r[c] for c in _COLUMNS)) for r in await conn.fetch(
                f"SELECT key, {', '.join(_COLUMNS)} FROM ticket_enricher_budget WHERE starts_with(key, $1)", prefix)}

    async def prune(self, now: float) -> int:
        pool = await self._ready()
        async with pool.acquire() as conn:
            done = await conn.execute("DELETE FROM ticket_enricher_budget WHERE key LIKE 'account:%' AND day <> $1 "
                                      "AND parked_until < $2", utc_day(now), now)
        return int(done.split()[-1])

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


def open_ledger(settings: Settings) -> BudgetLedger:
    """The ledger on the store the members share (see the module's docstring)."""
    memory, budget = settings.memory, settings.budget
    password = settings.postgres_password.get_secret_value() if settings.postgres_password else None
    dsn = budget.dsn.get_secret_value() or (memory.dsn.get_secret_value() if memory.backend == "postgres" else "")
    if dsn:
        return PostgresLedger(dsn, password=password, statement_timeout=memory.statement_timeout_seconds,
                              connect_timeout=memory.timeout_seconds)
    if memory.backend == "sqlite":
        return SqliteLedger(memory.path)
    log.warning("budget: memory on Mem0 Platform and no budget.dsn: this member keeps the budget alone "
                "(N members may spend N times it)")
    return LocalLedger()


def budget_name(settings: Settings) -> str:
    return settings.budget.name or settings.kafka.group_id
