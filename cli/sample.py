"""`ticket-enricher sample`: a seeded stream of realistic ticket events, printed or produced to Kafka."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from ticket_enricher.cli.common import BootstrapOpt, ConfigOpt, settings_from
from ticket_enricher.samples import generate
from ticket_enricher.samples.publish import publish_events
from ticket_enricher.samples.stream import GRADED


def sample(
    accounts: Annotated[int, typer.Option(help="How many accounts.", min=1)] = 24,
    seed: Annotated[int, typer.Option(help="Same seed, same stream.")] = 7,
    produce: Annotated[bool, typer.Option("--produce", help="Publish to the tickets topic instead of "
                                                            "printing JSON Lines.")] = False,
    labels: Annotated[Path | None, typer.Option(help="Also write the ground truth here, as `eval --labels` reads "
                                                     "it (account_id and a 0/1 column per graded tag).",
                                                dir_okay=False, show_default=False)] = None,
    config: ConfigOpt = None,
    bootstrap_servers: BootstrapOpt = None,
) -> None:
    """Generate a sample stream (accounts with known ground truth) as JSON Lines, or publish it.

    Example, a planner scored on it: ticket-enricher sample --accounts 6 --labels truth.tsv > events.jsonl;
    ticket-enricher eval --events events.jsonl --labels truth.tsv [--model NAME]"""
    stream = generate(seed=seed, accounts=accounts)
    if labels is not None:
        tags = sorted(GRADED)
        rows = [f"{account}\t" + "\t".join(str(int(t in truth)) for t in tags) for account, truth in
                sorted(stream.truth.items())]
        labels.write_text("\n".join(["account_id\t" + "\t".join(tags), *rows]) + "\n")
    if not produce:
        for event in stream.events:
            typer.echo(event.model_dump_json())
        return
    settings = settings_from(config, bootstrap_servers)

    async def publish() -> None:
        from ticket_enricher.consumers.engine.clients import KafkaClients, opened

        async with opened(KafkaClients.from_settings(settings).producer("sample", linger_ms=10)) as producer:
            await publish_events(producer, settings.topics.tickets, stream.events)

    asyncio.run(publish())
    typer.echo(f"published {len(stream.events)} events for {accounts} accounts to {settings.topics.tickets}")
