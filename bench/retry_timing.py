"""Delayed retries on a real broker: how late, and what a 429 storm costs everyone else.

1. Lateness per tier: every event's first model call answers 429 with `Retry-After` equal to one tier's delay;
   the delay consumer reports when it started each retry against its due time. Goals: never early (also checked
   against the fake server's own clock: no retry before Retry-After has passed), p99 lateness ≤ max(10 % of the
   delay, 1 s).
2. A 429 storm: 10 of 50 accounts are refused (Retry-After 3 s) for the first 6 s. The throughput of the other
   40 accounts is compared with a no-storm baseline in the same run (goal ≥ 95 %), and wasted model calls (429
   answers per processed event) with and without the adaptive limiter.

Uses the fake OpenAI-compatible server from ticket_enricher.testing (5 ms per completion) and a local broker it starts.
Run: `.venv/bin/python -m bench.retry_timing`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.engine.clients import KafkaClients, close, opened, started
from ticket_enricher.consumers.operations.topics import create_topics
from ticket_enricher.consumers.worker import Worker
from ticket_enricher.core.events import TicketEvent
from ticket_enricher.localkafka import LocalBroker
from ticket_enricher.samples import generate
from ticket_enricher.samples.publish import publish_events
from ticket_enricher.testing.openai_server import FakeOpenAI, diligent, ticket_of

TIERS = [1, 3, 6]


def settings_for(bootstrap: str, tmp: Path, llm: FakeOpenAI, *, limiter: bool) -> Settings:
    run = uuid.uuid4().hex[:8]
    return load_settings(
        kafka={"bootstrap_servers": bootstrap, "group_id": f"bench-{run}"},
        topics={"tickets": f"t-{run}", "enriched": f"e-{run}", "dlq": f"d-{run}"},
        memory={"path": tmp / f"{run}.db"}, model={"name": "fake", "base_url": llm.url + "/v1"},
        retry={"tiers_seconds": TIERS, "max_attempts": 8, "limiter": limiter},
    )


def one_event_per_account(n: int, seed: int) -> list[TicketEvent]:
    stream = generate(seed=seed, accounts=n)
    first: dict[str, TicketEvent] = {}
    for e in stream.events:
        first.setdefault(e.account_id, e)
    return list(first.values())


async def run(settings: Settings, events: list[TicketEvent]) -> tuple[dict[str, float], Worker]:
    """Publish, run one worker until every event has an output; returns event_id -> processed_at (epoch s)."""
    await create_topics(settings)
    clients = KafkaClients.from_settings(settings)
    async with opened(clients.producer("bench", linger_ms=5)) as producer:
        await publish_events(producer, settings.topics.tickets, events)
    done: dict[str, float] = {}
    reader = clients.consumer("bench-reader", auto_offset_reset="earliest", enable_auto_commit=True,
                              group_id=f"{settings.kafka.group_id}-reader")
    reader.subscribe([settings.topics.enriched])
    await started(reader)
    async with Worker(settings) as worker:
        deadline = time.monotonic() + 180
        while len(done) < len(events) and time.monotonic() < deadline:
            for records in (await reader.getmany(timeout_ms=200)).values():
                for r in records:
                    out = json.loads(r.value)
                    done[out["event_id"]] = datetime.fromisoformat(out["processed_at"]).timestamp()
        await asyncio.sleep(0.5)  # the last retry's bookkeeping follows its output
    await close(reader)
    return done, worker


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def lateness(bootstrap: str, tmp: Path) -> None:
    llm = FakeOpenAI().start()
    llm.script = diligent
    events = one_event_per_account(90, seed=71)
    wait_of = {(e.ticket.id, e.occurred_at.isoformat()): TIERS[i % len(TIERS)] for i, e in enumerate(events)}
    refused: dict[tuple[str, str], float] = {}
    early: list[float] = []
    lock = threading.Lock()

    def refuse(body: dict[str, Any]) -> dict[str, str] | None:
        data = ticket_of(body)
        key = (data["ticket_id"], data["occurred_at"])
        with lock:
            if key not in refused:
                refused[key] = time.time()
                return {"Retry-After": str(wait_of[key])}
            if len(body["messages"]) == 2:  # the retry's first call
                early.append(time.time() - refused[key] - wait_of[key])
        return None

    llm.refuse = refuse
    done, worker = await run(settings_for(bootstrap, tmp, llm, limiter=False), events)
    llm.stop()
    print(f"1. lateness of delayed processing vs due time ({len(done)}/{len(events)} events, each retried once)")
    print(f"   {'tier':>6} {'n':>4} {'p50':>8} {'p99':>8} {'bound':>8} {'p99/bound':>9}")
    for tier in TIERS:
        late = [ms for topic, ms in worker.delays.lateness_ms if topic.endswith(f".delay.{tier}s")]
        bound = max(0.1 * tier * 1000, 1000)
        print(f"   {tier:>5}s {len(late):>4} {pct(late, .5):>6.0f}ms {pct(late, .99):>6.0f}ms {bound:>6.0f}ms "
              f"{pct(late, .99) / bound:>9.2f}")
    print(f"   earliest retry vs the server's Retry-After: {min(early) * 1000:+.0f} ms (never early if ≥ 0); "
          f"min lateness vs due: {min(ms for _, ms in worker.delays.lateness_ms)} ms")


async def storm(bootstrap: str, tmp: Path) -> None:
    stream = generate(seed=72, accounts=50)
    events = stream.events[:400]
    accounts = sorted({e.account_id for e in events})
    stormy = set(accounts[:10])
    calm = [e for e in events if e.account_id not in stormy]
    results = {}
    for label, storming, limiter in (("baseline (no storm)", False, True), ("storm, no limiter", True, False),
                                     ("storm, with limiter", True, True)):
        llm = FakeOpenAI().start()
        llm.script = diligent
        llm.latency_seconds = 0.005
        started = time.time()
        refusals = [0]
        account_of = {(e.ticket.id, e.occurred_at.isoformat()): e.account_id for e in events}

        def refuse(body: dict[str, Any], storming: bool = storming, started: float = started,
                   refusals: list[int] = refusals, account_of: dict[tuple[str, str], str] = account_of,
                   ) -> dict[str, str] | None:
            data = ticket_of(body)
            if storming and account_of[(data["ticket_id"], data["occurred_at"])] in stormy \
                    and time.time() - started < 6:
                refusals[0] += 1
                return {"Retry-After": "3"}
            return None

        llm.refuse = refuse
        done, worker = await run(settings_for(bootstrap, tmp, llm, limiter=limiter), events)
        llm.stop()
        calm_end = max(done[e.event_id] for e in calm)
        results[label] = (len(calm) / (calm_end - started), refusals[0] / max(1, len(done)), len(done))
    base = results["baseline (no storm)"][0]
    print(f"2. 429 storm: 10 of 50 accounts refused (Retry-After 3 s) for 6 s; {len(events)} events, "
          f"{len(calm)} of unaffected accounts")
    print(f"   {'run':<22} {'unaffected ev/s':>15} {'vs baseline':>11} {'429s per processed event':>25}")
    for label, (rate, wasted, n) in results.items():
        print(f"   {label:<22} {rate:>15.1f} {rate / base:>10.0%} {wasted:>25.3f}   ({n} processed)")


async def only_storm() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        broker = LocalBroker(Path(tmp) / "broker")
        bootstrap = broker.start(say=lambda m: None)
        try:
            await storm(bootstrap, Path(tmp))
        finally:
            broker.stop()


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        broker = LocalBroker(Path(tmp) / "broker")
        bootstrap = broker.start(say=lambda m: None)
        try:
            await lateness(bootstrap, Path(tmp))
            await storm(bootstrap, Path(tmp))
        finally:
            broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
