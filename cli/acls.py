"""`ticket-enricher acls`: the least-privilege ACLs of every principal, printed, or created on the broker."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ticket_enricher.cli.common import BootstrapOpt, ConfigOpt, settings_from


def acls(
    apply: Annotated[bool, typer.Option("--apply", help="Create them on the broker (needs an administrator's "
                                                        "Alter on the cluster); without it, only print them.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per ACL instead of a table.")] = False,
    config: ConfigOpt = None,
    bootstrap_servers: BootstrapOpt = None,
) -> None:
    """The ACLs each principal needs, and no more: the worker, ticket producers, privacy requesters, operators.

    Principals come from the [acls] settings (e.g. TICKET_ENRICHER_ACLS__WORKER=User:svc-enricher); topics and
    groups from the routes. Run it as an administrator after `topics create`; running it again is harmless. The
    broker needs an authorizer (KRaft: StandardAuthorizer) for ACLs to mean anything; see README, "Security model".
    """
    from ticket_enricher.consumers.operations.acls import apply as create
    from ticket_enricher.consumers.operations.acls import bindings

    settings = settings_from(config, bootstrap_servers)
    wanted = bindings(settings)
    if as_json:
        for binding in wanted:
            typer.echo(json.dumps(binding.as_json()))
    else:
        table = Table(title="allow, from any host")
        for column in ("principal", "resource", "name", "pattern", "operation"):
            table.add_column(column, overflow="fold")
        for b in wanted:
            table.add_row(b.principal, b.resource, b.name, b.pattern, b.operation)
        Console().print(table)
    if apply:
        created = asyncio.run(create(settings, wanted))
        typer.echo(f"applied {created} ACLs for {len({b.principal for b in wanted})} principals", err=True)
