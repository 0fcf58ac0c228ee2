"""`ticket-enricher demo`: the main job end to end on embedded defaults, with a visible result.

Starts a fresh local broker, creates the topics, starts one worker (a consumer-group member), publishes a
seeded sample stream (plus a few malformed records and unknown event types), follows the enriched output with a
progress bar, and prints each account's tags and evidence beside the ground truth. Stops everything it started,
also on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import signal
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ticket_enricher.agents.accounts import AccountReport, account_report
from ticket_enricher.cli.logs import setup_logging
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.localkafka import BrokerError, LocalBroker
from ticket_enricher.samples import SampleStream, generate
from ticket_enricher.samples.publish import publish_events

MALFORMED = [b"this is not json", b'{"event_id": "broken-1", "type": "ticket.created", "account_id": 42}']


def demo(
    accounts: Annotated[int, typer.Option(help="How many sample accounts.", min=1, max=2000)] = 24,
    seed: Annotated[int, typer.Option(help="Seed of the sample stream.")] = 7,
    workdir: Annotated[Path, typer.Option(help="Where the demo keeps its broker and memory (wiped first).")]
    = Path(".ticket-enricher/demo"),
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds of streaming.")] = 120.0,
) -> None:
    """Run the whole pipeline once on a local broker with a sample stream, and show the tagged accounts."""
    console = Console()
    setup_logging("ERROR")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # its first-join coordinator retry is noise here
    broker = LocalBroker(workdir / "broker")
    broker.stop()  # one left running by a demo that was killed outright
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    started = time.monotonic()
    try:
        with console.status("starting a local Kafka broker…"):
            bootstrap = broker.start(say=console.print)
        console.print(f"broker ready at [bold]{bootstrap}[/] ({time.monotonic() - started:.1f}s)")
        settings = load_settings(kafka={"bootstrap_servers": bootstrap}, memory={"path": workdir / "memory.db"})
        stream = generate(seed=seed, accounts=accounts, unknown_types=3, injections=True)
        ok = asyncio.run(_run(settings, stream, console, timeout))
    except BrokerError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print("[yellow]interrupted[/]: stopping what the demo started")
        raise typer.Exit(130) from None
    finally:
        with console.status("stopping the broker…"):
            broker.stop()
    console.print(f"done in {time.monotonic() - started:.1f}s")
    if not ok:
        raise typer.Exit(1)


async def _run(settings: Settings, stream: SampleStream, console: Console, timeout: float) -> bool:
    from aiokafka import TopicPartition

    from ticket_enricher.consumers.engine.clients import KafkaClients, opened
    from ticket_enricher.consumers.operations.topics import create_topics
    from ticket_enricher.consumers.worker import Worker

    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)  # like Ctrl-C
    await create_topics(settings)
    console.print(f"topics: {', '.join(settings.topic_names())}")
    outputs: dict[str, dict[str, object]] = {}
    dead: list[str] = []
    async with Worker(settings) as worker:
        console.print(f"worker joined group [bold]{settings.kafka.group_id}[/] with memory "
                      f"{settings.memory.path}")
        clients = KafkaClients.from_settings(settings)
        async with opened(clients.consumer("demo")) as reader:
            parts = [TopicPartition(t, p) for t in (settings.topics.enriched, settings.topics.dlq)
                     for p in range(settings.topics.partitions)]
            reader.assign(parts)
            await reader.seek_to_beginning(*parts)
            async with opened(clients.producer("demo", linger_ms=10)) as producer:
                await publish_events(producer, settings.topics.tickets, stream.events)
                for raw in stream.unknown:
                    await producer.send(settings.topics.tickets, json.dumps(raw).encode(),
                                        key=str(raw["account_id"]).encode())
                for bad in MALFORMED:
                    await producer.send(settings.topics.tickets, bad, key=b"demo-malformed")
                await producer.flush()
            total = len(stream.events)
            console.print(f"published {total} ticket events for {len(stream.truth)} accounts, "
                          f"{len(stream.unknown)} of unknown types and {len(MALFORMED)} malformed records")
            deadline = time.monotonic() + timeout
            with Progress(TextColumn("enriching"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console) as progress:
                task = progress.add_task("events", total=total)
                while (len(outputs) < total or len(dead) < len(MALFORMED)) and time.monotonic() < deadline:
                    batch = await reader.getmany(timeout_ms=500)
                    for tp, records in batch.items():
                        for rec in records:
                            if tp.topic == settings.topics.dlq:
                                dead.append(dict(rec.headers).get("x-dlq-reason", b"?").decode())
                            else:
                                out = json.loads(rec.value)
                                outputs[str(out["event_id"])] = out
                    progress.update(task, completed=len(outputs))
        reports = [await account_report(worker.store, account) for account in stream.accounts]

    table, matches = result_table(reports, stream.truth, console.width)
    console.print(table)
    console.print(
        f"{len(outputs)}/{len(stream.events)} events enriched, {len(dead)} dead-lettered "
        f"({', '.join(sorted(dead)) or 'none'}), {len(stream.unknown)} of unknown types skipped; "
        f"churn_risk matches the ground truth for {matches}/{len(reports)} accounts"
    )
    console.print("look closer: ticket-enricher accounts show ACCOUNT --memory "
                  f"{settings.memory.path}")
    return len(outputs) == len(stream.events) and matches == len(reports)


def result_table(reports: list[AccountReport], truth: dict[str, frozenset[str]], width: int) -> tuple[Table, int]:
    """Each account's tags (one per line, never split), whether the graded ones match the ground truth, and its
    headline evidence in the room the terminal leaves (two lines of it at 80 columns); and how many matched."""
    account_width = max(len(r.account_id) for r in reports)
    tag_width = max([len("tags"), *(len(t) for r in reports for t in r.tags)])
    room = max(20, width - account_width - tag_width - 6 - 1 - 16)  # events, mark and 5 columns' padding/borders
    table = Table(title="accounts after the stream", caption="✓ = churn_risk as the sample's ground truth says",
                  expand=False)
    table.add_column("account", no_wrap=True, min_width=account_width)
    table.add_column("events", justify="right", no_wrap=True, min_width=6)
    table.add_column("tags", no_wrap=True, min_width=tag_width)
    table.add_column("", no_wrap=True, width=1)
    table.add_column("evidence", overflow="fold", max_width=room)
    matches = 0
    for report in reports:
        got, expected = frozenset(report.tags), truth[report.account_id]
        ok = SampleStream.graded(got) == expected
        matches += ok
        tags = "\n".join(sorted(got)) or "-"
        if not ok:
            tags += "\n[red]expected:[/]\n" + ("\n".join(sorted(expected)) or "[red]no churn_risk[/]")
        lines = max(2, len(got))
        table.add_row(report.account_id, str(report.events), tags, "[green]✓[/]" if ok else "[red]✗[/]",
                      _clip(report.evidence_line() or "-", room * lines))
    return table, matches


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
