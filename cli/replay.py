"""`ticket-enricher replay`: backfill a time window of ticket events, with progress, resumable, idempotent."""

from __future__ import annotations

import asyncio
import re
import signal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ticket_enricher.cli.common import BootstrapOpt, ConfigOpt, MemoryOpt, ModelOpt, settings_from
from ticket_enricher.config.settings import Settings

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
    config: ConfigOpt = None,
    bootstrap_servers: BootstrapOpt = None,
    memory: MemoryOpt = None,
    model: ModelOpt = None,
) -> None:
    """Run past ticket events through the agent again (a backfill), in a consumer group of its own.

    Reads each partition from the first event at or after --since up to --until (or the end offsets at start)
    and stops there. Events already processed by the current model and rules are skipped; events of forgotten
    subjects stay forgotten. Ctrl-C finishes the events in flight and commits; the same command resumes.
    """
    from ticket_enricher.consumers.flows.replay import check_group, default_group
    from ticket_enricher.core.errors import LiveGroup

    settings = settings_from(config, bootstrap_servers, memory, model)
    start, end = parse_when(since), parse_when(until) if until else None
    if end is not None and end <= start:
        raise typer.BadParameter("--until must be after --since")
    name = group or default_group(settings, start, end)
    try:
        check_group(settings, name)
    except LiveGroup as exc:
        raise typer.BadParameter(str(exc)) from exc
    wanted = frozenset(a.strip() for a in (accounts or "").split(",") if a.strip())
    report = asyncio.run(run_replay(settings, name, start, end, wanted, rate, dry_run))
    raise typer.Exit(0 if report.finished else 130)


@dataclass(frozen=True)
class ReplayReport:
    finished: bool
    total: int
    outcomes: dict[str, int]
    tagged: int


async def run_replay(settings: Settings, group: str, since: datetime, until: datetime | None,
                     accounts: frozenset[str] = frozenset(), rate: float = 0.0,
                     dry_run: bool = False) -> ReplayReport:
    from ticket_enricher.consumers.flows.replay import ReplayFlow, plan, wait_or_interrupt
    from ticket_enricher.consumers.lifespan import lifespan, with_group
    from ticket_enricher.consumers.operations.topics import check_topics

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
    async with lifespan(settings, role="replay") as deps:  # its clients: <client_id>-replay
        flow = ReplayFlow(deps.ticket_flow(with_group(tickets, group)), accounts=accounts, dry_run=dry_run,
                          rate=rate)
        consumer = deps.bounded(group=group, bounds=the_plan.bounds, handler=flow.handle, commit=not dry_run,
                                # whole fetches at once, unless paced: a paced batch would hold an interrupt
                                batch_handler=flow.handle_batch if flow.whole_batches else None)
        interrupted = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, interrupted.set)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]:.1f} ev/s"), TimeRemainingColumn())
        await consumer.start()
        finished = False
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("events", total=the_plan.total, rate=0.0)
            began = loop.time()

            def show() -> None:
                done = flow.tally.done + consumer.skipped_done
                progress.update(task, completed=done, rate=done / max(loop.time() - began, 1e-3))

            async def refresh() -> None:
                while True:
                    show()
                    await asyncio.sleep(0.2)

            run = asyncio.ensure_future(consumer.run_to_end())
            refresher = asyncio.ensure_future(refresh())
            try:
                finished = await wait_or_interrupt(run, interrupted)
            finally:
                run.cancel()
                await consumer.stop()  # after an interrupt: the events in flight finish and are committed
                refresher.cancel()
                show()
    outcomes = flow.tally.outcomes.copy()
    if consumer.skipped_done:
        outcomes["already_done"] += consumer.skipped_done
    parts = [f"{_LABELS.get(k, k)} {v}" for k, v in sorted(outcomes.items(), key=lambda kv: -kv[1]) if v]
    if flow.tally.tagged:
        parts.insert(1, f"tags changed on {flow.tally.tagged}")
    console.print(("finished: " if finished else "interrupted: ") + (", ".join(parts) or "no events"))
    if not finished:
        console.print(f"rerun the same command to resume (group {group})")
    return ReplayReport(finished, the_plan.total, dict(outcomes), flow.tally.tagged)
