"""Throughput and latency of the worker, side by side in one run, on a local broker it starts.

Model-bound: 2,000 events of 200 accounts (10 each, interleaved) on 3 partitions; the fake OpenAI-compatible
server (its own process, bench/fake_llm.py) answers every chat completion in a fixed 200 ms and each event takes
two completions (search + add a note, then the summary), so one event needs at least L = 0.4 s. The bound for
N events in flight is min(N, accounts) / L. Configurations:

* stock FastStream subscriber (max_workers=1), at-least-once (ack after the handler)
* stock FastStream max_workers=64, at-least-once: FastStream then runs one consumer per partition
* stock FastStream max_workers=64, ack-first: concurrent, but offsets are committed before the work is done and
  one account's events may run at once and out of order (the "order violations" column counts both)
* ours (consumers/engine/ordered.py) at N = 16, 64, 256
* ours-256 x2: two worker processes in one consumer group (what `ticket-enricher run --processes 2` starts),
  N = 256 each; the events are published once both members hold their partitions, so no rebalance is measured

The stock runs are cut after --stock-seconds (at 2.5 events/s, 2,000 events would take 13 minutes); their rate
is measured over the events they finished.

Skewed keys, open loop: 500 events published on a schedule (25 events/s for 20 s) while the worker runs, keyed
by 1,000 accounts, once uniformly and once Zipf-distributed (s = 1.1: the top account files 18 % of tickets,
the top ten 53 %), ours-64 on the model. Latency is from each event's intended send instant (in a header
the publisher stamps before it sends) to its completion, so a publisher or broker that falls behind cannot hide
the wait. An account's events run one at a time in order, so the top account (offered 4.5 events/s, served at
most 1 / L = 2.5/s) builds a queue; the figures show what that costs the other accounts.

Offline backfill: 30,000 events of 500 accounts through the whole pipeline with the rules model (batch mode),
on the SQLite store, on PostgreSQL (a local server started for the run from the machine's binaries, default
settings, fsync on, over loopback TCP) and on Zipf-distributed keys (1,000 accounts), beside a raw aiokafka
consume -> produce pass-through of the same topic (idempotent producer, acks=all, commit per batch): the cost
of Kafka alone.

Each configuration runs in fresh processes (their own consumer group, output topic and memory file), so RSS is
that configuration's; `--baseline DIR` runs our closed-loop rows with another checkout (its own .venv) too.
Run: `.venv/bin/python -m bench.throughput` (about 6 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from config.settings import Settings, load_settings
from consumers.engine.records import Record
from core.events import Ticket, TicketEvent

LATENCY = 0.2
TURNS = 2
PARTITIONS = 3
MODEL_ACCOUNTS = 200
INTENDED = "bench-intended"  # header: the instant (epoch seconds) the publisher meant to send the event
MODEL_CONFIGS = ["stock", "stock-mw64", "stock-mw64-ackfirst", "ours-16", "ours-64", "ours-256", "ours-256x2"]
SKEW_CONFIGS = ["uniform-64", "zipf-64"]
OFFLINE_CONFIGS = ["offline", "offline-postgres", "offline-zipf", "passthrough"]
SKEW = {"events": 500, "rate": 25.0, "accounts": 1000, "s": 1.1}
ZIPF_ACCOUNTS = 1000


def ticket_event(account: int, seq: int, start: datetime) -> TicketEvent:
    return TicketEvent(event_id=f"ev-{account}-{seq}", type="ticket.created",
                       occurred_at=start + timedelta(minutes=seq), account_id=f"acct-{account}",
                       ticket=Ticket(id=f"t-{account}-{seq}", subject="Dashboard down again", priority="high",
                                     body="The outage is back and our team cannot work.", channel="email"))


def events(accounts: int, per_account: int) -> list[TicketEvent]:
    """Uniform and interleaved: every account's first event, then every account's second, ..."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [ticket_event(a, i, start) for i in range(per_account) for a in range(accounts)]


def zipf_accounts(n: int, accounts: int, s: float, seed: int = 7) -> list[int]:
    """`n` account indexes drawn with P(rank k) ~ 1 / k^s; index 0 is the top account."""
    weights = [1 / (k ** s) for k in range(1, accounts + 1)]
    return random.Random(seed).choices(range(accounts), weights=weights, k=n)


def keyed_events(order: list[int]) -> list[TicketEvent]:
    """Events for the given sequence of accounts, each account's own events numbered in order."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    seen: dict[int, int] = {}
    out = []
    for account in order:
        seq = seen[account] = seen.get(account, -1) + 1
        out.append(ticket_event(account, seq, start))
    return out


def uniform_accounts(n: int, accounts: int, seed: int = 7) -> list[int]:
    return random.Random(seed).choices(range(accounts), k=n)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# -- one configuration, in a child process ----------------------------------------------------------------------


@dataclass
class Meter:
    """Wraps the ticket handler (one record or a batch): counts completions, their span (wall clock, comparable
    across processes), per-account overlaps and inversions, and latency from each record's intended send time."""

    total: int
    hot_key: bytes | None = None
    done: int = 0
    first_start: float | None = None
    last_done: float = 0.0
    violations: int = 0
    running: set[bytes | None] = field(default_factory=set)
    last_seq: dict[bytes | None, int] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"hot": [], "others": []})
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    cpu_first: float = 0.0  # this process's CPU time (all threads) when the first event started ...
    cpu_last: float = 0.0  # ... and when the last one finished

    def _started(self) -> None:
        if self.first_start is None:
            self.first_start, self.cpu_first = time.time(), time.process_time()

    def _completed(self, record: Record, now: float) -> None:
        key, seq = record.key, int(json.loads(record.value or b"{}")["event_id"].rsplit("-", 1)[1])
        if seq < self.last_seq.get(key, -1):
            self.violations += 1  # an older event of the account finished after a newer one
        self.last_seq[key] = max(seq, self.last_seq.get(key, -1))
        intended = next((v for k, v in record.headers if k == INTENDED), None)
        if intended is not None:
            self.latencies["hot" if key == self.hot_key else "others"].append(now - float(intended))
        self.done += 1
        self.last_done, self.cpu_last = now, time.process_time()
        if self.done >= self.total:
            self.finished.set()

    def wrap(self, handler: Any) -> Any:
        async def measured(record: Record) -> object:
            self._started()
            if record.key in self.running:
                self.violations += 1  # two events of one account at once
            self.running.add(record.key)
            try:
                result = await handler(record)
            finally:
                self.running.discard(record.key)
            self._completed(record, time.time())
            return result

        return measured

    def wrap_batch(self, handler: Any) -> Any:
        async def measured(records: list[Record]) -> object:
            self._started()
            result = await handler(records)
            now = time.time()
            for record in records:
                self._completed(record, now)
            return result

        return measured

    def latency(self) -> dict[str, list[float]]:
        every = self.latencies["hot"] + self.latencies["others"]
        return {name: values for name, values in (("all", every), *self.latencies.items())}


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def child_settings(args: argparse.Namespace, tmp: Path, n: int) -> Settings:
    run = uuid.uuid4().hex[:8]
    model = {"name": "fake", "base_url": args.llm + "/v1"} if args.llm else {"name": ""}
    group = args.group or f"bench-{args.config}-{run}"
    enriched = args.enriched or f"e-{run}"
    return load_settings(
        kafka={"bootstrap_servers": args.bootstrap, "group_id": group, "client_id": f"bench-{args.config}"},
        topics={"tickets": args.topic, "enriched": enriched, "dlq": f"d-{enriched}", "partitions": PARTITIONS},
        memory={"path": Path(args.memory) if args.memory else tmp / "memory.db",
                **({"backend": "postgres", "dsn": args.dsn} if args.dsn else {})},
        model=model,
        worker={"max_in_flight": n, "max_buffered": max(1000, 4 * n)},
    )


async def announce_assignment(consumer: Any, stop: asyncio.Event) -> None:
    """Prints `assigned [partitions]` each time the member's assignment changes (the parent waits for it)."""
    last: list[int] | None = None
    while not stop.is_set():
        now = sorted(tp.partition for tp in consumer.assignment()) if consumer is not None else []
        if now != last:
            print("assigned " + json.dumps(now), flush=True)
            last = now
        await asyncio.sleep(0.05)


async def run_ours(settings: Settings, meter: Meter) -> dict[str, Any]:
    """The whole worker (its deletion consumer and delay tiers idle beside it), the ticket handler metered."""
    from consumers.lifespan import lifespan
    from consumers.worker import Worker

    async with lifespan(settings) as deps:
        make = deps.consumer

        def metered(**options: Any) -> Any:
            if options["group"] == deps.routes.tickets.group:
                options["handler"] = meter.wrap(options["handler"])
                if options.get("batch_handler") is not None:
                    options["batch_handler"] = meter.wrap_batch(options["batch_handler"])
            return make(**options)

        deps.consumer = metered  # type: ignore[method-assign]
        async with Worker(settings, deps) as worker:
            watch = asyncio.ensure_future(announce_assignment(worker.tickets._consumer, meter.finished))
            try:
                await meter.finished.wait()
            finally:
                watch.cancel()
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
        while meter.done < meter.total and not meter.finished.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            futures = [await producer.send(settings.topics.enriched, r.value, key=r.key)
                       for records in batches.values() for r in records]
            if futures:
                meter._started()
            await asyncio.gather(*futures)
            if futures:
                await consumer.commit()
                meter.done += len(futures)
                meter.last_done, meter.cpu_last = time.time(), time.process_time()
    finally:
        await producer.stop()
        await consumer.stop()
    return {}


async def child(args: argparse.Namespace) -> None:
    import logging

    logging.basicConfig(level=getattr(logging, os.environ.get("BENCH_LOG", "ERROR")))
    kind, _, n_text = args.config.partition("-")
    n = int(n_text.split("x")[0]) if kind in {"ours", "uniform", "zipf"} else 64
    with tempfile.TemporaryDirectory() as tmp:
        settings = child_settings(args, Path(tmp), n)
        from consumers.operations.topics import create_topics

        await create_topics(settings)
        meter = Meter(args.events, hot_key=args.hot_key.encode() if args.hot_key else None)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, meter.finished.set)  # a member of several
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
                          "first_start": meter.first_start, "last_done": meter.last_done,
                          "rate": meter.done / span if span == span and span > 0 else 0.0,
                          "violations": meter.violations, "rss_mb": current, "peak_rss_mb": peak,
                          "cpu_seconds": meter.cpu_last - meter.cpu_first,
                          "latency": meter.latency(), **extra}))


# -- the run: broker, fake model, topics, children, table -------------------------------------------------------


async def create_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
        for _ in range(100):
            if topic in await admin.list_topics():
                break
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


async def publish(bootstrap: str, topic: str, batch: list[TicketEvent], rate: float | None = None) -> None:
    """All at once (`rate` None: a backlog), or on a schedule of `rate` events/s, each stamped with the instant
    it was meant to go out: a send that runs late keeps its intended time (no coordinated omission)."""
    await create_topic(bootstrap, topic)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20 if rate is None else 0)
    await producer.start()
    try:
        start = time.time()
        for i, e in enumerate(batch):
            headers = []
            if rate is not None:
                intended = start + i / rate
                if (ahead := intended - time.time()) > 0:
                    await asyncio.sleep(ahead)
                headers = [(INTENDED, repr(intended).encode())]
            await producer.send(topic, e.model_dump_json().encode(), key=e.account_id.encode(), headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


@dataclass
class Run:
    """What every child of one run shares: the broker, the fake model's URL, the PostgreSQL DSN if any."""

    bootstrap: str
    llm: str
    tmp: Path
    dsn: str | None = None
    others: dict[str, int] = field(default_factory=dict)  # the fake model's and the broker's pids, for their CPU


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc; 0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class OthersCpu:
    """The CPU the fake model and the broker spent during one row: on this 2-core machine they share the
    cores with the members, so a row's rate is bounded by the sum of everyone's CPU per event."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.start = {name: cpu_seconds(pid) for name, pid in run.others.items()}

    def spent(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) - self.start[name] for name, pid in self.run.others.items()}


async def start_child(config: str, run: Run, topic: str, total: int, *, llm: bool, max_seconds: float,
                      tree: Path | None = None, dsn: str | None = None, group: str | None = None,
                      enriched: str | None = None, memory: Path | None = None,
                      hot_key: str | None = None) -> asyncio.subprocess.Process:
    """One member in a fresh process: of this checkout, or of the checkout `tree` (its own .venv), so that two
    versions of the code run against the same broker, model and topics in one run (closed-loop rows only: an
    older checkout's child knows only these first flags)."""
    python = str(tree / ".venv" / "bin" / "python") if tree else sys.executable
    cmd = [python, "-m", "bench.throughput", "--child", "--config", config, "--bootstrap", run.bootstrap,
           "--topic", topic, "--events", str(total), "--max-seconds", str(max_seconds)]
    if llm:
        cmd += ["--llm", run.llm]
    if dsn:
        cmd += ["--dsn", dsn]
    for flag, value in (("--group", group), ("--enriched", enriched), ("--memory", memory),
                        ("--hot-key", hot_key)):
        if value is not None:
            cmd += [flag, str(value)]
    env = os.environ | {"OPENAI_API_KEY": "bench-not-secret"}
    return await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=env, cwd=tree)


class Member:
    """A running child: its latest assignment, and its result line once it ends."""

    def __init__(self, process: asyncio.subprocess.Process, config: str) -> None:
        self.process, self.config = process, config
        self.assigned: list[int] = []
        self.result: dict[str, Any] | None = None
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode().strip()
            if line.startswith("assigned "):
                self.assigned = json.loads(line.removeprefix("assigned "))
            elif line.startswith("{"):
                self.result = json.loads(line)

    async def finish(self, timeout: float) -> dict[str, Any]:
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        await self.reader
        if self.result is None:
            stderr = (await self.process.stderr.read()).decode() if self.process.stderr else ""
            raise SystemExit(f"{self.config} failed:\n{stderr[-3000:]}")
        return self.result


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def closed_loop(config: str, run: Run, topic: str, total: int, *, llm: bool, max_seconds: float,
                      tree: Path | None = None, dsn: str | None = None) -> dict[str, Any]:
    """One member over a backlog published beforehand; it stops when it has finished `total` events."""
    others = OthersCpu(run)
    member = Member(await start_child(config, run, topic, total, llm=llm, max_seconds=max_seconds, tree=tree,
                                      dsn=dsn), config)
    return await member.finish(max_seconds + 120) | {"others_cpu_seconds": others.spent()}


class OutputCount:
    """How many events the output topic holds (its end offsets; the worker creates it with PARTITIONS)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)

    async def __aenter__(self) -> OutputCount:
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def count(self) -> int:
        try:
            ends = await self.consumer.end_offsets([TopicPartition(self.topic, p) for p in range(PARTITIONS)])
        except Exception:  # noqa: BLE001  # not created yet
            return 0
        return sum(ends.values())


async def members_run(config: str, run: Run, events_: list[TicketEvent], *, members: int, rate: float | None,
                      max_seconds: float, hot_key: str | None = None) -> dict[str, Any]:
    """`members` processes in one group on a fresh topic, published (at `rate`, or all at once) only once they
    hold every partition between them; stopped once the output topic holds an enriched event for every input."""
    tag = uuid.uuid4().hex[:8]
    topic, group, enriched = f"bench-{config}-{tag}", f"bench-{config}-{tag}", f"e-{config}-{tag}"
    await create_topic(run.bootstrap, topic)
    memory = run.tmp / f"{config}-{tag}.db"  # one store for the group, as on one host
    one = config.split("x")[0]
    others = OthersCpu(run)
    started = [Member(await start_child(one, run, topic, 10**9, llm=True, max_seconds=max_seconds, group=group,
                                        enriched=enriched, memory=memory, hot_key=hot_key), config)
               for _ in range(members)]

    def settled() -> bool:
        held = [p for m in started for p in m.assigned]
        return sorted(held) == list(range(PARTITIONS)) and all(m.assigned for m in started[:PARTITIONS])

    try:
        await until(settled, 120, f"{config}: every partition assigned")
        await asyncio.sleep(1.0)  # a last rebalance would show as a changed assignment; none is expected
        await until(settled, 30, f"{config}: a settled group")
        async with OutputCount(run.bootstrap, enriched) as output:
            await publish(run.bootstrap, topic, events_, rate)
            deadline = time.monotonic() + max_seconds
            while await output.count() < len(events_) and time.monotonic() < deadline:
                await asyncio.sleep(0.25)
    finally:
        for m in started:
            if m.process.returncode is None:
                m.process.send_signal(signal.SIGTERM)
    results = [await m.finish(60) for m in started]
    first = min(r["first_start"] for r in results if r["first_start"])
    last = max(r["last_done"] for r in results)
    done = sum(r["done"] for r in results)
    latency = {k: [v for r in results for v in r["latency"][k]] for k in results[0]["latency"]}
    return {"config": config, "done": done, "seconds": last - first, "rate": done / (last - first),
            "violations": sum(r["violations"] for r in results),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
            "peak_in_flight": "+".join(str(r.get("peak_in_flight", "-")) for r in results), "latency": latency,
            "members": members, "cpu_seconds": sum(r.get("cpu_seconds", float("nan")) for r in results),
            "others_cpu_seconds": others.spent()}


async def run_all(args: argparse.Namespace) -> Saved:
    from localkafka import LocalBroker
    from localpostgres import LocalPostgres

    def wanted(config: str) -> bool:
        return not args.only or config in args.only

    results = Saved(args.save)
    with tempfile.TemporaryDirectory() as tmp:
        broker = LocalBroker(Path(tmp) / "broker")
        bootstrap = broker.start(say=lambda m: None)
        Path(tmp).chmod(0o755)  # PostgreSQL may run as the postgres user, who must reach its data dir
        postgres = LocalPostgres(Path(tmp) / "postgres")
        fake = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.fake_llm", "--latency",
                                                    str(LATENCY), stdout=asyncio.subprocess.PIPE)
        try:
            assert fake.stdout is not None
            run = Run(bootstrap, (await fake.stdout.readline()).decode().strip(), Path(tmp),
                      others={"model": fake.pid, "broker": broker.status().pid or 0})
            model_events = events(MODEL_ACCOUNTS, 10)
            per = args.offline_events // 500
            offline_events = events(500, per)
            zipf_offline = keyed_events(zipf_accounts(500 * per, ZIPF_ACCOUNTS, SKEW["s"]))
            await publish(bootstrap, "bench-model", model_events)
            if any(wanted(c) for c in OFFLINE_CONFIGS):
                await publish(bootstrap, "bench-offline", offline_events)
            if wanted("offline-zipf"):
                await publish(bootstrap, "bench-offline-zipf", zipf_offline)
            for config in MODEL_CONFIGS:
                if not wanted(config):
                    continue
                say(f"running {config}")
                if config.endswith("x2"):
                    results.append(await members_run(config, run, model_events, members=2, rate=None,
                                                     max_seconds=300))
                    continue
                box = args.stock_seconds if config.startswith("stock") else 300.0
                results.append(await closed_loop(config, run, "bench-model", len(model_events), llm=True,
                                                 max_seconds=box))
                if args.baseline and config.startswith("ours"):
                    before = await closed_loop(config, run, "bench-model", len(model_events), llm=True,
                                               max_seconds=box, tree=args.baseline)
                    results.append(before | {"config": f"{config} (before)"})
            for config in SKEW_CONFIGS:
                if not wanted(config):
                    continue
                say(f"running {config}")
                draw = zipf_accounts if config.startswith("zipf") else uniform_accounts
                skewed = keyed_events(draw(SKEW["events"], SKEW["accounts"], **(
                    {"s": SKEW["s"]} if config.startswith("zipf") else {})))
                results.append(await members_run(config, run, skewed, members=1, rate=SKEW["rate"],
                                                 max_seconds=300, hot_key="acct-0"))
            for config in OFFLINE_CONFIGS:
                if not wanted(config):
                    continue
                say(f"running {config}")
                name = "passthrough" if config == "passthrough" else "ours-64"
                dsn = None
                if config == "offline-postgres":
                    postgres.start(say=lambda m: None)
                    dsn = postgres.create_database("bench_offline")
                topic = "bench-offline-zipf" if config == "offline-zipf" else "bench-offline"
                r = await closed_loop(name, run, topic, len(offline_events), llm=False, max_seconds=300, dsn=dsn)
                results.append(r | {"config": config})
                if args.baseline and config == "offline":
                    before = await closed_loop(name, run, topic, len(offline_events), llm=False, max_seconds=300,
                                               tree=args.baseline)
                    results.append(before | {"config": f"{config} (before)"})
            if wanted("peer") and (Path(__file__).parent / "peer.py").exists():
                say("running the peer (bench/peer.py)")
                from bench.peer import peer_rows

                rows = await asyncio.to_thread(peer_rows, bootstrap)  # it runs its own event loops
                results.extend(r | {"config": f"peer:{r['config']}"} for r in rows)
        finally:
            fake.terminate()
            await fake.wait()
            broker.stop()
            postgres.stop()
    return results


class Saved(list):  # type: ignore[type-arg]
    """The rows so far, also written to `path` after each one (a failure late in a long run loses nothing:
    `--report PATH` prints them)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def append(self, row: dict[str, Any]) -> None:
        super().append(row)
        self.path.write_text(json.dumps(list(self)))

    def extend(self, rows: Any) -> None:
        for row in rows:
            self.append(row)


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", help=argparse.SUPPRESS)
    parser.add_argument("--topic", help=argparse.SUPPRESS)
    parser.add_argument("--llm", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--group", help=argparse.SUPPRESS)
    parser.add_argument("--enriched", help=argparse.SUPPRESS)
    parser.add_argument("--memory", help=argparse.SUPPRESS)
    parser.add_argument("--hot-key", help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, default=2000, help=argparse.SUPPRESS)
    parser.add_argument("--max-seconds", type=float, default=300.0, help=argparse.SUPPRESS)
    parser.add_argument("--stock-seconds", type=float, default=30.0, help="time box for each stock run")
    parser.add_argument("--offline-events", type=int, default=30_000)
    parser.add_argument("--only", nargs="*", help="run only these configurations: " + ", ".join(
        MODEL_CONFIGS + SKEW_CONFIGS + OFFLINE_CONFIGS + ["peer"]))
    parser.add_argument("--save", type=Path, default=Path(tempfile.gettempdir()) / "bench-throughput.json",
                        help="where the rows are written as they come (default: %(default)s)")
    parser.add_argument("--report", type=Path, help="print the table of rows saved by an earlier run, and stop")
    parser.add_argument("--baseline", type=Path, help="another checkout (with its own .venv) to run each of our "
                                                      "closed-loop configurations with too, right after ours")
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args))
        return
    if args.report:
        report(json.loads(args.report.read_text()), args.offline_events)
        return
    report(asyncio.run(run_all(args)), args.offline_events)


def cpu_ms(row: dict[str, Any], whose: str = "ours", scale: float = 1.0) -> str:
    """CPU per finished event in ms (`scale` 1000: µs): the members' own, or the fake model's or broker's."""
    spent = row.get("cpu_seconds") if whose == "ours" else row.get("others_cpu_seconds", {}).get(whose)
    if spent is None or spent != spent or not row.get("done"):
        return "-"
    return f"{spent / row['done'] * 1000 * scale:.2f}" if scale == 1 else f"{spent / row['done'] * 1e6:.0f}"


def report(results: list[dict[str, Any]], offline_events: int) -> None:
    by = {r["config"]: r for r in results}
    stock = by.get("stock", {}).get("rate")
    if any(c in by for c in MODEL_CONFIGS):
        print(f"model-bound: {MODEL_ACCOUNTS} accounts, 2,000 events, {PARTITIONS} partitions, {TURNS} completions"
              f" x {LATENCY * 1000:.0f} ms per event (L = {TURNS * LATENCY:.1f} s)")
        print(f"{'configuration':24} {'events':>7} {'ev/s':>8} {'bound':>7} {'of bound':>9} {'x stock':>8} "
              f"{'peak N':>9} {'order viol.':>11} {'peak RSS MB':>12} {'CPU ms/ev: ours':>16} {'model':>6} "
              f"{'broker':>6}")
    for config in [c for name in MODEL_CONFIGS for c in (name, f"{name} (before)")]:
        r = by.get(config)
        if r is None:
            continue
        n = int(config.split("-")[1].split()[0].split("x")[0]) if config.startswith("ours") else (
            1 if config == "stock" else 64)
        bound = min(n * r.get("members", 1), MODEL_ACCOUNTS) / (TURNS * LATENCY)
        print(f"{config:24} {r['done']:>7} {r['rate']:>8.1f} {bound:>7.1f} {r['rate'] / bound:>8.1%} "
              f"{(r['rate'] / stock if stock else float('nan')):>7.1f}x {r.get('peak_in_flight', '-'):>9} "
              f"{r['violations']:>11} {r['peak_rss_mb']:>12.0f} {cpu_ms(r):>16} {cpu_ms(r, 'model'):>6} "
              f"{cpu_ms(r, 'broker'):>6}")
    if any(c in by for c in SKEW_CONFIGS):
        print(f"\nskewed keys, open loop: {SKEW['events']} events at {SKEW['rate']:.0f}/s over {SKEW['accounts']:,}"
              f" accounts, ours-64 on the model; latency (s) from the intended send instant, p50 / p99")
        print(f"{'configuration':24} {'events':>7} {'all':>15} {'top account':>15} {'the others':>15} "
              f"{'top share':>10} {'order viol.':>11} {'peak RSS MB':>12}")
        for config in SKEW_CONFIGS:
            r = by.get(config)
            if r is None:
                continue
            lat = r["latency"]
            cell = lambda v: f"{percentile(v, 50):6.2f} / {percentile(v, 99):5.2f}" if v else f"{'-':>15}"  # noqa: E731
            share = len(lat["hot"]) / max(1, len(lat["all"]))
            print(f"{config:24} {r['done']:>7} {cell(lat['all']):>15} {cell(lat['hot']):>15} "
                  f"{cell(lat['others']):>15} {share:>10.1%} {r['violations']:>11} {r['peak_rss_mb']:>12.0f}")
    if any(c in by for c in OFFLINE_CONFIGS):
        print(f"\noffline backfill: {offline_events:,} events, rules model, batch mode; offline on the SQLite store "
              f"(500 accounts), offline-postgres on PostgreSQL, offline-zipf on {ZIPF_ACCOUNTS:,} Zipf-keyed "
              f"accounts (s = {SKEW['s']})")
        base = by.get("passthrough", {}).get("rate")
        for config in [c for name in OFFLINE_CONFIGS for c in (name, f"{name} (before)")]:
            r = by.get(config)
            if r is None:
                continue
            ratio = f"{r['rate'] / base:.1%} of pass-through" if base else ""
            print(f"{config:24} {r['done']:>7} {r['rate']:>8.0f} ev/s  {ratio:24} order viol. {r['violations']}"
                  f"  peak RSS {r['peak_rss_mb']:.0f} MB  CPU/ev ours {cpu_ms(r, scale=1000)} us, broker "
                  f"{cpu_ms(r, 'broker', scale=1000)} us")
    peers = [r for r in results if r["config"].startswith("peer:")]
    if peers:
        from bench.peer import report_peer

        print()
        report_peer([r | {"config": r["config"].removeprefix("peer:")} for r in peers])


if __name__ == "__main__":
    main()
