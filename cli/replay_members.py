"""`replay --processes K`: one window's partitions spread over K processes, one progress bar and one summary.

The parent plans the window once (`consumers.flows.replay.plan`) and hands each child the exact (start, stop)
offsets of its partitions, balanced by event count, so that nothing is read twice or missed whatever K is. Each
child is a whole process (own event loop, own Kafka clients named `<client_id>-replay-<i>`, own store
connection: the SQLite file is shared by the processes of one host, PostgreSQL across hosts) reading its
partitions with the same bounded reader as a one-process replay and committing in the replay's own group, so
a rerun resumes from the group's commits with any K. Children tell the parent over a multiprocessing queue
when they are ready, how many events they have done, and their outcome counts at the end.

Ctrl-C reaches the whole process group: children ignore SIGINT, and the parent relays SIGINT and SIGTERM as
SIGTERM, on which each child finishes its events in flight and commits. A child that fails (or dies) stops the
others the same way; the replay then exits 1 instead of 130.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue as queues
import signal
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ticket_enricher.cli.replay import Outcome, progress_bar, replay_partitions
from ticket_enricher.config.settings import Settings

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess
    from multiprocessing.queues import Queue

    from aiokafka import TopicPartition
    from rich.console import Console

Bounds = dict["TopicPartition", tuple[int, int]]
_JOIN_SLACK_SECONDS = 30.0  # beyond the drain timeout, for a stopped child's final commit and exit


@dataclass(frozen=True)
class Report:
    """A child's word to the parent: ready, progress (`done` so far), or its end (finished or failed)."""

    index: int
    kind: Literal["ready", "progress", "end"]
    done: int = 0
    finished: bool = False
    outcomes: dict[str, int] = field(default_factory=dict)
    tagged: int = 0
    error: str | None = None


@dataclass(frozen=True)
class MembersRun:
    outcome: Outcome
    failed: str | None  # the first child failure, if any
    ready_at: float  # perf_counter when every child had started reading


def split(bounds: Bounds, processes: int) -> list[Bounds]:
    """The partitions with events over `processes` shares, the largest first onto the lightest share."""
    shares: list[Bounds] = [{} for _ in range(processes)]
    loads = [0] * processes
    work = sorted(((tp, b) for tp, b in bounds.items() if b[1] > b[0]),
                  key=lambda kv: (kv[1][0] - kv[1][1], kv[0].topic, kv[0].partition))
    for tp, (start, stop) in work:
        i = min(range(processes), key=lambda j: (loads[j], j))
        shares[i][tp] = (start, stop)
        loads[i] += stop - start
    return [share for share in shares if share]


def _events(bounds: Bounds) -> int:
    return sum(max(0, stop - start) for start, stop in bounds.values())


async def replay_in_processes(settings: Settings, group: str, bounds: Bounds, *, accounts: frozenset[str],
                              rate: float, dry_run: bool, processes: int, console: Console) -> MembersRun:
    """Replay `bounds` in `processes` children (at most one per partition with events); `rate` is shared out
    by each child's share of the events. Each child opens the memory store itself (memory settings that cannot
    work fail there, and the replay with them; the stores migrate their schema safely side by side)."""
    shares = split(bounds, processes)
    total = _events(bounds)
    ctx = multiprocessing.get_context("spawn")
    reports: Queue[Report] = ctx.Queue()
    children = [ctx.Process(target=_child, name=f"replay-{i}", daemon=False,
                            args=(settings, group, share, accounts, rate * _events(share) / total, dry_run, i,
                                  reports))
                for i, share in enumerate(shares)]
    stopping = False

    def stop_all() -> None:
        nonlocal stopping
        stopping = True
        for p in children:
            if p.is_alive():
                p.terminate()  # SIGTERM: the child finishes its events in flight and commits

    loop = asyncio.get_running_loop()
    done, ready, ends = [0] * len(children), set[int](), dict[int, Report]()
    failed: str | None = None
    ready_at = time.perf_counter()

    def take(report: Report) -> None:
        nonlocal failed, ready_at
        if report.kind == "ready":
            ready.add(report.index)
            if len(ready) == len(children):
                ready_at = time.perf_counter()
        elif report.kind == "progress":
            done[report.index] = report.done
        else:
            ends[report.index] = report
            if report.error is not None and failed is None:
                failed = f"replay process {report.index} failed: {report.error}"

    try:
        # started with Ctrl-C ignored, which they inherit: ignored from their first instruction on, not only once
        # their imports are done (the parent relays it; a Ctrl-C in these few milliseconds is lost)
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for p in children:
                p.start()
        finally:
            signal.signal(signal.SIGINT, previous)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop_all)
        console.print(f"{len(children)} replay processes (pids {', '.join(str(p.pid) for p in children)}), "
                      "partitions " + " | ".join(",".join(str(tp.partition) for tp in sorted(share))
                                                 for share in shares))
        with progress_bar(console, total) as show:
            while len(ends) < len(children):
                for report in _drained(reports):
                    take(report)
                for i, p in enumerate(children):
                    if i in ends or p.exitcode is None:
                        continue
                    for report in _drained(reports):  # its last words are in the pipe before it exits
                        take(report)
                    if i not in ends:
                        ends[i] = Report(i, "end", done=done[i])
                        if not (stopping and p.exitcode == -signal.SIGTERM) and failed is None:
                            failed = f"replay process {i} (pid {p.pid}) exited with code {p.exitcode}"
                if failed is not None and not stopping:
                    stop_all()
                show(sum(done))
                await asyncio.sleep(0.1)
    except BaseException:
        stop_all()  # whatever went wrong here, the children finish their events in flight and commit
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await _join(children, reports, settings.worker.drain_timeout_seconds + _JOIN_SLACK_SECONDS)
    outcome = Outcome(finished=all(e.finished for e in ends.values()))
    for e in ends.values():
        outcome.add(Outcome(e.finished, Counter(e.outcomes), e.tagged))
    return MembersRun(outcome, failed, ready_at)


def _drained(reports: Queue[Report]) -> list[Report]:
    out: list[Report] = []
    while True:
        try:
            out.append(reports.get_nowait())
        except queues.Empty:
            return out


async def _join(children: Sequence[BaseProcess], reports: Queue[Report], patience: float) -> None:
    """Wait for the children to exit (reading the queue meanwhile, so none blocks on a full pipe); one still
    running after `patience` seconds is stopped, then killed."""
    deadline = time.monotonic() + patience
    while any(p.is_alive() for p in children) and time.monotonic() < deadline:
        _drained(reports)
        await asyncio.sleep(0.1)
    for p in children:
        if p.is_alive():
            p.kill()
        p.join()


def _child(settings: Settings, group: str, bounds: Bounds, accounts: frozenset[str], rate: float, dry_run: bool,
           index: int, reports: Queue[Report]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the parent relays it
    parent = os.getppid()

    def tell(report: Report) -> None:
        # once the parent is gone (killed), nobody reads the queue: a full pipe would hold this process at exit
        if os.getppid() == parent:
            reports.put(report)

    try:
        asyncio.run(_child_run(settings, group, bounds, accounts, rate, dry_run, index, tell))
    except SystemExit:
        raise
    except BaseException as exc:  # told to the parent, which stops the others and exits 1
        tell(Report(index, "end", error=f"{type(exc).__name__}: {exc}"))
        raise SystemExit(1) from exc


async def _child_run(settings: Settings, group: str, bounds: Bounds, accounts: frozenset[str], rate: float,
                     dry_run: bool, index: int, tell: Callable[[Report], None]) -> None:
    """Replay `bounds` until done or SIGTERM (the events in flight finish and are committed), telling the parent
    when ready, the count done every 0.2 s while it changes, and the outcome counts at the end."""
    interrupted = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, interrupted.set)
    outcome = Outcome()
    last = -1

    def progress(done: int) -> None:
        nonlocal last
        if done != last:
            last = done
            tell(Report(index, "progress", done=done))

    try:
        await replay_partitions(settings, group, bounds, accounts=accounts, rate=rate, dry_run=dry_run,
                                role=f"replay-{index}", interrupted=interrupted, outcome=outcome,
                                progress=progress, ready=lambda: tell(Report(index, "ready")))
    except Exception as exc:
        tell(Report(index, "end", done=last, outcomes=dict(outcome.outcomes), tagged=outcome.tagged,
                    error=f"{type(exc).__name__}: {exc}"))
        raise SystemExit(1) from exc
    tell(Report(index, "end", done=last, finished=outcome.finished, outcomes=dict(outcome.outcomes),
                tagged=outcome.tagged))
