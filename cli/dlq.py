"""`ticket-enricher dlq`: look at dead letters, send them back, or purge them."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ticket_enricher.cli.common import BootstrapOpt, ConfigOpt, settings_from
from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.engine.clients import KafkaClients
from ticket_enricher.consumers.operations.dlq_tools import DeadLetter, Selection, purge, read_dead_letters, redrive


class Flow(StrEnum):
    tickets = "tickets"
    deletions = "deletions"


app = typer.Typer(help="The dead-letter topics (one per flow: tickets, deletions): list, show, redrive, purge.",
                  no_args_is_help=True)

ReasonOpt = Annotated[str | None, typer.Option(help="Only this x-dlq-reason (e.g. schema, max_attempts).")]
AccountOpt = Annotated[str | None, typer.Option(help="Only records keyed by this account id.")]
SinceOpt = Annotated[datetime | None, typer.Option(help="Only dead-lettered at or after this time.")]
UntilOpt = Annotated[datetime | None, typer.Option(help="Only dead-lettered before this time.")]
FlowOpt = Annotated[Flow | None, typer.Option(help="Only this flow's dead-letter topic (default: both).",
                                              show_default=False)]


def _selection(reason: str | None, account: str | None, since: datetime | None,
               until: datetime | None, flow: Flow | None = None) -> Selection:
    def aware(t: datetime | None) -> datetime | None:
        return None if t is None else (t if t.tzinfo else t.astimezone())

    return Selection(reason=reason, account=account, since=aware(since), until=aware(until),
                     flow=flow.value if flow else None)


async def _collect(settings: Settings, selection: Selection) -> list[DeadLetter]:
    return [letter async for letter in read_dead_letters(settings, selection)]


@app.command("list")
def list_(reason: ReasonOpt = None, account: AccountOpt = None, since: SinceOpt = None, until: UntilOpt = None,
          flow: FlowOpt = None,
          as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
          config: ConfigOpt = None, bootstrap_servers: BootstrapOpt = None) -> None:
    """List dead letters (a snapshot up to now), with flow, reason, account, attempts and where they came from."""
    settings = settings_from(config, bootstrap_servers)
    letters = asyncio.run(_collect(settings, _selection(reason, account, since, until, flow)))
    if as_json:
        for letter in letters:
            typer.echo(json.dumps(letter.summary()))
        return
    table = Table("flow", "partition", "offset", "reason", "account", "attempts", "failed at", "error")
    for letter in letters:
        row = letter.summary()
        table.add_row(str(row["flow"]), str(row["partition"]), str(row["offset"]), str(row["reason"]),
                      str(row["account"]), str(row["attempts"]), str(row["failed_at"])[:19], str(row["error"])[:60])
    Console().print(table)
    typer.echo(f"{len(letters)} dead letters")


@app.command()
def show(partition: int, offset: int,
         flow: Annotated[Flow, typer.Option(help="Whose dead-letter topic.")] = Flow.tickets,
         config: ConfigOpt = None, bootstrap_servers: BootstrapOpt = None) -> None:
    """Show one dead letter whole: every header and the value."""
    settings = settings_from(config, bootstrap_servers)
    found = [x for x in asyncio.run(_collect(settings, Selection(flow=flow.value)))
             if x.record.partition == partition and x.record.offset == offset]
    if not found:
        typer.echo(f"error: no dead letter of {flow.value} at partition {partition} offset {offset}", err=True)
        raise typer.Exit(1)
    record = found[0].record
    typer.echo(f"key: {record.key!r}")
    for name, value in record.headers:
        typer.echo(f"{name}: {(value or b'').decode('utf-8', 'replace')}")
    typer.echo((record.value or b"").decode("utf-8", "replace"))


@app.command("redrive")
def redrive_(reason: ReasonOpt = None, account: AccountOpt = None, since: SinceOpt = None, until: UntilOpt = None,
             flow: FlowOpt = None,
             dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be sent.")] = False,
             config: ConfigOpt = None, bootstrap_servers: BootstrapOpt = None) -> None:
    """Send the selected dead letters back to their flow's input topic with a fresh attempt count."""
    from ticket_enricher.consumers.engine.publishing import KafkaPublisher

    settings = settings_from(config, bootstrap_servers)

    async def go() -> int:
        letters = await _collect(settings, _selection(reason, account, since, until, flow))
        if dry_run:
            return len(letters)
        publisher = KafkaPublisher(KafkaClients.from_settings(settings), "redrive")
        await publisher.start()
        try:
            for letter in letters:
                await redrive(publisher, letter)
        finally:
            await publisher.stop()
        return len(letters)

    count = asyncio.run(go())
    typer.echo(f"{'would redrive' if dry_run else 'redrove'} {count} dead letters")


@app.command("purge")
def purge_(before: Annotated[datetime | None, typer.Option(help="Only dead letters older than this.")] = None,
           flow: FlowOpt = None,
           yes: Annotated[bool, typer.Option("--yes", help="Really delete; without it this is a dry run.")] = False,
           config: ConfigOpt = None, bootstrap_servers: BootstrapOpt = None) -> None:
    """Delete dead letters from the topics (all, or older than --before). A dry run unless --yes."""
    settings = settings_from(config, bootstrap_servers)
    cut = None if before is None else (before if before.tzinfo else before.astimezone())
    counts = asyncio.run(purge(settings, before=cut, dry_run=not yes, flow=flow.value if flow else None))
    typer.echo(f"{'deleted' if yes else 'would delete (dry run; add --yes)'} {sum(counts.values())} dead letters")
