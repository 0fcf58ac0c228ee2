"""`ticket-enricher accounts`: what the worker knows about an account."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ticket_enricher.agents.accounts import AccountReport, account_report
from ticket_enricher.cli.common import ConfigOpt, MemoryOpt, settings_from
from ticket_enricher.config.settings import Settings

app = typer.Typer(help="Accounts as the worker sees them: tags, evidence, memories.", no_args_is_help=True)


async def _load(settings: Settings, account_id: str) -> AccountReport:
    from ticket_enricher.consumers.lifespan import memory_store

    async with memory_store(settings) as store:
        return await account_report(store, account_id)


@app.command()
def show(
    account: Annotated[str, typer.Argument(help="The account id (the events' account_id).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    config: ConfigOpt = None,
    memory: MemoryOpt = None,
) -> None:
    """Show one account's tags with their evidence, and its memories, oldest first."""
    settings = settings_from(config, memory=memory)
    if settings.memory.backend == "sqlite" and not settings.memory.path.exists():
        typer.echo(f"error: no memory store at {settings.memory.path} (set --memory)", err=True)
        raise typer.Exit(1)
    report = asyncio.run(_load(settings, account))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    if not report.notes and not report.tags:
        typer.echo(f"error: no memories for account {account!r}", err=True)
        raise typer.Exit(1)
    console = Console()
    console.print(f"[bold]{report.account_id}[/]: {report.tickets} tickets, {report.events} events")
    if report.tags:
        for name, record in sorted(report.tags.items()):
            console.print(f"  [red]{name}[/] since {record.set_at:%Y-%m-%d}: {record.reason}")
            console.print(f"    evidence: {', '.join(record.evidence_memory_ids)}")
    else:
        console.print("  no tags")
    table = Table("memory id", "memory", show_lines=False)
    for note in report.notes:
        table.add_row(note.id, note.memory)
    console.print(table)
