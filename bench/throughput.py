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
that configuration's; `--baseline DIR` runs our closed-loop rows with another checkout (its own .venv) too, and
our model-bound rows once more without the records of model turns (`model.turn_record_days = 0`), so that the
records' price and the rest of the code are each compared with the baseline in one run.
Run: `.venv/bin/python -m bench.throughput` (about 6 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import NewTopic

from bench.cpu import OthersCpu
from bench.throughput_child import child
from bench.throughput_report import Saved, report
from bench.workload import (
    INTENDED,
    LATENCY,
    MODEL_ACCOUNTS,
    MODEL_CONFIGS,
    OFFLINE_CONFIGS,
    PARTITIONS,
    SKEW,
    SKEW_CONFIGS,
    ZIPF_ACCOUNTS,
    events,
    keyed_events,
    uniform_accounts,
    zipf_accounts,
)
from ticket_enricher.consumers.engine.clients import KafkaClients, close, opened, started
from ticket_enricher.core.events import TicketEvent

NO_TURN_RECORDS = {"TICKET_ENRICHER_MODEL__TURN_RECORD_DAYS": "0"}  # our rows without the records of model turns

# -- the run: broker, fake model, topics, children, table -------------------------------------------------------


async def create_topic(bootstrap: str, topic: str) -> None:
    async with opened(KafkaClients.plaintext(bootstrap, "bench").admin("setup")) as admin:
        await admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
        for _ in range(100):
            if topic in await admin.list_topics():
                break
            await asyncio.sleep(0.1)


async def publish(bootstrap: str, topic: str, batch: list[TicketEvent], rate: float | None = None) -> None:
    """All at once (`rate` None: a backlog), or on a schedule of `rate` events/s, each stamped with the instant
    it was meant to go out: a send that runs late keeps its intended time (no coordinated omission)."""
    await create_topic(bootstrap, topic)
    producer = KafkaClients.plaintext(bootstrap, "bench").producer("load", linger_ms=20 if rate is None else 0)
    async with opened(producer):
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


@dataclass
class Run:
    """What every child of one run shares: the broker, the fake model's URL, the PostgreSQL DSN if any."""

    bootstrap: str
    llm: str
    tmp: Path
    dsn: str | None = None
    others: dict[str, int] = field(default_factory=dict)  # the fake model's and the broker's pids, for their CPU


async def start_child(config: str, run: Run, topic: str, total: int, *, llm: bool, max_seconds: float,
                      tree: Path | None = None, dsn: str | None = None, group: str | None = None,
                      enriched: str | None = None, memory: Path | None = None,
                      hot_key: str | None = None, settings_env: dict[str, str] | None = None
                      ) -> asyncio.subprocess.Process:
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
    env = os.environ | {"OPENAI_API_KEY": "bench-not-secret"} | (settings_env or {})
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
                      tree: Path | None = None, dsn: str | None = None,
                      settings_env: dict[str, str] | None = None) -> dict[str, Any]:
    """One member over a backlog published beforehand; it stops when it has finished `total` events."""
    others = OthersCpu(run.others)
    member = Member(await start_child(config, run, topic, total, llm=llm, max_seconds=max_seconds, tree=tree,
                                      dsn=dsn, settings_env=settings_env), config)
    return await member.finish(max_seconds + 120) | {"others_cpu_seconds": others.spent()}


class OutputCount:
    """How many events the output topic holds (its end offsets; the worker creates it with PARTITIONS)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.clients = KafkaClients.plaintext(bootstrap, "bench")

    async def __aenter__(self) -> OutputCount:
        self.consumer = await started(self.clients.consumer("output"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await close(self.consumer)

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
    others = OthersCpu(run.others)
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
    from ticket_enricher.localkafka import LocalBroker
    from ticket_enricher.localpostgres import LocalPostgres

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
                    bare = await closed_loop(config, run, "bench-model", len(model_events), llm=True,
                                             max_seconds=box, settings_env=NO_TURN_RECORDS)
                    results.append(bare | {"config": f"{config} (no turn records)"})
                    before = await closed_loop(config, run, "bench-model", len(model_events), llm=True,
                                               max_seconds=box, tree=args.baseline)
                    results.append(before | {"config": f"{config} (before)"})
            for config in SKEW_CONFIGS:
                if not wanted(config):
                    continue
                say(f"running {config}")
                n, accounts = SKEW["events"], SKEW["accounts"]
                skewed = keyed_events(zipf_accounts(n, accounts, SKEW["s"]) if config.startswith("zipf")
                                      else uniform_accounts(n, accounts))
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


if __name__ == "__main__":
    main()
