"""The peer bench's side in each child process: the workload, the meter, and every configuration (their
baseline, Pyrallel Consumer, our serial baseline, ours-N). Only the standard library at module level: the
children in the peer's virtualenv import this module too."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARTITIONS = 4
KEYS = 100
WORK_SECONDS = 0.005
COMMIT_EVERY = 100
PYRALLEL = "pyrallel-consumer==1.0.0"
PUBLISHED = {"baseline": 159.69, "pyrallel-async": 2206.35}  # their benchmarks/README.md, sleep workload
# As their benchmarks/pyrallel_consumer_test.py sets it up (everything else at the library's defaults).
PYRALLEL_SETTINGS = {"execution.mode": "async", "ordering_mode": "key_hash", "execution.max_in_flight": 2000,
                     "execution.async_config.task_timeout_ms": 10000, "strict_completion_monitor_enabled": True,
                     "session_timeout_ms": 6000, "auto_offset_reset": "earliest", "enable_auto_commit": False}
OURS = (16, 100, 256)
ROOT = Path(__file__).resolve().parent.parent
# pydantic-settings in the peer reads these prefixes from the environment; the children get none of them
_FOREIGN_ENV = ("KAFKA_", "EXECUTION_", "PARALLEL_CONSUMER_", "PROCESS_", "METRICS_", "TICKET_ENRICHER_")


# -- the workload ------------------------------------------------------------------------------------------------


def partition_of(key: bytes, partitions: int = PARTITIONS) -> int:
    """Where librdkafka's default partitioner (consistent_random: CRC32 of the key) puts a keyed message, as
    their producer did."""
    return zlib.crc32(key) % partitions


def workload(total: int, keys: int = KEYS, partitions: int = PARTITIONS) -> list[tuple[int, bytes, bytes]]:
    """(partition, key, value) for message i: key-(i mod keys), its sequence within the key, a timestamp."""
    sequences: dict[str, int] = {}
    out = []
    for i in range(total):
        key = f"key-{i % keys}"
        sequence = sequences.get(key, 0)
        sequences[key] = sequence + 1
        value = json.dumps({"key": key, "sequence": sequence, "timestamp": 1_767_225_600_000_000_000 + i})
        out.append((partition_of(key.encode(), partitions), key.encode(), value.encode()))
    return out


# -- measuring, in every child -------------------------------------------------------------------------------------


def rate(done: int, first_start: float | None, last_done: float) -> float:
    """Messages per second over first start -> last completion (0 when there is no span to measure)."""
    if first_start is None or done < 1 or last_done <= first_start:
        return 0.0
    return done / (last_done - first_start)


@dataclass
class Meter:
    """Completions per message (key, sequence): distinct ones, repeats, inversions, overlaps, and their span."""

    total: int
    done: int = 0
    repeats: int = 0  # a message completed again (a redelivery)
    inversions: int = 0  # a key's message finishing after a later message of that key had finished
    overlaps: int = 0  # a message of a key starting while another of that key runs
    peak_running: int = 0  # messages running at once, across keys
    first_start: float | None = None
    last_done: float = 0.0
    cpu_start: float = 0.0  # this process's CPU seconds (all threads) at the first start
    cpu_done: float = 0.0  # and at the last completion
    _now_running: int = 0
    _finished: set[tuple[str, int]] = field(default_factory=set)
    _highest: dict[str, int] = field(default_factory=dict)
    _running: dict[str, int] = field(default_factory=dict)
    on_complete: Callable[[], None] | None = None

    @staticmethod
    def identify(value: bytes) -> tuple[str, int]:
        payload = json.loads(value)
        return payload["key"], int(payload["sequence"])

    def start(self, key: str, sequence: int, now: float | None = None) -> None:
        if self.first_start is None:
            self.first_start = time.perf_counter() if now is None else now
            self.cpu_start = time.process_time()
        if self._running.get(key, 0):
            self.overlaps += 1
        self._running[key] = self._running.get(key, 0) + 1
        self._now_running += 1
        self.peak_running = max(self.peak_running, self._now_running)

    def finish(self, key: str, sequence: int, now: float | None = None) -> None:
        self._running[key] -= 1
        self._now_running -= 1
        if (key, sequence) in self._finished:
            self.repeats += 1
            return
        self._finished.add((key, sequence))
        if sequence < self._highest.get(key, -1):
            self.inversions += 1
        self._highest[key] = max(sequence, self._highest.get(key, -1))
        self.done += 1
        self.last_done = time.perf_counter() if now is None else now
        self.cpu_done = time.process_time()
        if self.done >= self.total and self.on_complete is not None:
            self.on_complete()

    @property
    def rate(self) -> float:
        return rate(self.done, self.first_start, self.last_done)

    def result(self) -> dict[str, Any]:
        seconds = self.last_done - self.first_start if self.first_start is not None and self.done else 0.0
        cpu_ms = 1000 * (self.cpu_done - self.cpu_start) / self.done if self.done else 0.0
        return {"done": self.done, "repeats": self.repeats, "inversions": self.inversions, "overlaps": self.overlaps,
                "peak_running": self.peak_running, "seconds": seconds, "rate": self.rate,
                "cpu_ms_per_msg": cpu_ms, "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the configurations, each in its child process ------------------------------------------------------------------


def run_baseline(args: argparse.Namespace, meter: Meter) -> dict[str, Any]:
    """Their baseline's shape, on confluent-kafka: poll one message, time.sleep(5 ms), commit every 100."""
    import confluent_kafka

    consumer = confluent_kafka.Consumer({
        "bootstrap.servers": args.bootstrap, "group.id": args.group, "auto.offset.reset": "earliest",
        "enable.auto.commit": False, "session.timeout.ms": 6000, "max.poll.interval.ms": 300000,
        "isolation.level": "read_committed"})
    consumer.subscribe([args.topic])
    deadline = time.monotonic() + args.max_seconds
    try:
        while meter.done < meter.total and time.monotonic() < deadline:
            msg = consumer.poll(timeout=1.0)
            if msg is None or msg.error() or msg.value() is None:
                continue
            key, sequence = meter.identify(msg.value())
            meter.start(key, sequence)
            msg.value().decode("utf-8")
            time.sleep(WORK_SECONDS)
            meter.finish(key, sequence)
            if meter.done % COMMIT_EVERY == 0:
                consumer.commit(asynchronous=True)
        result = meter.result()
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return result | {"client": f"confluent-kafka {confluent_kafka.__version__}, "
                               f"librdkafka {confluent_kafka.libversion()[0]}"}


async def run_pyrallel(args: argparse.Namespace, meter: Meter) -> dict[str, Any]:
    """PyrallelConsumer 1.0 through its public facade, configured as their benchmark configures it."""
    from importlib.metadata import version

    import confluent_kafka
    from pyrallel_consumer import ExecutionMode, KafkaConfig, OrderingMode, PyrallelConsumer, WorkItem

    config = KafkaConfig(BOOTSTRAP_SERVERS=[args.bootstrap], CONSUMER_GROUP=args.group,
                         AUTO_OFFSET_RESET="earliest", ENABLE_AUTO_COMMIT=False, SESSION_TIMEOUT_MS=6000)
    config.parallel_consumer.ordering_mode = OrderingMode.KEY_HASH
    config.parallel_consumer.strict_completion_monitor_enabled = True
    config.parallel_consumer.execution.mode = ExecutionMode.ASYNC
    config.parallel_consumer.execution.max_in_flight = 2000
    config.parallel_consumer.execution.async_config.task_timeout_ms = 10000
    finished = asyncio.Event()
    meter.on_complete = finished.set

    async def worker(item: WorkItem) -> None:
        payload = item.payload or b""
        key, sequence = meter.identify(payload)
        meter.start(key, sequence)
        try:
            payload.decode("utf-8")
            await asyncio.sleep(WORK_SECONDS)
        finally:
            meter.finish(key, sequence)

    consumer = PyrallelConsumer(config, worker, args.topic)
    await consumer.start()
    with contextlib.suppress(TimeoutError):  # reported with the count it reached
        await asyncio.wait_for(finished.wait(), args.max_seconds)
    result = meter.result()
    note = ""
    try:
        await asyncio.wait_for(consumer.stop(), 30)
    except Exception as exc:  # noqa: BLE001  (the figures stand; the stop is reported)
        note = f"stop failed: {type(exc).__name__}: {exc}"
    return result | {"client": f"pyrallel-consumer {version('pyrallel-consumer')}, confluent-kafka "
                               f"{confluent_kafka.__version__}, librdkafka {confluent_kafka.libversion()[0]}",
                     **({"note": note} if note else {})}


async def run_ours_baseline(args: argparse.Namespace, meter: Meter) -> dict[str, Any]:
    """The serial shape on aiokafka: one record at a time, the 5 ms handler awaited, commit every 100."""
    import aiokafka

    from ticket_enricher.consumers.engine.clients import KafkaClients, started

    consumer = KafkaClients.plaintext(args.bootstrap, "bench-peer").consumer(
        "baseline", group_id=args.group, auto_offset_reset="earliest", session_timeout_ms=6000)
    consumer.subscribe([args.topic])
    await started(consumer)
    try:
        async def loop() -> None:
            while meter.done < meter.total:
                record = await consumer.getone()
                key, sequence = meter.identify(record.value)
                meter.start(key, sequence)
                await asyncio.sleep(WORK_SECONDS)
                meter.finish(key, sequence)
                if meter.done % COMMIT_EVERY == 0:
                    await consumer.commit()

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(loop(), args.max_seconds)
        result = meter.result()
        await consumer.commit()
    finally:
        await consumer.stop()
    return result | {"client": f"aiokafka {aiokafka.__version__}"}


async def run_ours(args: argparse.Namespace, meter: Meter, n: int) -> dict[str, Any]:
    """KeyOrderedConsumer as the worker builds it (`consumers.lifespan.key_ordered`), without the flows, store
    or model."""
    import aiokafka

    from ticket_enricher.config.settings import load_settings
    from ticket_enricher.consumers.engine.clients import KafkaClients
    from ticket_enricher.consumers.engine.records import Record
    from ticket_enricher.consumers.lifespan import key_ordered

    settings = load_settings(kafka={"bootstrap_servers": args.bootstrap, "group_id": args.group,
                                    "client_id": "bench-peer"},
                             worker={"max_in_flight": n, "max_buffered": max(1000, 4 * n)})
    finished = asyncio.Event()
    meter.on_complete = finished.set

    async def handler(record: Record) -> None:
        key, sequence = meter.identify(record.value or b"")
        meter.start(key, sequence)
        try:
            await asyncio.sleep(WORK_SECONDS)
        finally:
            meter.finish(key, sequence)

    consumer = key_ordered(settings, KafkaClients.from_settings(settings), group=args.group, topics=[args.topic],
                           handler=handler)  # client id bench-peer
    await consumer.start()
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), args.max_seconds)
        result = meter.result()
    finally:
        await consumer.stop()
    return result | {"client": f"aiokafka {aiokafka.__version__}", "peak_in_flight": consumer.peak_in_flight,
                     "max_buffered": settings.worker.max_buffered}


def child(args: argparse.Namespace) -> None:
    logging.basicConfig(level=getattr(logging, os.environ.get("BENCH_LOG", "ERROR")))
    meter = Meter(args.messages)
    if args.config == "baseline":
        result = run_baseline(args, meter)
    elif args.config == "pyrallel-async":
        result = asyncio.run(run_pyrallel(args, meter))
    elif args.config == "ours-baseline":
        result = asyncio.run(run_ours_baseline(args, meter))
    else:
        result = asyncio.run(run_ours(args, meter, int(args.config.split("-")[1])))
    print(json.dumps({"config": args.config, "python": sys.version.split()[0], **result}), flush=True)
