"""`ticket-enricher status`: one screen for the operator: members, lag per partition, delay tiers, DLQ."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ticket_enricher.cli.common import BootstrapOpt, ConfigOpt, settings_from


def status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of tables.")] = False,
    config: ConfigOpt = None,
    bootstrap_servers: BootstrapOpt = None,
) -> None:
    """One screen: group members, lag per partition, delay tier depths, DLQ depth.

    Covers the worker's three groups (input, delay tiers, deletion requests): who holds which partitions,
    committed and end offsets, how many records wait on the dead-letter topic, and with a model (model.name) each
    member's model breaker as it last recorded it in the shared memory store (open: model work paused)."""
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
