"""Search latency of the embedded store as it grows: p50/p95 of account-scoped hybrid search at 10k, 100k and
1M memories over 10k accounts, beside two references measured in the same run on the same file:

- floor: the index lookup `list(user_id=…)` must do anyway (no text scoring at all);
- naive: the same FTS5 BM25 query without the per-account token, filtered by account after matching.

"cold" is the first 50 queries after the store's document-frequency cache is cleared (every query term counted
over the whole index once); the other columns are warm, as a running worker is.

Run: `.venv/bin/python -m bench.memory_search [--sizes 10000,100000,1000000] [--queries 400]`.
Builds its database in a temporary directory (about 1 GB at 1M); prints one table.
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

from memory import ranking
from memory.sqlite import SqliteMemoryStore
from memory.store import EntityScope

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


async def _grow(store: SqliteMemoryStore, rng: random.Random, n: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch: list[tuple[str, EntityScope, dict[str, object], datetime]] = []
    for _ in range(n):
        account = f"acct-{rng.randrange(ACCOUNTS)}"
        batch.append((_text(rng), EntityScope(user_id=account), {"kind": "ticket_note"},
                      start + timedelta(minutes=rng.randrange(500_000))))
        if len(batch) == 20_000:
            await store.add_many(batch)  # type: ignore[arg-type]
            batch = []
    if batch:
        await store.add_many(batch)  # type: ignore[arg-type]


def _naive(db: sqlite3.Connection, query: str, account: str) -> None:
    terms = ranking.query_terms(query)
    db.execute(
        "SELECT m.id, f.rank FROM (SELECT rowid, bm25(memories_fts, 0.0, 1.0) AS rank FROM memories_fts "
        "WHERE memories_fts MATCH ?) f JOIN memories m ON m.rowid = f.rowid WHERE m.user_id = ? "
        "ORDER BY f.rank LIMIT 10", (ranking.fts_match(terms, None), account)).fetchall()


async def main(sizes: list[int], queries: int, seed: int) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        store = SqliteMemoryStore(path)
        raw = sqlite3.connect(path)
        have = 0
        print(f"{'memories':>10} {'per acct':>8} {'search p50':>10} {'p95':>8} {'cold p95':>9} {'floor p95':>9} "
              f"{'naive p95':>9} {'vs naive':>8} {'index MB':>9} {'build s':>8}")
        first_p95 = None
        for size in sizes:
            t0 = time.perf_counter()
            await _grow(store, rng, size - have)
            have = size
            build = time.perf_counter() - t0
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            probes = [(f"acct-{rng.randrange(ACCOUNTS)}", _query(rng)) for _ in range(queries)]
            for account, q in probes[:20]:  # warm the page cache
                await store.search(q, filters={"user_id": account})
            hybrid, floor, naive = [], [], []
            for account, q in probes:
                t = time.perf_counter()
                await store.search(q, filters={"user_id": account}, top_k=10)
                hybrid.append(time.perf_counter() - t)
                t = time.perf_counter()
                await store.list(filters={"user_id": account}, page_size=10)
                floor.append(time.perf_counter() - t)
                t = time.perf_counter()
                _naive(raw, q, account)
                naive.append(time.perf_counter() - t)
            store._df.clear()  # cold: every query term's document frequency counted afresh
            cold = []
            for account, q in probes[:50]:
                t = time.perf_counter()
                await store.search(q, filters={"user_id": account}, top_k=10)
                cold.append(time.perf_counter() - t)
            size_mb = sum(p.stat().st_size for p in Path(tmp).glob("bench.db*")) / 1e6
            p95 = _pct(hybrid, 0.95)
            first_p95 = first_p95 or p95
            print(f"{size:>10,} {size / ACCOUNTS:>8.0f} {_pct(hybrid, 0.5):>8.2f}ms {p95:>6.2f}ms "
                  f"{_pct(cold, 0.95):>7.2f}ms "
                  f"{_pct(floor, 0.95):>7.2f}ms {_pct(naive, 0.95):>7.2f}ms {_pct(naive, 0.95) / p95:>7.1f}x "
                  f"{size_mb:>9.0f} {build:>8.1f}")
        print(f"growth of p95 from {sizes[0]:,} to {sizes[-1]:,} memories ({sizes[-1] // sizes[0]}x data): "
              f"{p95 / first_p95:.1f}x")
        raw.close()
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main([int(s) for s in args.sizes.split(",")], args.queries, args.seed))
