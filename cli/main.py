"""`ticket-enricher`: run the worker, a local Kafka broker, the demo, and look at accounts."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from ticket_enricher.cli import (
    accounts,
    acls,
    broker,
    calibrate,
    demo,
    dlq,
    model_server,
    postgres,
    privacy,
    replay,
    sample,
    status,
)
from ticket_enricher.cli import eval as eval_cmd
from ticket_enricher.cli.common import BootstrapOpt, ConfigOpt, MemoryOpt, ModelOpt, settings_from
from ticket_enricher.cli.logs import say, setup_logging

app = typer.Typer(
    help="Enrich support-ticket events from Kafka with long-term account memory and churn tags.\n\n"
         "Quick start: `ticket-enricher demo`. Settings: config/defaults.toml, a --config file, then "
         "TICKET_ENRICHER_* environment variables (e.g. TICKET_ENRICHER_KAFKA__BOOTSTRAP_SERVERS).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(broker.app, name="broker")
app.add_typer(postgres.app, name="postgres")
app.add_typer(model_server.app, name="model-server")
app.add_typer(accounts.app, name="accounts")
app.add_typer(dlq.app, name="dlq")
topics_app = typer.Typer(help="Kafka topics named in the configuration.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.command("demo")(demo.demo)
app.command("sample")(sample.sample)
app.command("replay")(replay.replay)
app.command("forget")(privacy.forget)
app.command("export")(privacy.export)
app.command("status")(status.status)
app.command("acls")(acls.acls)
app.command("eval")(eval_cmd.evaluate)
app.command("calibrate")(calibrate.calibrate)


@topics_app.command("create")
def topics_create(config: ConfigOpt = None, bootstrap_servers: BootstrapOpt = None) -> None:
    """Create every topic the configuration names (input, output, dead-letter). Safe to run again."""
    from ticket_enricher.consumers.operations.topics import create_topics

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
    processes: Annotated[int, typer.Option(
        "--processes", "-p", min=1,
        help="Worker processes to start, all members of one consumer group (use up to the CPU cores; more "
             "members than partitions leaves some idle).")] = 1,
    max_in_flight: Annotated[int | None, typer.Option(
        help="Events processed at once per process, in order per account (setting: worker.max_in_flight).",
        min=1, show_default=False)] = None,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
    log_format: Annotated[str | None, typer.Option(
        help="text or json (one object per line); setting: ops.log_format.", show_default=False)] = None,
    http_port: Annotated[int | None, typer.Option(
        help="Port of /metrics, /healthz and /readyz, 0 = off; member i of --processes uses port + i "
             "(setting: ops.http_port, default 9464).", min=0, max=65535, show_default=False)] = None,
) -> None:
    """Run workers: members of the consumer group that enriches `support.tickets`.

    Start several (--processes, here or on other machines) to scale out; Kafka spreads the partitions over them.
    On SIGTERM or Ctrl-C each stops fetching, finishes its in-flight events (worker.drain_timeout_seconds),
    commits and leaves the group.
    """
    from ticket_enricher.cli.members import serve, supervise
    from ticket_enricher.core.errors import EnricherError

    settings = settings_from(config, bootstrap_servers, memory, model)
    if max_in_flight is not None:
        settings = settings.model_copy(update={"worker": settings.worker.model_copy(
            update={"max_in_flight": max_in_flight,
                    "max_buffered": max(settings.worker.max_buffered, max_in_flight)})})
    if log_format is not None or http_port is not None:
        if log_format not in (None, "text", "json"):
            raise typer.BadParameter("--log-format is text or json")
        settings = settings.model_copy(update={"ops": settings.ops.model_copy(update={
            k: v for k, v in {"log_format": log_format, "http_port": http_port}.items() if v is not None})})
    setup_logging(log_level, settings.ops.log_format)
    if processes > 1:
        raise typer.Exit(supervise(settings, log_level, processes))
    try:
        asyncio.run(serve(settings))
    except EnricherError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    say("worker stopped", settings.ops.log_format)


def main() -> None:
    """The console script: a Kafka connection failure anywhere ends in one clear line, not a traceback."""
    from aiokafka.errors import KafkaError

    from ticket_enricher.core.errors import EnricherError

    try:
        app()
    except KafkaError as exc:
        typer.echo(f"error: Kafka: {exc}\n(check kafka.bootstrap_servers, kafka.security_protocol, kafka.sasl_* "
                   "and the KAFKA_SASL_PASSWORD environment variable)", err=True)
        raise SystemExit(2) from None
    except EnricherError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
