"""`run`: one worker in this process, or K worker processes of one consumer group under a small supervisor.

Each member is a whole process (own event loop, own Kafka clients, own model connection pool) because one Python
process spends its CPU on parsing, JSON and the model SDK; K processes use K cores. The supervisor forwards
SIGTERM/SIGINT so every member drains and leaves the group, and stops them all when one dies unexpectedly, so
that an orchestrator sees the failure instead of a half-sized group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import typer

from ticket_enricher.cli.logs import say, setup_logging
from ticket_enricher.config.settings import Settings

if TYPE_CHECKING:
    from ticket_enricher.consumers.worker import Worker

log = logging.getLogger("ticket_enricher.members")


async def serve(settings: Settings, *, announce: bool = True) -> None:
    """Run one member until SIGTERM or SIGINT, then drain and leave the group. With `ops.http_port`, serve
    /metrics, /healthz and /readyz and keep the consumer-lag gauges current meanwhile."""
    from ticket_enricher.consumers.worker import Worker
    from ticket_enricher.core.errors import MemberFailed
    from ticket_enricher.memory.factory import describe as describe_memory

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = Worker(settings)
    async with _operations(settings, worker) as worker_started, worker:  # /healthz answers during a slow start
        worker_started()
        if announce:
            line = (f"worker running: group {settings.kafka.group_id!r}, {settings.topics.tickets} -> "
                    f"{settings.topics.enriched}, memory "
                    f"{describe_memory(settings)}, "
                    f"model {settings.model.name or 'rules (offline)'}, up to {settings.worker.max_in_flight} "
                    "events in flight"
                    + (f", endpoints on :{settings.ops.http_port}" if settings.ops.http_port else ""))
            say(line, settings.ops.log_format)
        stopped = asyncio.ensure_future(stop.wait())
        failed = asyncio.ensure_future(worker.failed())
        await asyncio.wait({stopped, failed}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        failed.cancel()
        if not stop.is_set() and failed.done() and not failed.cancelled():
            raise MemberFailed(f"a consumer stopped: {failed.result()!r}; draining and exiting")
        log.info("stopping: draining %d in-flight events (up to %.0fs)", worker.tickets.in_flight,
                 settings.worker.drain_timeout_seconds)


@contextlib.asynccontextmanager
async def _operations(settings: Settings, worker: Worker) -> AsyncIterator[Callable[[], None]]:
    """The HTTP endpoints and the lag monitor, for as long as the worker runs. Until the yielded function is called
    (the worker started), lag that cannot be read is logged at debug only: a worker that cannot reach the broker
    says so itself, in one line."""
    if settings.ops.http_port == 0:
        yield lambda: None
        return
    from ticket_enricher.consumers import metrics
    from ticket_enricher.consumers.engine.clients import KafkaClients
    from ticket_enricher.consumers.operations.endpoints import Endpoints, Readiness
    from ticket_enricher.consumers.operations.lag import LagMonitor
    from ticket_enricher.consumers.operations.status import watched_groups

    group = settings.kafka.group_id
    monitor = LagMonitor(
        KafkaClients.from_settings(settings), watched_groups(settings), settings.ops.lag_interval_seconds,
        lambda g, topic, partition, lag: metrics.CONSUMER_LAG.labels(g, topic, str(partition)).set(lag),
    )

    def readiness() -> Readiness:
        if not monitor.broker_ok():
            return Readiness(False, f"broker not answering: {monitor.last_error}")
        breaker = worker.model_breaker
        if breaker is not None and breaker.is_open:
            return Readiness(False, f"model unavailable, model work paused (probing again in "
                                    f"{breaker.retry_in():.0f}s): {breaker.reason}")
        partitions = len(worker.tickets.assignment)
        if partitions == 0:
            return Readiness(False, f"no partition of {settings.topics.tickets} assigned yet (joining, "
                                    "rebalancing, or more members than partitions)")
        return Readiness(True, f"member of {group} with {partitions} partition(s)")

    endpoints = Endpoints(settings.ops.http_host, settings.ops.http_port, readiness).start()
    monitor.quiet = True
    lag = asyncio.create_task(monitor.run(), name="lag-monitor")

    def started() -> None:
        monitor.quiet = False

    try:
        yield started
    finally:
        lag.cancel()
        await asyncio.gather(lag, return_exceptions=True)
        endpoints.stop()


def _member(settings: Settings, log_level: str, index: int) -> None:
    setup_logging(log_level, settings.ops.log_format)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the supervisor relays it
    port = settings.ops.http_port + index if settings.ops.http_port else 0  # one port per member on one host
    settings = settings.model_copy(update={
        "kafka": settings.kafka.model_copy(update={"client_id": f"{settings.kafka.client_id}-{index}"}),
        "ops": settings.ops.model_copy(update={"http_port": port}),
    })
    from aiokafka.errors import KafkaError

    from ticket_enricher.core.errors import EnricherError

    try:
        asyncio.run(serve(settings, announce=False))
    except (EnricherError, KafkaError) as exc:
        log.error("cannot start: %s", exc)
        raise SystemExit(1) from exc


def supervise(settings: Settings, log_level: str, processes: int) -> int:
    """Start `processes` members, relay SIGTERM/SIGINT to them, and return the first non-zero exit code."""
    ctx = multiprocessing.get_context("spawn")
    members = [ctx.Process(target=_member, args=(settings, log_level, i), name=f"member-{i}", daemon=False)
               for i in range(processes)]
    stopping = False

    def relay(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for p in members:
            if p.is_alive() and p.pid is not None:
                p.terminate()  # SIGTERM: the member drains and leaves the group

    previous = {sig: signal.signal(sig, relay) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for p in members:
            p.start()
        typer.echo(f"{processes} workers running in group {settings.kafka.group_id!r} "
                   f"(pids {', '.join(str(p.pid) for p in members)}); SIGTERM or Ctrl-C stops them", err=True)
        code = 0
        while any(p.is_alive() for p in members):
            for p in members:
                if not p.is_alive() and p.exitcode not in (0, None) and not stopping:
                    log.error("%s exited with code %s; stopping the others", p.name, p.exitcode)
                    code = p.exitcode if p.exitcode > 0 else 1
                    relay(signal.SIGTERM, None)
            time.sleep(0.2)
        if code == 0 and not stopping:  # every member died between two looks (none could start, say)
            code = next((p.exitcode if p.exitcode > 0 else 1 for p in members if p.exitcode not in (0, None)), 0)
        return code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
