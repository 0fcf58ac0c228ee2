"""Retrieval quality on real complaint text: recall@10 of account-scoped search, BM25 alone vs the fused score.

Corpus: the narratives of `../shared/data/cfpb_complaints_sample_2015_2020.csv` (US CFPB public data), one memory
per complaint, company = account, dated by "Date received". Queries: each (company, Issue) pair of an account
with more than ten narratives; relevant = that company's complaints filed under that Issue. recall@10 =
relevant found in the top 10 / min(10, relevant). Skips cleanly when the file is absent.

Run: `.venv/bin/python -m bench.retrieval_quality`.
"""

from __future__ import annotations

import asyncio
import csv
import statistics
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from ticket_enricher.memory import ranking
from ticket_enricher.memory.sqlite import SqliteMemoryStore
from ticket_enricher.memory.store import EntityScope

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cfpb_complaints_sample_2015_2020.csv"


def load() -> list[dict[str, str]]:
    with DATA.open(newline="", encoding="utf-8") as f:
        next(f), next(f)  # two lines of unzip output precede the header
        return [r for r in csv.DictReader(f) if r["Consumer complaint narrative"].strip()]


async def main() -> int:
    if not DATA.is_file():
        print(f"skipped: {DATA} is not here")
        return 0
    rows = load()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteMemoryStore(Path(tmp) / "cfpb.db")
        await store.add_many([
            (r["Consumer complaint narrative"], EntityScope(user_id=r["Company"]),
             {"complaint_id": r["Complaint ID"], "issue": r["Issue"]},
             datetime.fromisoformat(r["Date received"]).replace(tzinfo=UTC))
            for r in rows
        ])
        by_account: dict[str, list[dict[str, str]]] = defaultdict(list)
        for r in rows:
            by_account[r["Company"]].append(r)
        queries = sorted({(r["Company"], r["Issue"]) for r in rows if len(by_account[r["Company"]]) > 10})
        fused: list[float] = []
        bm25_only: list[float] = []
        coverage: list[int] = []
        for company, issue in queries:
            relevant = {r["Complaint ID"] for r in by_account[company] if r["Issue"] == issue}
            hits = await store.search(issue, filters={"user_id": company}, top_k=200, threshold=0.0)
            by_bm25 = sorted(hits, key=lambda h: (-h.score_breakdown.get("bm25", 0.0), h.created_at))
            for ranked, out in ((hits, fused), (by_bm25, bm25_only)):
                found = {str(h.metadata["complaint_id"]) for h in ranked[:10]}
                out.append(len(found & relevant) / min(10, len(relevant)))
            coverage.append(len(relevant))
        await store.close()
    print(f"CFPB narratives: {len(rows)} memories over {len(by_account)} accounts; {len(queries)} queries "
          f"(accounts with >10 narratives), median {statistics.median(coverage):.0f} relevant per query")
    print(f"{'ranking':<28} {'recall@10':>9}")
    print(f"{'BM25 alone':<28} {statistics.mean(bm25_only):>9.3f}")
    print(f"{'fused (BM25+entity+recency)':<28} {statistics.mean(fused):>9.3f}")
    print(f"fused / BM25 alone: {statistics.mean(fused) / statistics.mean(bm25_only):.2f}x  "
          f"(semantic signal off: no embeddings endpoint offline; weights {ranking.WEIGHTS})")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
