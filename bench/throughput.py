"""Throughput of one worker process, side by side in one run, on a local broker it starts.

Model-bound: 2,000 events of 200 accounts (10 each, interleaved) on 3 partitions; the fake OpenAI-compatible
server (its own process, bench/fake_llm.py) answers every chat completion in a fixed 200 ms and each event takes
two completions (search + add a note, then the summary), so one event needs at least L = 0.4 s. The bound for
N events in flight is min(N, accounts) / L. Configurations:

* stock FastStream subscriber (max_workers=1), at-least-once (ack after the handler)
* stock FastStream max_workers=64, at-least-once: FastStream then runs one consumer per partition
* stock FastStream max_workers=64, ack-first: concurrent, but offsets are committed before the work is done and
  one account's events may run at once and out of order (the "order violations" column counts both)
* ours (consumers/engine/ordered.py) at N = 16, 64, 256

The stock runs are cut after --stock-seconds (at 2.5 events/s, 2,000 events would take 13 minutes); their rate
is measured over the events they finished.

Offline backfill: 10,000 events of 500 accounts through the whole pipeline with the rules model, on the SQLite
store and on PostgreSQL (a local server started for the run from the machine's binaries, default settings,
fsync on, over loopback TCP), beside a raw aiokafka consume → produce pass-through of the same topic
(idempotent producer, commit per batch): the cost of Kafka alone.

Each configuration runs in a fresh process (its own consumer group, output topic and memory file), so RSS is
that configuration's. Run: `.venv/bin/python -m bench.throughput` (about 3 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from config.settings import Settings, load_settings
from consumers.engine.records import Record
from core.events import Ticket, TicketEvent

LATENCY = 0.2
TURNS = 2
PARTITIONS = 3
MODEL_CONFIGS = ["stock", "stock-mw64", "stock-mw64-ackfirst", "ours-16", "ours-64", "ours-256"]
OFFLINE_CONFIGS = ["offline-64", "offline-64-postgres", "passthrough"]


def events(accounts: int, per_account: int) -> list[TicketEvent]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        TicketEvent(event_id=f"ev-{a}-{i}", type="ticket.created", occurred_at=start + timedelta(minutes=i),
                    account_id=f"acct-{a}",
                    ticket=Ticket(id=f"t-{a}-{i}", subject="Dashboard down again", priority="high",
                                  body="The outage is back and our team cannot work.", channel="email"))
        for i in range(per_account) for a in range(accounts)
    ]


# -- one configuration, in a child process ----------------------------------------------------------------------


class Meter:
    """Wraps the ticket handler: counts completions, their span, and per-account overlaps and inversions."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.first_start: float | None = None
        self.last_done = 0.0
        self.running: set[bytes | None] = set()
        self.last_seq: dict[bytes | None, int] = {}
        self.violations = 0
        self.finished = asyncio.Event()

    def wrap(self, handler: Any) -> Any:
        async def measured(record: Record) -> object:
            self.first_start = self.first_start or time.perf_counter()
            key, seq = record.key, int(json.loads(record.value or b"{}")["event_id"].rsplit("-", 1)[1])
            if key in self.running:
                self.violations += 1  # two events of one account at once
            self.running.add(key)
            try:
                result = await handler(record)
            finally:
                self.running.discard(key)
            if seq < self.last_seq.get(key, -1):
                self.violations += 1  # an older event of the account finished after a newer one
            self.last_seq[key] = max(seq, self.last_seq.get(key, -1))
            self.done += 1
            self.last_done = time.perf_counter()
            if self.done >= self.total:
                self.finished.set()
            return result

        return measured


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def child_settings(args: argparse.Namespace, tmp: Path, n: int) -> Settings:
    run = uuid.uuid4().hex[:8]
    model = {"name": "fake", "base_url": args.llm + "/v1"} if args.llm else {"name": ""}
    return load_settings(
        kafka={"bootstrap_servers": args.bootstrap, "group_id": f"bench-{args.config}-{run}",
               "client_id": f"bench-{args.config}"},
        topics={"tickets": args.topic, "enriched": f"e-{run}", "dlq": f"d-{run}", "partitions": PARTITIONS},
        memory={"path": tmp / "memory.db", **({"backend": "postgres", "dsn": args.dsn} if args.dsn else {})},
        model=model,
        worker={"max_in_flight": n, "max_buffered": max(1000, 4 * n)},
    )


async def run_ours(settings: Settings, meter: Meter) -> dict[str, Any]:
    """The whole worker (its deletion consumer and delay tiers idle beside it), the ticket handler metered."""
    from consumers.lifespan import lifespan
    from consumers.worker import Worker

    async with lifespan(settings) as deps:
        make = deps.consumer

        def metered(**options: Any) -> Any:
            if options["group"] == deps.routes.tickets.group:
                options["handler"] = meter.wrap(options["handler"])
            return make(**options)

        deps.consumer = metered  # type: ignore[method-assign]
        async with Worker(settings, deps) as worker:
            await meter.finished.wait()
            return {"peak_in_flight": worker.tickets.peak_in_flight}


async def raw_body(message: Any) -> bytes:
    return bytes(message.body or b"")


async def run_stock(settings: Settings, meter: Meter, max_workers: int, ack_first: bool) -> dict[str, Any]:
    from faststream import AckPolicy
    from faststream.kafka import KafkaBroker
    from faststream.kafka.annotations import KafkaMessage

    from consumers.flows.provenance import arrival
    from consumers.lifespan import lifespan

    async with lifespan(settings) as deps:  # for the flow, publisher and store; no consumer of ours runs
        flow = deps.ticket_flow()
        broker = KafkaBroker(settings.kafka.bootstrap_servers, client_id=settings.kafka.client_id)

        async def handle(record: Record) -> object:
            return await flow.handle(*arrival(record))

        measured = meter.wrap(handle)

        @broker.subscriber(settings.topics.tickets, group_id=settings.kafka.group_id, auto_offset_reset="earliest",
                           ack_policy=AckPolicy.ACK_FIRST if ack_first else AckPolicy.NACK_ON_ERROR,
                           max_workers=max_workers, decoder=raw_body)
        async def on_ticket(body: bytes, message: KafkaMessage) -> None:
            await measured(Record.from_kafka(message.raw_message))

        await broker.start()
        try:
            await meter.finished.wait()
        finally:
            await broker.stop()
    return {}


async def run_passthrough(settings: Settings, meter: Meter) -> dict[str, Any]:
    """Consume, produce each record to another topic (idempotent, acks=all), commit per batch."""
    consumer = AIOKafkaConsumer(settings.topics.tickets, bootstrap_servers=settings.kafka.bootstrap_servers,
                                group_id=settings.kafka.group_id, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, acks="all",
                                enable_idempotence=True, linger_ms=5)
    await consumer.start()
    await producer.start()
    try:
        while meter.done < meter.total:
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            futures = [await producer.send(settings.topics.enriched, r.value, key=r.key)
                       for records in batches.values() for r in records]
            meter.first_start = meter.first_start or (time.perf_counter() if futures else None)
            await asyncio.gather(*futures)
            if futures:
                await consumer.commit()
                meter.done += len(futures)
                meter.last_done = time.perf_counter()
    finally:
        await producer.stop()
        await consumer.stop()
    return {}


async def child(args: argparse.Namespace) -> None:
    import logging

    logging.basicConfig(level=getattr(logging, os.environ.get("BENCH_LOG", "ERROR")))
    kind, _, n_text = args.config.partition("-")
    n = int(n_text) if kind == "ours" else 64
    with tempfile.TemporaryDirectory() as tmp:
        settings = child_settings(args, Path(tmp), n)
        from consumers.operations.topics import create_topics

        await create_topics(settings)
        meter = Meter(args.events)
        if kind == "stock":
            runner = run_stock(settings, meter, 1 if args.config == "stock" else 64, args.config.endswith("ackfirst"))
        elif kind == "passthrough":
            runner = run_passthrough(settings, meter)
        else:
            runner = run_ours(settings, meter)
        extra: dict[str, Any] = {}
        try:
            extra = await asyncio.wait_for(runner, args.max_seconds) or {}
        except TimeoutError:
            pass  # a time-boxed run: the rate is over the events it finished
        span = (meter.last_done - meter.first_start) if meter.first_start and meter.done > 1 else float("nan")
        current, peak = rss_mb()
        print(json.dumps({"config": args.config, "done": meter.done, "seconds": span,
                          "rate": meter.done / span if span == span and span > 0 else 0.0,
                          "violations": meter.violations, "rss_mb": current, "peak_rss_mb": peak, **extra}))


# -- the run: broker, fake model, topics, children, table -------------------------------------------------------


async def publish(bootstrap: str, topic: str, batch: list[TicketEvent]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
    for _ in range(100):
        if topic in await admin.list_topics():
            break
        await asyncio.sleep(0.1)
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    for e in batch:
        await producer.send(topic, e.model_dump_json().encode(), key=e.account_id.encode())
    await producer.flush()
    await producer.stop()


def run_child(config: str, bootstrap: str, topic: str, total: int, llm: str | None, max_seconds: float,
              tree: Path | None = None, dsn: str | None = None) -> dict[str, Any]:
    """One configuration in a fresh process: of this checkout, or of the checkout `tree` (its own .venv), so
    that two versions of the code run against the same broker, model and topics in one run."""
    python = str(tree / ".venv" / "bin" / "python") if tree else sys.executable
    cmd = [python, "-m", "bench.throughput", "--child", "--config", config, "--bootstrap", bootstrap,
           "--topic", topic, "--events", str(total), "--max-seconds", str(max_seconds)]
    if llm:
        cmd += ["--llm", llm]
    if dsn:
        cmd += ["--dsn", dsn]
    env = os.environ | {"OPENAI_API_KEY": "bench-not-secret"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=max_seconds + 120, cwd=tree)
    if out.returncode != 0:
        raise SystemExit(f"{config} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", help=argparse.SUPPRESS)
    parser.add_argument("--topic", help=argparse.SUPPRESS)
    parser.add_argument("--llm", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, default=2000, help=argparse.SUPPRESS)
    parser.add_argument("--max-seconds", type=float, default=300.0, help=argparse.SUPPRESS)
    parser.add_argument("--stock-seconds", type=float, default=30.0, help="time box for each stock run")
    parser.add_argument("--offline-events", type=int, default=10_000)
    parser.add_argument("--only", nargs="*", help="run only these configurations")
    parser.add_argument("--baseline", type=Path, help="another checkout (with its own .venv) to run each of our "
                                                      "configurations with too, right after ours: before/after")
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args))
        return

    from localkafka import LocalBroker
    from localpostgres import LocalPostgres

    with tempfile.TemporaryDirectory() as tmp:
        broker = LocalBroker(Path(tmp) / "broker")
        bootstrap = broker.start(say=lambda m: None)
        Path(tmp).chmod(0o755)  # PostgreSQL may run as the postgres user, who must reach its data dir
        postgres = LocalPostgres(Path(tmp) / "postgres")
        fake = subprocess.Popen([sys.executable, "-m", "bench.fake_llm", "--latency", str(LATENCY)],
                                stdout=subprocess.PIPE, text=True)
        try:
            llm_url = (fake.stdout.readline() if fake.stdout else "").strip()
            model_events, offline_events = events(200, 10), events(500, args.offline_events // 500)
            asyncio.run(publish(bootstrap, "bench-model", model_events))
            asyncio.run(publish(bootstrap, "bench-offline", offline_events))
            results = []
            for config in MODEL_CONFIGS:
                if args.only and config not in args.only:
                    continue
                box = args.stock_seconds if config.startswith("stock") else 300.0
                results.append(run_child(config, bootstrap, "bench-model", len(model_events), llm_url, box))
                if args.baseline and config.startswith("ours"):
                    before = run_child(config, bootstrap, "bench-model", len(model_events), llm_url, box,
                                       args.baseline)
                    results.append(before | {"config": f"{config} (before)"})
            for config in OFFLINE_CONFIGS:
                if args.only and config not in args.only:
                    continue
                name = "passthrough" if config == "passthrough" else "ours-64"
                dsn = None
                if config == "offline-64-postgres":
                    postgres.start(say=lambda m: None)
                    dsn = postgres.create_database("bench_offline")
                r = run_child(name, bootstrap, "bench-offline", len(offline_events), None, 300.0, dsn=dsn)
                results.append(r | {"config": config})
                if args.baseline and config == "offline-64":
                    before = run_child(name, bootstrap, "bench-offline", len(offline_events), None, 300.0,
                                       args.baseline)
                    results.append(before | {"config": f"{config} (before)"})
        finally:
            fake.terminate()
            fake.wait(timeout=10)
            broker.stop()
            postgres.stop()
    report(results)


def report(results: list[dict[str, Any]]) -> None:
    by = {r["config"]: r for r in results}
    stock = by.get("stock", {}).get("rate")
    print(f"model-bound: 200 accounts, 2,000 events, {PARTITIONS} partitions, {TURNS} completions x "
          f"{LATENCY * 1000:.0f} ms per event (L = {TURNS * LATENCY:.1f} s)")
    print(f"{'configuration':24} {'events':>7} {'ev/s':>8} {'bound':>7} {'of bound':>9} {'x stock':>8} "
          f"{'peak N':>7} {'order viol.':>11} {'peak RSS MB':>12}")
    for config in [c for name in MODEL_CONFIGS for c in (name, f"{name} (before)")]:
        r = by.get(config)
        if r is None:
            continue
        n = int(config.split("-")[1].split()[0]) if config.startswith("ours") else (1 if config == "stock" else 64)
        bound = min(n, 200) / (TURNS * LATENCY)
        print(f"{config:24} {r['done']:>7} {r['rate']:>8.1f} {bound:>7.1f} {r['rate'] / bound:>8.1%} "
              f"{(r['rate'] / stock if stock else float('nan')):>7.1f}x {r.get('peak_in_flight', '-'):>7} "
              f"{r['violations']:>11} {r['peak_rss_mb']:>12.0f}")
    if any(config in by for config in OFFLINE_CONFIGS):
        print("\noffline backfill: 10,000 events of 500 accounts, rules model, N = 64; offline-64 on the SQLite "
              "store, offline-64-postgres on PostgreSQL")
        base = by.get("passthrough", {}).get("rate")
        for config in [c for name in OFFLINE_CONFIGS for c in (name, f"{name} (before)")]:
            r = by.get(config)
            if r is None:
                continue
            ratio = f"{r['rate'] / base:.1%} of pass-through" if base else ""
            print(f"{config:24} {r['done']:>7} {r['rate']:>8.0f} ev/s  {ratio:24} order viol. {r['violations']}"
                  f"  peak RSS {r['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
