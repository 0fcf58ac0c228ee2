"""Does one hot account over its daily budget slow the others? Side by side in one run, on a local broker.

600 events keyed Zipf-distributed over 100 accounts (s = 1.1: the top account files about a quarter of them),
published before the worker starts; the fake OpenAI-compatible model (`ticket_enricher.testing`, in this process)
answers each chat completion in 100 ms and each event takes two. One worker (`Worker`, the `run` code path,
64 events in flight, SQLite store) per row, each with its own group, topics and store:

* no budget             the baseline
* ledger, no limit hit  a group budget far above what the run spends: what reserving and settling cost
* hot accounts capped   `budget.account_tokens_per_day` at about 30 events' worth: the three accounts that file more
                        (151, 72 and 37 events) are refused after that (their events wait in the delay tier for the
                        next day); every other account stays under it

For each row: the events/s of the other accounts (their events over the time from the worker's start to the last
of them enriched), the calls the model served, and how many events of the hot accounts were done by then.
Run: `.venv/bin/python -m bench.budget` (about 2 minutes).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from bench.workload import keyed_events, zipf_accounts
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.engine.clients import KafkaClients, opened
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.testing.openai_server import FakeOpenAI, brief

EVENTS, ACCOUNTS, PARTITIONS = 1200, 200, 3
CAP_EVENTS = 30  # the capped row's daily budget per account, in events' worth of tokens


def settings_for(bootstrap: str, tmp: Path, llm: FakeOpenAI, budget: dict[str, Any]) -> Settings:
    run = uuid.uuid4().hex[:6]
    return load_settings(
        kafka={"bootstrap_servers": bootstrap, "group_id": f"bench-{run}"},
        topics={"tickets": f"t-{run}", "enriched": f"e-{run}", "dlq": f"d-{run}", "partitions": PARTITIONS},
        memory={"path": tmp / f"{run}.db"}, model={"name": "fake-model", "base_url": llm.url + "/v1",
                                                   "max_output_tokens": 64},
        worker={"max_in_flight": 64}, budget=budget)


async def publish(settings: Settings, events: list[TicketEvent]) -> None:
    async with opened(KafkaClients.from_settings(settings).producer("bench", linger_ms=20)) as producer:
        for e in events:
            await producer.send(settings.topics.tickets, e.model_dump_json().encode(), key=e.account_id.encode())
        await producer.flush()


async def enriched(settings: Settings) -> list[tuple[str, int, int]]:
    """(account, broker timestamp ms, tokens) of every enriched record so far."""
    out = []
    async with opened(KafkaClients.from_settings(settings).consumer("bench")) as consumer:
        tps = [TopicPartition(settings.topics.enriched, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        left = {tp for tp in tps if ends[tp] > 0}
        while left:
            for batch in (await consumer.getmany(*left, timeout_ms=500)).values():
                for r in batch:
                    body = json.loads(r.value)
                    cost = body.get("cost") or {}
                    out.append((body["account_id"], r.timestamp,
                                int(cost.get("input_tokens", 0)) + int(cost.get("output_tokens", 0))))
            for tp in list(left):
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
    return out


async def row(label: str, settings: Settings, events: list[TicketEvent], llm: FakeOpenAI) -> dict[str, Any]:
    from ticket_enricher.consumers.operations.topics import create_topics
    from ticket_enricher.consumers.worker import Worker

    await create_topics(settings)
    await publish(settings, events)
    counts = Counter(e.account_id for e in events)
    hot = {a for a, n in counts.items() if n > CAP_EVENTS}
    others = sum(1 for e in events if e.account_id not in hot)
    calls_before = len(llm.chat_bodies())
    began_ms = time.time() * 1000
    async with Worker(settings):
        deadline = time.monotonic() + 300
        while True:
            seen = await enriched(settings)
            if sum(1 for a, _, _ in seen if a not in hot) >= others or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
    done_ms = max(t for a, t, _ in seen if a not in hot)
    tokens = [n for _, _, n in seen]
    return {"label": label, "others": others, "others_done": sum(1 for a, _, _ in seen if a not in hot),
            "seconds": (done_ms - began_ms) / 1000, "hot_total": len(events) - others,
            "hot_capped": sum(min(counts[a], CAP_EVENTS) for a in hot),
            "hot_done": sum(1 for a, _, _ in seen if a in hot), "calls": len(llm.chat_bodies()) - calls_before,
            "tokens_per_event": sum(tokens) / max(1, len(tokens))}


async def measure(bootstrap: str, tmp: Path) -> None:
    events = keyed_events(zipf_accounts(EVENTS, ACCOUNTS, 1.1))
    top = Counter(e.account_id for e in events).most_common(3)
    llm = FakeOpenAI().start()
    llm.script = brief
    llm.latency_seconds = 0.1
    try:
        rows = [await row("no budget", settings_for(bootstrap, tmp, llm, {}), events, llm)]
        per_event = rows[0]["tokens_per_event"]
        rows.append(await row("ledger, no limit hit", settings_for(
            bootstrap, tmp, llm, {"group_tokens_per_minute": int(per_event * EVENTS * 100)}), events, llm))
        rows.append(await row("hot accounts capped", settings_for(
            bootstrap, tmp, llm, {"account_tokens_per_day": int(per_event * CAP_EVENTS)}), events, llm))
    finally:
        llm.stop()
    base = rows[0]["others"] / rows[0]["seconds"]
    print(f"\n{EVENTS} events, {ACCOUNTS} accounts (Zipf s=1.1; top three: "
          f"{', '.join(f'{a} {n}' for a, n in top)}), 2 model calls of 100 ms per event, "
          f"{per_event:,.0f} tokens per event, 64 in flight, SQLite")
    print(f"{'row':<22} {'others ev/s':>12} {'x no budget':>12} {'others done':>12} {'hot done by then':>17} "
          f"{'model calls':>12}")
    for r in rows:
        rate = r["others"] / r["seconds"]
        print(f"{r['label']:<22} {rate:>12.1f} {rate / base:>12.2f} {r['others_done']:>6}/{r['others']:<5} "
              f"{r['hot_done']:>9}/{r['hot_total']:<7} {r['calls']:>12}")


def main() -> None:
    import os

    from ticket_enricher.localkafka import LocalBroker

    os.environ.setdefault("OPENAI_API_KEY", "bench-not-secret")  # the fake model checks no key

    with tempfile.TemporaryDirectory() as tmp:
        broker = LocalBroker(Path(tmp) / "broker")
        bootstrap = broker.start(say=lambda m: None)
        try:
            asyncio.run(measure(bootstrap, Path(tmp)))
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
