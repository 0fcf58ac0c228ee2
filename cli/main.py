"""`ticket-enricher`: run the worker, a local Kafka broker, the demo, and look at accounts."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from cli import accounts, broker, demo, dlq, sample
from cli.common import BootstrapOpt, ConfigOpt, MemoryOpt, ModelOpt, settings_from
from cli.logs import setup_logging

app = typer.Typer(
    help="Enrich support-ticket events from Kafka with long-term account memory and churn tags.\n\n"
         "Quick start: `ticket-enricher demo`. Settings: config/defaults.toml, a --config file, then "
         "TICKET_ENRICHER_* environment variables (e.g. TICKET_ENRICHER_KAFKA__BOOTSTRAP_SERVERS).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(broker.app, name="broker")
app.add_typer(accounts.app, name="accounts")
app.add_typer(dlq.app, name="dlq")
topics_app = typer.Typer(help="Kafka topics named in the configuration.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.command("demo")(demo.demo)
app.command("sample")(sample.sample)


@topics_app.command("create")
def topics_create(config: ConfigOpt = None, bootstrap_servers: BootstrapOpt = None) -> None:
    """Create every topic the configuration names (input, output, dead-letter). Safe to run again."""
    from consumers.topics import create_topics

    settings = settings_from(config, bootstrap_servers)
    created, existing = asyncio.run(create_topics(settings))
    for name in created:
        typer.echo(f"created  {name} ({settings.topics.partitions} partitions)")
    for name in existing:
        typer.echo(f"exists   {name}")


@app.command()
def run(
    config: ConfigOpt = None,
    bootstrap_servers: BootstrapOpt = None,
    memory: MemoryOpt = None,
    model: ModelOpt = None,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Run one worker: a member of the consumer group that enriches `support.tickets`.

    Start several (here or on other machines) to scale out; Kafka spreads the partitions over them.
    Stops cleanly on SIGTERM or Ctrl-C.
    """
    from consumers.worker import Worker

    settings = settings_from(config, bootstrap_servers, memory, model)
    setup_logging(log_level)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with Worker(settings):
            typer.echo(
                f"worker running: group {settings.kafka.group_id!r}, {settings.topics.tickets} -> "
                f"{settings.topics.enriched}, memory "
                f"{'mem0' if settings.memory.backend == 'mem0' else Path(settings.memory.path)}, "
                f"model {settings.model.name or 'rules (offline)'}", err=True,
            )
            await stop.wait()
        typer.echo("worker stopped", err=True)

    from consumers.topics import MissingTopics
    from core.errors import EnricherError
    from memory.factory import MemoryConfigError

    try:
        asyncio.run(serve())
    except (MissingTopics, MemoryConfigError, EnricherError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


if __name__ == "__main__":
    app()
