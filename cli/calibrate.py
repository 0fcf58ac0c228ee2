"""`ticket-enricher calibrate`: fit the table the rules' confidences come from, on labelled events of your own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from ticket_enricher.agents.rules import signals
from ticket_enricher.agents.rules.confidence import Row, features, fit
from ticket_enricher.agents.rules.model import text_of
from ticket_enricher.cli.common import ConfigOpt, settings_from
from ticket_enricher.cli.evaluation import (
    Labels,
    Line,
    PlannerRun,
    labelled_part,
    rules_only,
    run_flow,
)
from ticket_enricher.core.errors import EvalInputError
from ticket_enricher.core.events import TicketEvent


def calibrate(
    events: Annotated[list[Path], typer.Option(help="Ticket events (event contract v1), one JSON object per line, "
                                                    "in time order. Repeatable, paired in order with --labels.",
                                               exists=True, dir_okay=False, show_default=False)],
    labels: Annotated[list[Path], typer.Option(help="Tab-separated labels for the --events in the same place: "
                                                    "account_id and one 0/1 column per tag.", exists=True,
                                               dir_okay=False, show_default=False)],
    out: Annotated[Path, typer.Option(help="Where to write the table (JSON); then set cascade.calibration to it.",
                                      dir_okay=False, show_default=False)],
    split: Annotated[str, typer.Option(help="Fit on all accounts, or only the tune part (sha256(key) mod 3 != 0) "
                                            "so that the holdout stays a fair test of the table.")] = "all",
    split_by: Annotated[str, typer.Option(help="The split's key: account or text (the account's first ticket "
                                               "body).")] = "account",
    source: Annotated[str, typer.Option(help="A line saying where the labels come from, kept in the table.")] = "",
    config: ConfigOpt = None,
) -> None:
    """Fit the rules' confidence on labelled events: each account's final decision on each tag, filed under the
    kind of evidence it rests on (its grade), against the label; a grade's confidence is then the share of its
    decisions that were right, (right + 1) / (seen + 2), and within a grade seen often enough each tag's logistic
    model (over the event's word classes, lexicon words, signals and the rules' decision) ranks them.

    The rules judge exactly as the worker does (the ticket flow, a temporary SQLite store); nothing is written
    but --out. Example: ticket-enricher calibrate --events a.jsonl --labels a.tsv --out calibration.json
    """
    if len(events) != len(labels):
        raise typer.BadParameter(f"{len(events)} --events but {len(labels)} --labels: give them in pairs")
    if split not in ("all", "tune", "holdout") or split_by not in ("account", "text"):
        raise typer.BadParameter("--split is all, tune or holdout; --split-by is account or text")
    settings = settings_from(config)
    rules = rules_only(settings)
    rows: list[Row] = []
    for events_path, labels_path in zip(events, labels, strict=True):
        try:
            labelled, chosen, accounts = labelled_part(events_path, labels_path, list(settings.tags), split,
                                                       split_by)
        except EvalInputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        wanted = set(accounts)
        run = asyncio.run(run_flow(rules, chosen))
        found = list(final_decisions(run, labelled, wanted, parsed(chosen)))
        rows += found
        typer.echo(f"{events_path}: {len(wanted)} accounts, {len(found)} decisions", err=True)
        for failure in run.failures:
            typer.echo(f"  line {failure.line} not judged, left out: {failure.reason}", err=True)
    table = fit(rows, source or ", ".join(str(p) for p in events))
    out.write_text(table.to_json(), encoding="utf-8")
    for tag, grades in sorted(table.tables.items()):
        typer.echo(f"{tag}: " + ", ".join(f"{g} {table.confidence(tag, g):.2f} (n={n})"
                                          for g, (n, _) in sorted(grades.items(), key=lambda kv: -kv[1][0])))
    typer.echo(f"wrote {out}")


def final_decisions(run: PlannerRun, labels: Labels, accounts: set[str],
                    events: dict[str, TicketEvent]) -> Iterator[Row]:
    """A row for each account's last judged event and each labelled tag: the rules' decision, its grade and the
    event's features, against the label."""
    for account in sorted(accounts):
        by_event = run.judgments.get(account)
        if not by_event:
            continue
        event_id, last = next(((e, j) for e, j in reversed(by_event.items()) if j), ("", {}))
        event = events.get(event_id)
        if event is None:
            continue
        text = text_of(event)
        note = frozenset(signals.detect(text))
        for tag in labels.tags:
            judgment = last.get(tag)
            if judgment is None or judgment.grade.startswith("model"):
                continue
            says = judgment.action in ("set", "keep")
            yield Row(tag, judgment.grade, features(text, note, says), says,
                      labels.accounts[account][tag])



def parsed(lines: list[Line]) -> dict[str, TicketEvent]:
    """The events of these lines by id (lines that are no event are left out: the flow dead-letters them)."""
    out = {}
    for line in lines:
        try:
            event = TicketEvent.model_validate_json(line.value)
        except ValueError:
            continue
        out[event.event_id] = event
    return out
