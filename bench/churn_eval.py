"""The offline rules model on generated and on real unlabelled text (judgment on labelled text: `ticket-enricher
eval`, README "Judgment").

1. Seeded generator: precision/recall of `churn_risk` against the personas' ground truth over several seeds. The
   personas were written with the rules in mind, so this is a consistency check (the demo's ground truth still
   holds), never a measure of judgment.
2. Real complaint text: `../shared/data/cfpb_complaints_sample_2015_2020.csv` replayed as ticket streams (company =
   account, one `ticket.created` per complaint with a narrative, in date order): how many companies get each tag,
   and a sample of evidence lines to read. There is no ground truth there; the figures are for reading.

Run: `.venv/bin/python -m bench.churn_eval`. Uses the embedded store in a temporary directory.
"""

from __future__ import annotations

import asyncio
import csv
import random
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from ticket_enricher.agents.enrichment import Enrichment
from ticket_enricher.agents.factory import build_planner
from ticket_enricher.agents.notes import read_account_tags
from ticket_enricher.config.settings import load_settings
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.memory.sqlite import SqliteMemoryStore
from ticket_enricher.samples import generate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cfpb_complaints_sample_2015_2020.csv"
SETTINGS = load_settings()


async def generator(seeds: range, accounts: int) -> None:
    tp = fp = fn = tn = 0
    events = 0
    started = time.perf_counter()
    for seed in seeds:
        stream = generate(seed=seed, accounts=accounts, injections=True)
        with tempfile.TemporaryDirectory() as tmp:
            store = SqliteMemoryStore(Path(tmp) / "m.db")
            agent = Enrichment(build_planner(SETTINGS, store), store)
            for event in stream.events:
                await agent.enrich([event])
            events += len(stream.events)
            for account, expected in stream.truth.items():
                got = "churn_risk" in (await read_account_tags(store, account))[1].tags
                want = "churn_risk" in expected
                tp += got and want
                fp += got and not want
                fn += want and not got
                tn += not got and not want
            await store.close()
    elapsed = time.perf_counter() - started
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"generator: {len(seeds)} seeds x {accounts} accounts, {events} events in {elapsed:.1f}s "
          f"({events / elapsed:.0f} events/s through agent + SQLite)")
    print(f"  churn_risk  precision {precision:.3f}  recall {recall:.3f}  (tp {tp}, fp {fp}, fn {fn}, tn {tn}; "
          "a consistency check: the personas were written with the rules)")


def cfpb_events() -> list[TicketEvent]:
    rng = random.Random(0)
    with DATA.open(newline="", encoding="utf-8") as f:
        next(f), next(f)  # unzip noise before the header
        rows = [r for r in csv.DictReader(f) if r["Consumer complaint narrative"].strip()]
    events = []
    for i, r in enumerate(sorted(rows, key=lambda r: (r["Date received"], r["Complaint ID"]))):
        day = datetime.fromisoformat(r["Date received"]).replace(tzinfo=UTC, hour=9 + i % 8)
        events.append(TicketEvent.model_validate({
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "type": "ticket.created",
            "occurred_at": day.isoformat(), "account_id": r["Company"],
            "ticket": {"id": r["Complaint ID"], "subject": r["Issue"][:1000],
                       "body": r["Consumer complaint narrative"][:100_000], "priority": "normal",
                       "channel": r["Submitted via"] or "web", "tags": []},
        }))
    return events


async def cfpb() -> None:
    if not DATA.is_file():
        print(f"CFPB: skipped, {DATA} is not here")
        return
    events = cfpb_events()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteMemoryStore(Path(tmp) / "cfpb.db")
        agent = Enrichment(build_planner(SETTINGS, store), store)
        started = time.perf_counter()
        for event in events:
            await agent.enrich([event])
        elapsed = time.perf_counter() - started
        accounts = sorted({e.account_id for e in events})
        counts: Counter[str] = Counter()
        samples: dict[str, list[str]] = {}
        for account in accounts:
            _, tags = await read_account_tags(store, account)
            for name, record in tags.tags.items():
                counts[name] += 1
                samples.setdefault(name, []).append(f"{account[:38]}: {record.reason}")
        await store.close()
    print(f"CFPB: {len(events)} complaints with narratives as tickets of {len(accounts)} companies "
          f"in {elapsed:.1f}s")
    for name in SETTINGS.tags:
        print(f"  {name:<17} {counts[name]:>4} companies ({counts[name] / len(accounts):.1%})")
    rng = random.Random(1)
    for name, lines in samples.items():
        print(f"  evidence, {name}:")
        for line in rng.sample(lines, min(3, len(lines))):
            print(f"    {line[:150]}")


async def main() -> None:
    await generator(range(1, 6), 60)
    await cfpb()


if __name__ == "__main__":
    asyncio.run(main())
