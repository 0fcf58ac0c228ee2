"""Search latency of the embedded store and of PostgreSQL as they grow, side by side in one run: p50/p95 of
account-scoped hybrid search at 10k, 100k and 1M memories over 10k accounts (the same memories and the same
queries in both), beside two references measured in the same run on the same data:

- floor: the index lookup `list(user_id=…)` must do anyway (no text scoring at all);
- ref: on SQLite the naive query, FTS5's own BM25 without the per-account token, filtered by account after
  matching; on PostgreSQL ranking in SQL alone (`ts_rank_cd` over the account's `tsvector` matches: no IDF, no
  entity or recency signal, no Python scoring), the cheapest full-text ranking it offers.

"cold" is the first 50 queries after the store's document-frequency cache is cleared (every query term counted
over the whole index once); the other columns are warm, as a running worker is. PostgreSQL is a local server
started for the run from the machine's binaries (default settings, fsync on), reached over loopback TCP, so its
column includes a network round trip per statement; SQLite is in-process.

Run: `.venv/bin/python -m bench.memory_search [--sizes 10000,100000,1000000] [--queries 400] [--stores
sqlite,postgres]`. Builds its databases in a temporary directory (about 1 GB each at 1M); prints one table.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import JsonValue

from ticket_enricher.memory import ranking
from ticket_enricher.memory.sqlite import SqliteMemoryStore
from ticket_enricher.memory.store import EntityScope

ACCOUNTS = 10_000
WORDS = ("outage dashboard invoice charged twice refund cancel subscription export report login password api "
         "sync records missing latency error timeout billing contract renewal upgrade downgrade mobile app "
         "notification email webhook integration permission admin user invite onboarding training slow "
         "crash payment card bank transfer tax receipt discount pricing plan seats license security breach "
         "phishing audit compliance gdpr delete account data backup restore import csv spreadsheet chart "
         "filter search query schedule calendar reminder template branding domain certificate").split()


def _text(rng: random.Random) -> str:
    return (f"[{rng.choice(['ticket.created', 'ticket.updated', 'ticket.closed'])}] "
            + " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 30))))


def _query(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5)))


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _batches(rng: random.Random, n: int) -> list[list[tuple[str, EntityScope, dict[str, JsonValue], datetime]]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batches: list[list[tuple[str, EntityScope, dict[str, JsonValue], datetime]]] = []
    batch: list[tuple[str, EntityScope, dict[str, JsonValue], datetime]] = []
    for _ in range(n):
        account = f"acct-{rng.randrange(ACCOUNTS)}"
        batch.append((_text(rng), EntityScope(user_id=account), {"kind": "ticket_note"},
                      start + timedelta(minutes=rng.randrange(500_000))))
        if len(batch) == 20_000:
            batches.append(batch)
            batch = []
    return batches + [batch] if batch else batches


def _naive_sqlite(db: sqlite3.Connection, query: str, account: str) -> None:
    terms = ranking.query_terms(query)
    db.execute(
        "SELECT m.id, f.rank FROM (SELECT rowid, bm25(memories_fts, 0.0, 1.0) AS rank FROM memories_fts "
        "WHERE memories_fts MATCH ?) f JOIN memories m ON m.rowid = f.rowid WHERE m.user_id = ? "
        "ORDER BY f.rank LIMIT 10", (ranking.fts_match(terms, None), account)).fetchall()


class Sqlite:
    name = "sqlite"

    def __init__(self, tmp: Path) -> None:
        self.path = tmp / "bench.db"
        self.store = SqliteMemoryStore(self.path)
        self.raw = sqlite3.connect(self.path)

    async def settle(self) -> None:
        self.raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def naive(self, query: str, account: str) -> None:
        _naive_sqlite(self.raw, query, account)

    def forget_statistics(self) -> None:
        self.store._df.clear()

    async def megabytes(self) -> float:
        return sum(p.stat().st_size for p in self.path.parent.glob("bench.db*")) / 1e6

    async def close(self) -> None:
        self.raw.close()
        await self.store.close()


class Postgres:
    name = "postgres"

    async def start(self, tmp: Path) -> Postgres:
        import asyncpg

        from ticket_enricher.localpostgres import LocalPostgres
        from ticket_enricher.memory.postgres import PostgresMemoryStore

        tmp.chmod(0o755)  # the server may run as the postgres user, who must reach its data dir
        self.server = LocalPostgres(tmp / "postgres")
        dsn = self.server.start(say=lambda m: None)
        self.store = PostgresMemoryStore(dsn)
        await self.store.ping()
        self.raw = await asyncpg.connect(dsn)
        return self

    async def settle(self) -> None:
        await self.raw.execute("VACUUM ANALYZE memories")  # what autovacuum does after a bulk load

    async def naive(self, query: str, account: str) -> None:
        await self.raw.fetch(
            "SELECT id, ts_rank_cd(tsv, q) AS rank FROM to_tsquery('english', array_to_string(ARRAY("
            "SELECT quote_literal(t) FROM unnest($1::text[]) t), ' | ')) q, (SELECT * FROM memories "
            "WHERE user_id = $2 OFFSET 0) m WHERE tsv @@ q ORDER BY rank DESC LIMIT 10",  # the account first
            ranking.query_terms(query), account)

    def forget_statistics(self) -> None:
        self.store._df.clear()
        self.store._corpus = None

    async def megabytes(self) -> float:
        return float(await self.raw.fetchval("SELECT pg_database_size(current_database())")) / 1e6

    async def close(self) -> None:
        await self.raw.close()
        await self.store.close()
        self.server.stop()


async def _measure(db: Any, probes: list[tuple[str, str]]) -> tuple[list[float], list[float], list[float],
                                                                   list[float]]:
    for account, q in probes[:20]:  # warm the page cache
        await db.store.search(q, filters={"user_id": account})
    hybrid, floor, naive = [], [], []
    for account, q in probes:
        t = time.perf_counter()
        await db.store.search(q, filters={"user_id": account}, top_k=10)
        hybrid.append(time.perf_counter() - t)
        t = time.perf_counter()
        await db.store.list(filters={"user_id": account}, page_size=10)
        floor.append(time.perf_counter() - t)
        t = time.perf_counter()
        await db.naive(q, account)
        naive.append(time.perf_counter() - t)
    db.forget_statistics()  # cold: every query term's document frequency counted afresh
    cold = []
    for account, q in probes[:50]:
        t = time.perf_counter()
        await db.store.search(q, filters={"user_id": account}, top_k=10)
        cold.append(time.perf_counter() - t)
    return hybrid, floor, naive, cold


async def main(sizes: list[int], queries: int, seed: int, stores: list[str]) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        dbs: list[Any] = []
        if "sqlite" in stores:
            dbs.append(Sqlite(Path(tmp)))
        if "postgres" in stores:
            dbs.append(await Postgres().start(Path(tmp)))
        have = 0
        print(f"{'store':>8} {'memories':>10} {'per acct':>8} {'search p50':>10} {'p95':>8} {'cold p95':>9} "
              f"{'floor p95':>9} {'ref p95':>9} {'ref/ours':>8} {'size MB':>8} {'build s':>8}")
        first_p95: dict[str, float] = {}
        p95s: dict[str, float] = {}
        try:
            for size in sizes:
                batches = _batches(rng, size - have)
                have = size
                probes = [(f"acct-{rng.randrange(ACCOUNTS)}", _query(rng)) for _ in range(queries)]
                for db in dbs:
                    t0 = time.perf_counter()
                    for batch in batches:
                        await db.store.add_many(batch)
                    await db.settle()
                    build = time.perf_counter() - t0
                    hybrid, floor, naive, cold = await _measure(db, probes)
                    p95 = _pct(hybrid, 0.95)
                    first_p95.setdefault(db.name, p95)
                    p95s[db.name] = p95
                    print(f"{db.name:>8} {size:>10,} {size / ACCOUNTS:>8.0f} {_pct(hybrid, 0.5):>8.2f}ms "
                          f"{p95:>6.2f}ms {_pct(cold, 0.95):>7.2f}ms {_pct(floor, 0.95):>7.2f}ms "
                          f"{_pct(naive, 0.95):>7.2f}ms {_pct(naive, 0.95) / p95:>7.1f}x "
                          f"{await db.megabytes():>8.0f} {build:>8.1f}", flush=True)
            for db in dbs:
                print(f"{db.name}: growth of p95 from {sizes[0]:,} to {sizes[-1]:,} memories "
                      f"({sizes[-1] // sizes[0]}x data): {p95s[db.name] / first_p95[db.name]:.1f}x")
        finally:
            for db in dbs:
                await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    asyncio.run(main([int(s) for s in args.sizes.split(",")], args.queries, args.seed, args.stores.split(",")))
