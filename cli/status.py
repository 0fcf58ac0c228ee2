"""`ticket-enricher status`: one screen for the operator: members, lag per partition, delay tiers, DLQ."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from ticket_enricher.cli.common import BootstrapOpt, ConfigOpt, settings_from

if TYPE_CHECKING:
    from ticket_enricher.core.budget import Standing


def status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of tables.")] = False,
    config: ConfigOpt = None,
    bootstrap_servers: BootstrapOpt = None,
) -> None:
    """One screen: group members, lag per partition, delay tier depths, DLQ depth, the model budget.

    Covers the worker's three groups (input, delay tiers, deletion requests): who holds which partitions,
    committed and end offsets, how many records wait on the dead-letter topic, and with a model (model.name) each
    member's model breaker as it last recorded it in the shared memory store (open: model work paused). With a
    budget (budget.*), what the group spent today and has left, and the accounts that spent most."""
    from ticket_enricher.consumers.operations.status import status as read_status

    settings = settings_from(config, bootstrap_servers)
    now = asyncio.run(read_status(settings))
    if as_json:
        typer.echo(json.dumps(now.as_json()))
        return
    console = Console()
    for group in now.groups:
        members = Table("member", "host", "partitions", title=f"{group.group} ({group.state}, "
                        f"{len(group.members)} member(s), lag {group.total_lag})", title_justify="left")
        for member in group.members:
            members.add_row(member.client_id, member.host, ", ".join(member.partitions) or "-")
        console.print(members)
        lag = Table("topic", "partition", "committed", "end", "lag")
        for p in group.lag:
            lag.add_row(p.topic, str(p.partition), "-" if p.committed is None else str(p.committed), str(p.end),
                        str(p.lag))
        console.print(lag)
    for topic, depth in now.dlq_depths.items():
        console.print(f"dead-letter topic {topic}: {depth} record(s)")
    for health in now.model:
        if health.state == "open":
            console.print(f"[red]model unavailable[/] on {health.member} since {health.since}: model work paused "
                          f"(breaker open: {health.reason})")
        else:
            console.print(f"model answering on {health.member} since {health.since}")
    if now.budget is not None:
        show_budget(console, now.budget)


def show_budget(console: Console, budget: Standing) -> None:
    limits = budget.limits

    def of(spent: float, limit: float) -> str:
        return f"{spent:,.0f} of {limit:,.0f}" if limit else f"{spent:,.0f} (no limit)"

    lines = [f"model budget {budget.name!r}: today {of(budget.day_tokens, limits.day_tokens)} tokens"
             + (f", ${budget.day_usd:.4f} of ${limits.day_usd:.2f}" if limits.day_usd else "")]
    if budget.minute_left is not None:
        lines.append(f"  this minute: {max(0.0, budget.minute_left):,.0f} of {limits.minute_tokens:,.0f} tokens left")
    if budget.replay_left is not None:
        lines.append(f"  replays: {max(0.0, budget.replay_left):,.0f} tokens left this minute")
    console.print("\n".join(lines))
    if budget.accounts:
        table = Table("account", "tokens today", "of", "usd", "waiting until", title="top accounts",
                      title_justify="left")
        for account, tokens, usd, parked in budget.accounts:
            until = datetime.fromtimestamp(parked, UTC).strftime("%H:%M:%SZ") if parked else "-"
            table.add_row(account, f"{tokens:,.0f}", f"{limits.account_day_tokens:,.0f}" if limits.account_day_tokens
                          else "-", f"{usd:.4f}", until)
        console.print(table)
