"""`ticket-enricher replay`: backfill a time window of ticket events, with progress, resumable, idempotent."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ticket_enricher.cli.common import BootstrapOpt, ConfigOpt, MemoryOpt, ModelOpt, settings_from
from ticket_enricher.config.settings import Settings

if TYPE_CHECKING:
    from aiokafka import TopicPartition

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 date or time (UTC unless it says otherwise), or an age such as `90m`, `36h`, `7d`."""
    if match := _RELATIVE.match(text.strip()):
        amount, unit = match.groups()
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: float(amount)})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is neither an ISO 8601 time (2026-11-01, 2026-11-01T08:00:00Z) "
                                 "nor an age (90m, 36h, 7d)") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


_LABELS = {
    "processed": "processed", "already_done": "skipped as already done", "forgotten": "forgotten subject",
    "dead_lettered": "dead-lettered", "delayed": "delayed (the worker's delay tiers retry them)",
    "outside_accounts": "outside --accounts", "skipped_unknown_type": "unknown type", "skipped": "unknown type",
    "would_process": "would process", "would_dead_letter": "would dead-letter",
}


def replay(
    since: Annotated[str, typer.Option(help="Start of the window: ISO 8601 (UTC unless stated) or an age "
                                            "(7d, 36h).", show_default=False)],
    until: Annotated[str | None, typer.Option(help="End of the window, excluded; default: the end of the topic "
                                                   "when the replay starts.", show_default=False)] = None,
    accounts: Annotated[str | None, typer.Option(help="Only these account ids, comma-separated.",
                                                 show_default=False)] = None,
    group: Annotated[str | None, typer.Option(help="The replay's consumer group; default "
                                                   "<group_id>.replay.<since>-<until>, so a rerun resumes.",
                                              show_default=False)] = None,
    rate: Annotated[float, typer.Option(help="At most this many events per second through the agent "
                                             "(0 = no limit).", min=0)] = 0.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be processed; write and "
                                                            "commit nothing.")] = False,
    processes: Annotated[int, typer.Option(
        "--processes", "-p", min=1,
        help="Processes to spread the window's partitions over (use up to the CPU cores; at most one per "
             "partition with events). --rate is for them all.")] = 1,
    budget: Annotated[int | None, typer.Option(
        "--budget", min=1, show_default=False,
        help="Model tokens per minute this replay may spend, inside the group's budget (default: "
             "budget.replay_share of budget.group_tokens_per_minute, so the live stream keeps the rest).")] = None,
    config: ConfigOpt = None,
    bootstrap_servers: BootstrapOpt = None,
    memory: MemoryOpt = None,
    model: ModelOpt = None,
) -> None:
    """Run past ticket events through the agent again (a backfill), in a consumer group of its own.

    Reads each partition from the first event at or after --since up to --until (or the end offsets at start)
    and stops there. Events already processed by the current model and rules are skipped; events of forgotten
    subjects stay forgotten. Ctrl-C finishes the events in flight and commits; the same command resumes, with
    any --processes. Exit code 0 when finished, 130 when interrupted, 1 when a replay process failed. With a
    model, calls stay within the group's budget (budget.*) and the replays' share of it (--budget); an event over
    it goes to the worker's delay tiers, not counted as an attempt.
    """
    from ticket_enricher.consumers.flows.replay import check_group, default_group
    from ticket_enricher.core.errors import LiveGroup

    settings = settings_from(config, bootstrap_servers, memory, model)
    if budget is not None:
        if not settings.model.name:
            typer.echo("note: --budget bounds model calls; the offline rules model makes none", err=True)
        settings = settings.model_copy(update={"budget": settings.budget.model_copy(
            update={"replay_tokens_per_minute": budget})})
    start, end = parse_when(since), parse_when(until) if until else None
    if end is not None and end <= start:
        raise typer.BadParameter("--until must be after --since")
    name = group or default_group(settings, start, end)
    try:
        check_group(settings, name)
    except LiveGroup as exc:
        raise typer.BadParameter(str(exc)) from exc
    wanted = frozenset(a.strip() for a in (accounts or "").split(",") if a.strip())
    report = asyncio.run(run_replay(settings, name, start, end, wanted, rate, dry_run, processes))
    raise typer.Exit(0 if report.finished else 1 if report.failed else 130)


@dataclass(frozen=True)
class ReplayReport:
    finished: bool
    total: int
    outcomes: dict[str, int]
    tagged: int
    processes: int = 1
    failed: str | None = None  # why a replay process failed (the others were stopped)
    seconds: float = 0.0  # from the call to the summary, planning and start-up included
    working_seconds: float = 0.0  # from the moment every reader had started to the summary


@dataclass
class Outcome:
    """What one reader (this process, or one replay process) did over its partitions."""

    finished: bool = False
    outcomes: Counter[str] = field(default_factory=Counter)
    tagged: int = 0

    def add(self, other: Outcome) -> None:
        self.outcomes.update(other.outcomes)
        self.tagged += other.tagged


async def replay_partitions(settings: Settings, group: str, bounds: dict[TopicPartition, tuple[int, int]], *,
                            accounts: frozenset[str], rate: float, dry_run: bool, role: str,
                            interrupted: asyncio.Event, outcome: Outcome, progress: Callable[[int], None],
                            ready: Callable[[], None] = lambda: None) -> None:
    """Replay exactly `bounds` (partition -> start, stop) in `group`'s name, with clients named
    `<client_id>-<role>`, until done or `interrupted` (then the events in flight finish and are committed).
    `outcome` is filled in also when this raises; `progress` is told the count done every 0.2 s."""
    from ticket_enricher.consumers.flows.replay import ReplayFlow, wait_or_interrupt
    from ticket_enricher.consumers.lifespan import lifespan, with_group

    async with lifespan(settings, role=role, replay=True) as deps:
        flow = ReplayFlow(deps.ticket_flow(with_group(settings.routes().tickets, group)), accounts=accounts,
                          dry_run=dry_run, rate=rate)
        consumer = deps.bounded(group=group, bounds=bounds, handler=flow.handle, commit=not dry_run,
                                # whole fetches at once, unless paced: a paced batch would hold an interrupt
                                batch_handler=flow.handle_batch if flow.whole_batches else None)
        await consumer.start()
        ready()

        async def refresh() -> None:
            while True:
                progress(flow.tally.done + consumer.skipped_done)
                await asyncio.sleep(0.2)

        run = asyncio.ensure_future(consumer.run_to_end())
        refresher = asyncio.ensure_future(refresh())
        try:
            outcome.finished = await wait_or_interrupt(run, interrupted)
        finally:
            run.cancel()
            try:
                await consumer.stop()  # after an interrupt: the events in flight finish and are committed
            finally:
                refresher.cancel()
                outcome.outcomes = flow.tally.outcomes.copy()
                if consumer.skipped_done:
                    outcome.outcomes["already_done"] += consumer.skipped_done
                outcome.tagged = flow.tally.tagged
                progress(flow.tally.done + consumer.skipped_done)


@contextmanager
def progress_bar(console: Console, total: int) -> Iterator[Callable[[int], None]]:
    """One bar (done / total, events/s, ETA); the yielded function sets how many are done."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:.1f} ev/s"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("events", total=total, rate=0.0)
        began = time.monotonic()

        def show(done: int) -> None:
            progress.update(task, completed=done, rate=done / max(time.monotonic() - began, 1e-3))

        yield show


async def run_replay(settings: Settings, group: str, since: datetime, until: datetime | None,
                     accounts: frozenset[str] = frozenset(), rate: float = 0.0,
                     dry_run: bool = False, processes: int = 1) -> ReplayReport:
    """Plan the window once, then replay it here (`processes` 1) or spread its partitions over up to
    `processes` processes (`cli.replay_members`); print one progress bar and one summary."""
    from ticket_enricher.consumers.flows.replay import plan
    from ticket_enricher.consumers.operations.topics import check_topics

    began = time.perf_counter()
    console = Console(stderr=True)
    await check_topics(settings)
    the_plan = await plan(settings, group, since, until)
    window = f"{since:%Y-%m-%dT%H:%M:%SZ} .. {f'{until:%Y-%m-%dT%H:%M:%SZ}' if until else 'end'}"
    tickets = settings.routes().tickets
    console.print(f"replay{' (dry run)' if dry_run else ''} of {tickets.topic} {window} in group "
                  f"{group}: {the_plan.total} events in {len(the_plan.bounds)} partitions"
                  + (f" (resuming {the_plan.resumed})" if the_plan.resumed else ""))
    if the_plan.total == 0:
        console.print("nothing to replay" + (": this group already finished the window; pass another --group "
                                             "to run it again" if the_plan.resumed else ""))
        return ReplayReport(True, 0, {}, 0)
    with_work = sum(1 for start, stop in the_plan.bounds.values() if stop > start)
    if processes > with_work:
        console.print(f"--processes {processes}: only {with_work} partition{'s' * (with_work != 1)} "
                      f"{'have' if with_work != 1 else 'has'} events to replay, so {with_work} "
                      f"process{'es' * (with_work != 1)}")
        processes = with_work
    failed: str | None = None
    if processes > 1:
        from ticket_enricher.cli.replay_members import replay_in_processes

        run = await replay_in_processes(settings, group, the_plan.bounds, accounts=accounts, rate=rate,
                                        dry_run=dry_run, processes=processes, console=console)
        outcome, failed, ready_at = run.outcome, run.failed, run.ready_at
    else:
        outcome, interrupted, ready_at = Outcome(), asyncio.Event(), time.perf_counter()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, interrupted.set)
        try:
            with progress_bar(console, the_plan.total) as show:
                def ready() -> None:
                    nonlocal ready_at
                    ready_at = time.perf_counter()

                await replay_partitions(settings, group, the_plan.bounds, accounts=accounts, rate=rate,
                                        dry_run=dry_run, role="replay",  # its clients: <client_id>-replay
                                        interrupted=interrupted, outcome=outcome, progress=show, ready=ready)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    ended = time.perf_counter()
    parts = [f"{_LABELS.get(k, k)} {v}" for k, v in sorted(outcome.outcomes.items(), key=lambda kv: -kv[1]) if v]
    if outcome.tagged:
        parts.insert(1, f"tags changed on {outcome.tagged}")
    state = "failed" if failed else "finished" if outcome.finished else "interrupted"
    console.print(f"{state}: " + (", ".join(parts) or "no events")
                  + (f" ({processes} processes)" if processes > 1 else ""))
    if failed:
        console.print(f"error: {failed}; rerun the same command to resume (group {group})")
    elif not outcome.finished:
        console.print(f"rerun the same command to resume (group {group})")
    return ReplayReport(outcome.finished and not failed, the_plan.total, dict(outcome.outcomes), outcome.tagged,
                        processes, failed, ended - began, ended - ready_at)
