"""`ticket-enricher broker`: a local single-node Apache Kafka (KRaft) from the official jars, for dev and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ticket_enricher.localkafka import BrokerError, LocalBroker, ensure_jars

app = typer.Typer(help="A local Apache Kafka broker (KRaft, single node) from Maven Central; no Docker.",
                  no_args_is_help=True)

DataDirOpt = Annotated[Path, typer.Option("--data-dir", "-d", help="Where the broker keeps its data and logs.")]
DEFAULT_DATA_DIR = Path(".ticket-enricher/broker")


@app.command()
def start(
    port: Annotated[int | None, typer.Option("--port", "-p", help="Client port (default: a free one; kept "
                                                                  "across restarts of the same data dir).")] = None,
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    heap: Annotated[str, typer.Option(help="Java max heap.")] = "512m",
) -> None:
    """Start the broker in the background (formats the data dir on first use) and print its bootstrap address."""
    try:
        bootstrap = LocalBroker(data_dir, port, heap=heap).start(say=lambda m: typer.echo(m, err=True))
    except BrokerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(bootstrap)


@app.command()
def stop(data_dir: DataDirOpt = DEFAULT_DATA_DIR) -> None:
    """Stop the broker started from this data dir (clean shutdown, then SIGKILL after 30 s)."""
    was_running = LocalBroker(data_dir).stop()
    typer.echo("stopped" if was_running else "not running")


@app.command()
def status(data_dir: DataDirOpt = DEFAULT_DATA_DIR) -> None:
    """Say whether the broker of this data dir runs, and where. Exit code 0 if running, 3 if not."""
    state = LocalBroker(data_dir).status()
    typer.echo(state.describe())
    if not state.running:
        raise typer.Exit(3)


@app.command()
def fetch() -> None:
    """Resolve the broker jars from Maven Central into the cache now (start does it on first use)."""
    try:
        typer.echo(ensure_jars(say=lambda m: typer.echo(m, err=True)))
    except BrokerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
