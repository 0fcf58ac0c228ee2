"""`ticket-enricher eval`: how well a planner tags accounts, on histories someone labelled by hand."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ticket_enricher.cli.cascade_report import CascadeRow, calibration, cascade_rows, tag_rows
from ticket_enricher.cli.common import ConfigOpt, MemoryOpt, ModelOpt, settings_from
from ticket_enricher.cli.evaluation import (
    Labels,
    Line,
    PlannerRun,
    errors,
    excerpts,
    labelled_part,
    rules_only,
    run_flow,
    run_keywords,
    score,
)
from ticket_enricher.config.settings import Settings
from ticket_enricher.core.errors import EvalInputError

Baseline = Literal["keywords", "rules-v1"]


def evaluate(
    events: Annotated[Path, typer.Option(help="Ticket events, one JSON object per line (event contract v1), in "
                                              "time order.", exists=True, dir_okay=False, show_default=False)],
    labels: Annotated[Path, typer.Option(help="Tab-separated labels: account_id and one 0/1 column per tag "
                                              "(other columns are ignored).", exists=True, dir_okay=False,
                                         show_default=False)],
    split: Annotated[str, typer.Option(help="Which accounts to score: all, tune (sha256(key) mod 3 != 0) or "
                                            "holdout (== 0); the key is set by --split-by.")] = "all",
    split_by: Annotated[str, typer.Option(help="The split's key: account (the account id) or text (the account's "
                                               "first ticket body: for sets that label one text under several "
                                               "account ids, such as one corpus labelled per tag).")] = "account",
    baseline: Annotated[list[str] | None, typer.Option(
        "--baseline", help="Also score a reference planner in the same run: keywords (ten words per tag) or "
                           "rules-v1 (the rules model before it read real customer language). Repeatable.",
        show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    max_errors: Annotated[int, typer.Option(help="Misses and false alarms listed per planner (0: none).",
                                            min=0)] = 100,
    concurrency: Annotated[int, typer.Option(help="Accounts processed at once (each account's events in order); "
                                                  "raise it for a remote model.", min=1)] = 1,
    threshold: Annotated[list[float] | None, typer.Option(
        "--threshold", help="A cascade threshold to measure (0 to 1): which events the rules are unsure of (any "
                            "tag's confidence below it) and which of their errors the model would see. "
                            "Repeatable; default: cascade.threshold.", min=0.0, max=1.0,
        show_default=False)] = None,
    config: ConfigOpt = None,
    memory: MemoryOpt = None,
    model: ModelOpt = None,
) -> None:
    """Score a planner against hand labels: per-tag precision, recall and F1, and every miss and false alarm.

    Runs the worker's own flow (decode, agent, tools, memory) over the events with no Kafka, on a fresh temporary
    SQLite store (or --memory), with the offline rules model or --model NAME (any OpenAI-compatible model: key
    from OPENAI_API_KEY, endpoint from OPENAI_BASE_URL). A customer counts as positive for a tag when the tag is
    set on the account after its events. Rate-limited or transient model errors are waited out and retried as
    the worker's delay tiers would (retry.max_attempts); events that still fail are listed and the exit code is 1.

    The rules report how sure they are of each tag's decision: per threshold (--threshold) the share of events
    a cascade (model.mode = "cascade") would send to the model and the share of the errors on accounts it would
    reach, and how the confidence of each account's final decision on a tag compares with how often it is right.

    Example: ticket-enricher eval --events events.jsonl --labels labels.tsv --split holdout
    --baseline keywords --baseline rules-v1
    """
    if split not in ("all", "tune", "holdout"):
        raise typer.BadParameter("--split is all, tune or holdout")
    if split_by not in ("account", "text"):
        raise typer.BadParameter("--split-by is account or text")
    chosen = list(dict.fromkeys(baseline or []))
    bad = [b for b in chosen if b not in ("keywords", "rules-v1")]
    if bad:
        raise typer.BadParameter(f"unknown baseline {', '.join(bad)}; choose keywords or rules-v1")
    settings = settings_from(config, memory=memory, model=model)
    try:
        labelled, lines, accounts = labelled_part(events, labels, list(settings.tags), split, split_by)
    except EvalInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    runs = asyncio.run(_run_all(settings, lines, chosen, memory is not None, concurrency, as_json))
    texts = excerpts(lines)
    cascade = Cascade(list(dict.fromkeys(threshold or [settings.cascade.threshold])), settings.cascade.sample,
                      settings.cascade.thresholds)
    if as_json:
        typer.echo(json.dumps(report(runs, labelled, accounts, texts, split, len(lines), max_errors, cascade),
                              indent=2))
    else:
        _print(Console(), runs, labelled, accounts, texts, split, len(lines), max_errors, cascade)
    if any(r.failures for r in runs):
        raise typer.Exit(1)


async def _run_all(settings: Settings, lines: list[Line], baselines: list[str], own_memory: bool,
                   concurrency: int, quiet: bool) -> list[PlannerRun]:
    from ticket_enricher.agents.rules.baselines import RulesV1Model
    from ticket_enricher.memory.factory import check_store, open_store

    flows = 1 + ("rules-v1" in baselines)
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=quiet or not console.is_terminal) as bar:
        task = bar.add_task("events", total=len(lines) * flows)

        def advance(n: int) -> None:
            bar.advance(task, n)

        store = open_store(settings) if own_memory else None
        try:
            if store is not None:
                await check_store(store)
            runs = [await run_flow(settings, lines, store, concurrency=concurrency, progress=advance)]
        finally:
            if store is not None:
                await store.close()
        rules = rules_only(settings)
        for name in baselines:
            if name == "rules-v1":
                v1 = RulesV1Model(settings.tags, window_days=settings.agent.history_window_days,
                                  search_top_k=settings.agent.search_top_k)
                runs.append(await run_flow(rules, lines, rules=v1, concurrency=concurrency, progress=advance))
            else:
                runs.append(run_keywords(lines))
    return runs


@dataclass(frozen=True)
class Cascade:
    """What the cascade report measures: these thresholds, with the configured sample."""

    thresholds: list[float]
    sample: float
    per_tag: dict[str, float] = field(default_factory=dict)

    def rows(self, run: PlannerRun, labels: Labels, accounts: list[str]) -> list[CascadeRow]:
        """Per threshold, what a cascade on this run's rules would send to the model (none without judgments)."""
        if not run.judgments:
            return []
        found = errors(run, labels, accounts, {})
        return cascade_rows(run.judgments, [e.account_id for e in found], self.thresholds, self.sample, self.per_tag)

    def by_tag(self, run: PlannerRun, labels: Labels, accounts: list[str]) -> dict[str, list[CascadeRow]]:
        """Per scored tag, the same on that tag's confidence and errors alone."""
        if not run.judgments:
            return {}
        found = errors(run, labels, accounts, {})
        return tag_rows(run.judgments, {t: [e.account_id for e in found if e.tag == t] for t in labels.tags},
                        self.thresholds)


def report(runs: list[PlannerRun], labels: Labels, accounts: list[str], texts: dict[str, str], split: str,
           events: int, max_errors: int, cascade: Cascade) -> dict[str, object]:
    """The machine-readable result (`--json`)."""
    return {
        "split": split, "accounts": len(accounts), "events": events, "tags": list(labels.tags),
        "cascade_sample": cascade.sample,
        "planners": [{
            "name": run.name, "planner": run.planner, "seconds": round(run.seconds, 3),
            "per_1000_events": run.per_thousand(), "escalated": len(run.escalated),
            "scores": {t: s.model_dump() for t, s in score(run, labels, accounts).items()},
            "failures": [f.model_dump() for f in run.failures],
            "errors": [e.model_dump() for e in errors(run, labels, accounts, texts)[:max_errors]],
            "cascade": [r.model_dump() for r in cascade.rows(run, labels, accounts)],
            "cascade_by_tag": {t: [r.model_dump() for r in rows]
                               for t, rows in cascade.by_tag(run, labels, accounts).items()},
            "calibration": {tag: [b.model_dump() for b in bins] for tag, bins in
                            calibration(run.judgments, labels.accounts, labels.tags, accounts).items()},
        } for run in runs],
    }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print(console: Console, runs: list[PlannerRun], labels: Labels, accounts: list[str], texts: dict[str, str],
           split: str, events: int, max_errors: int, cascade: Cascade) -> None:
    console.print(f"split [bold]{split}[/]: {len(accounts)} labelled accounts, {events} events; "
                  f"scored tags: {', '.join(labels.tags)}")
    table = Table(title="judgment per tag")
    for name in ("tag", "planner", "precision", "recall", "F1", "tp", "fp", "fn", "tn"):
        table.add_column(name, justify="left" if name in ("tag", "planner") else "right")
    scores = {run.name: score(run, labels, accounts) for run in runs}
    for tag in labels.tags:
        for run in runs:
            s = scores[run.name][tag]
            table.add_row(tag, run.name, _fmt(s.precision), _fmt(s.recall), f"{s.f1:.2f}",
                          *(str(v) for v in (s.tp, s.fp, s.fn, s.tn)))
        table.add_section()
    console.print(table)
    for run in runs:
        console.print(f"{run.name} ({run.planner}): {events} events in {run.seconds:.1f}s"
                      + (f", {len(run.escalated)} escalated to the model"
                         if run.escalated or run.name.startswith("cascade(") else "")
                      + (f", [red]{len(run.failures)} failed[/]" if run.failures else ""))
        if (k := run.per_thousand()) is not None:
            cost = f"${k['cost_usd']:.4f}" if k["cost_usd"] is not None else "no price in model.prices"
            console.print(f"  per 1,000 events: {k['model_calls']:.0f} model calls, {k['input_tokens']:,.0f} input "
                          f"tokens ({k['cached_input_tokens']:,.0f} cached), {k['output_tokens']:,.0f} output "
                          f"tokens, {cost}")
        for failure in run.failures:
            console.print(f"  [red]failed[/] line {failure.line}: {failure.reason}")
    _print_cascade(console, runs, labels, accounts, cascade)
    for run in runs:
        found = errors(run, labels, accounts, texts)
        if not found or not max_errors:
            continue
        listing = Table(title=f"{run.name}: misses and false alarms ({len(found)})", show_lines=False)
        for name in ("account", "tag", "error", "reason", "excerpt"):
            listing.add_column(name, overflow="fold")
        for e in found[:max_errors]:
            listing.add_row(e.account_id, e.tag, "[yellow]miss[/]" if e.kind == "miss" else "[red]false alarm[/]",
                            e.reason[:200], e.excerpt)
        console.print(listing)
        if len(found) > max_errors:
            console.print(f"  … {len(found) - max_errors} more (--max-errors)")


def _print_cascade(console: Console, runs: list[PlannerRun], labels: Labels, accounts: list[str],
                   cascade: Cascade) -> None:
    """The cascade and calibration tables, for the planners whose outcomes carried the rules' judgments."""
    judged = [run for run in runs if run.judgments]
    if not judged:
        return
    table = Table(title=f"cascade: what the model would see (sample {cascade.sample:g})")
    for name in ("planner", "threshold", "escalated", "of events", "errors", "captured", "of errors"):
        table.add_column(name, justify="left" if name == "planner" else "right")
    for run in judged:
        for row in cascade.rows(run, labels, accounts):
            table.add_row(run.name, f"{row.threshold:g}", f"{row.escalated}/{row.events}",
                          _fmt(row.escalation_rate), str(row.errors), str(row.captured), _fmt(row.error_capture))
    console.print(table)
    per_tag = Table(title="per tag: events unsure of that tag alone, and that tag's errors they reach")
    for name in ("tag", "planner", "threshold", "escalated", "of events", "errors", "captured", "of errors"):
        per_tag.add_column(name, justify="left" if name in ("tag", "planner") else "right")
    for run in judged:
        for tag, own in cascade.by_tag(run, labels, accounts).items():
            for row in own:
                per_tag.add_row(tag, run.name, f"{row.threshold:g}", f"{row.escalated}/{row.events}",
                                _fmt(row.escalation_rate), str(row.errors), str(row.captured),
                                _fmt(row.error_capture))
    console.print(per_tag)
    bins = Table(title="calibration: confidence of each account's final decision on a tag vs how often it is right")
    for name in ("tag", "planner", "confidence", "n", "mean confidence", "accuracy"):
        bins.add_column(name, justify="left" if name in ("tag", "planner") else "right")
    for run in judged:
        for tag, rows in calibration(run.judgments, labels.accounts, labels.tags, accounts).items():
            for b in rows:
                bins.add_row(tag, run.name, f"[{b.low:g}, {b.high:g}{']' if b.high == 1 else ')'}", str(b.n),
                             f"{b.mean_confidence:.3f}", f"{b.accuracy:.3f}")
            bins.add_section()
    console.print(bins)
