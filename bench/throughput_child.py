"""One configuration of `bench.throughput`, in a process of its own: the worker (or a stock FastStream
subscriber, or a raw pass-through) metered per event, its figures printed as one JSON line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from bench.workload import INTENDED, PARTITIONS
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.engine.clients import KafkaClients, opened
from ticket_enricher.consumers.engine.records import Record

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


async def announce_assignment(assignment: Callable[[], set[TopicPartition]], stop: asyncio.Event) -> None:
    """Prints `assigned [partitions]` each time the member's assignment changes (the parent waits for it)."""
    last: list[int] | None = None
    while not stop.is_set():
        now = sorted(tp.partition for tp in assignment())
        if now != last:
            print("assigned " + json.dumps(now), flush=True)
            last = now
        await asyncio.sleep(0.05)


async def run_ours(settings: Settings, meter: Meter) -> dict[str, Any]:
    """The whole worker (its deletion consumer and delay tiers idle beside it), the ticket handler metered."""
    from ticket_enricher.consumers.engine.ordered import KeyOrderedConsumer
    from ticket_enricher.consumers.lifespan import Deps, lifespan
    from ticket_enricher.consumers.worker import Worker

    class Metered(Deps):
        """The lifespan's dependencies, with the ticket consumer's handlers metered."""

        def consumer(self, *, group: str, topics: Iterable[str], handler: Callable[[Record], Awaitable[object]],
                     role: str | None = None, **options: Any) -> KeyOrderedConsumer:
            if group == self.routes.tickets.group:
                handler = meter.wrap(handler)
                if options.get("batch_handler") is not None:
                    options["batch_handler"] = meter.wrap_batch(options["batch_handler"])
            return super().consumer(group=group, topics=topics, handler=handler, role=role, **options)

    async with lifespan(settings) as deps:
        metered = Metered(**{f.name: getattr(deps, f.name) for f in dataclasses.fields(deps)})
        async with Worker(settings, metered) as worker:
            watch = asyncio.ensure_future(announce_assignment(lambda: worker.tickets.assignment, meter.finished))
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

    from ticket_enricher.consumers.flows.provenance import arrival
    from ticket_enricher.consumers.lifespan import lifespan

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
    clients = KafkaClients.from_settings(settings)
    consumer = clients.consumer("passthrough", group_id=settings.kafka.group_id, auto_offset_reset="earliest")
    consumer.subscribe([settings.topics.tickets])
    async with opened(consumer), opened(clients.producer("passthrough", acks="all", enable_idempotence=True,
                                                         linger_ms=5)) as producer:
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
    return {}


async def child(args: argparse.Namespace) -> None:
    import logging

    logging.basicConfig(level=getattr(logging, os.environ.get("BENCH_LOG", "ERROR")))
    kind, _, n_text = args.config.partition("-")
    n = int(n_text.split("x")[0]) if kind in {"ours", "uniform", "zipf"} else 64
    with tempfile.TemporaryDirectory() as tmp:
        settings = child_settings(args, Path(tmp), n)
        from ticket_enricher.consumers.operations.topics import create_topics

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
        with contextlib.suppress(TimeoutError):  # a time-boxed run: the rate is over the events it finished
            extra = await asyncio.wait_for(runner, args.max_seconds) or {}
        span = (meter.last_done - meter.first_start) if meter.first_start and meter.done > 1 else float("nan")
        current, peak = rss_mb()
        print(json.dumps({"config": args.config, "done": meter.done, "seconds": span,
                          "first_start": meter.first_start, "last_done": meter.last_done,
                          "rate": meter.done / span if span == span and span > 0 else 0.0,
                          "violations": meter.violations, "rss_mb": current, "peak_rss_mb": peak,
                          "cpu_seconds": meter.cpu_last - meter.cpu_first,
                          "latency": meter.latency(), **extra}))
