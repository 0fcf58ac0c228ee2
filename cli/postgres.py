"""`ticket-enricher postgres`: a local PostgreSQL from the machine's own server binaries, for dev and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ticket_enricher.localpostgres import LocalPostgres, PostgresError

app = typer.Typer(help="A local PostgreSQL (the machine's server package, e.g. Debian's `postgresql`) for "
                       "`--memory postgresql://...`; no Docker.", no_args_is_help=True)

DataDirOpt = Annotated[Path, typer.Option("--data-dir", "-d", help="Where the cluster keeps its data and log.")]
DEFAULT_DATA_DIR = Path(".ticket-enricher/postgres")


@app.command()
def start(
    port: Annotated[int | None, typer.Option("--port", "-p", help="TCP port on 127.0.0.1 (default: a free one; "
                                                                  "kept across restarts of the same data dir).")]
    = None,
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
) -> None:
    """Start PostgreSQL in the background (initdb on first use) and print its DSN once it accepts connections.

    As root it runs as the `postgres` system user (PostgreSQL refuses root), so the data dir must be reachable
    by that user."""
    try:
        dsn = LocalPostgres(data_dir, port).start(say=lambda m: typer.echo(m, err=True))
    except PostgresError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(dsn)


@app.command()
def stop(data_dir: DataDirOpt = DEFAULT_DATA_DIR) -> None:
    """Stop the PostgreSQL of this data dir (fast shutdown: open transactions are rolled back)."""
    try:
        was_running = LocalPostgres(data_dir).stop()
    except PostgresError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo("stopped" if was_running else "not running")


@app.command()
def status(data_dir: DataDirOpt = DEFAULT_DATA_DIR) -> None:
    """Say whether the PostgreSQL of this data dir runs, and its DSN. Exit code 0 if running, 3 if not."""
    state = LocalPostgres(data_dir).status()
    typer.echo(state.describe())
    if not state.running:
        raise typer.Exit(3)
