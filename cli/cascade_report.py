"""What `eval` reports of the rules' confidence, without a model: which events a cascade would send to the model
at a threshold and which of the rules' errors those events would reach, and how well the confidence is calibrated.

Pure functions over what a run recorded: per account, its events in order, each with the rules' judgments
(`Outcome.judgments`: per tag a decision and its calibrated confidence). An event escalates exactly as the
cascade planner decides it (`agents.planners.cascade.escalates`): the rules judged it, and some tag's confidence
is below the threshold or the event is in the configured sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from ticket_enricher.agents.planners import TagJudgment
from ticket_enricher.agents.planners.cascade import escalates

# account -> event id -> tag -> judgment, each account's events in the order they were judged
Judgments = Mapping[str, Mapping[str, Mapping[str, TagJudgment]]]
EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)  # calibration bins [low, high); the last one holds 1.0
SAYS_SET = frozenset({"set", "keep"})  # the decision leaves the tag set; "clear" and "leave" leave it unset


class CascadeRow(BaseModel):
    """At one threshold: the events a cascade would send to the model, and the run's errors (misses and false
    alarms per account and tag) on accounts with at least one such event (the model would see those accounts)."""

    threshold: float
    events: int
    escalated: int
    escalation_rate: float | None  # escalated / events; None without events
    errors: int
    captured: int
    error_capture: float | None  # captured / errors; None without errors


class CalibrationBin(BaseModel):
    """Accounts whose final judgment on a tag had a confidence in [low, high): how sure, and how often right."""

    low: float
    high: float
    n: int
    mean_confidence: float
    accuracy: float


def cascade_rows(judgments: Judgments, error_accounts: Sequence[str], thresholds: Sequence[float],
                 sample: float, per_tag: Mapping[str, float] | None = None) -> list[CascadeRow]:
    """One row per threshold; `error_accounts` names the account of each error (one entry per error)."""
    rows = []
    events = sum(len(by_event) for by_event in judgments.values())
    for threshold in thresholds:
        reached = {account for account, by_event in judgments.items()
                   if any(escalates(e, tags, threshold, sample, per_tag) for e, tags in by_event.items())}
        escalated = sum(escalates(e, tags, threshold, sample, per_tag)
                        for by_event in judgments.values() for e, tags in by_event.items())
        captured = sum(account in reached for account in error_accounts)
        rows.append(CascadeRow(threshold=threshold, events=events, escalated=escalated,
                               escalation_rate=escalated / events if events else None, errors=len(error_accounts),
                               captured=captured,
                               error_capture=captured / len(error_accounts) if error_accounts else None))
    return rows


def tag_rows(judgments: Judgments, error_accounts: Mapping[str, Sequence[str]],
             thresholds: Sequence[float]) -> dict[str, list[CascadeRow]]:
    """Per scored tag and threshold: the events whose confidence in that tag alone is below it, and that tag's
    errors on the accounts they reach (what `cascade.thresholds` would set per tag; no sample)."""
    out = {}
    for tag, accounts_of_errors in error_accounts.items():
        only = {a: {e: {tag: tags[tag]} if tag in tags else {} for e, tags in by_event.items()}
                for a, by_event in judgments.items()}
        out[tag] = cascade_rows(only, accounts_of_errors, thresholds, 0.0)
    return out


def final_judgments(judgments: Judgments, tag: str) -> dict[str, TagJudgment]:
    """Per account, the judgment of its last event that judged `tag`."""
    out = {}
    for account, by_event in judgments.items():
        for tags in by_event.values():
            if tag in tags:
                out[account] = tags[tag]
    return out


def calibration(judgments: Judgments, labels: Mapping[str, Mapping[str, bool]], tags: Sequence[str],
                accounts: Sequence[str]) -> dict[str, list[CalibrationBin]]:
    """Per tag, the accounts' final judgments binned by confidence (`EDGES`; only bins that hold one), each bin
    with its mean confidence and the share of its decisions the label confirms: a decision that leaves the tag
    set ("set", "keep") is right when the label is 1, one that leaves it unset ("clear", "leave") when it is 0."""
    out: dict[str, list[CalibrationBin]] = {}
    for tag in tags:
        final = final_judgments({a: judgments[a] for a in accounts if a in judgments}, tag)
        bins: list[list[tuple[float, bool]]] = [[] for _ in EDGES[1:]]
        for account, judgment in final.items():
            right = (judgment.action in SAYS_SET) == labels[account][tag]
            bins[_bin(judgment.confidence)].append((judgment.confidence, right))
        rows = [CalibrationBin(low=EDGES[i], high=EDGES[i + 1], n=len(some),
                               mean_confidence=sum(c for c, _ in some) / len(some),
                               accuracy=sum(r for _, r in some) / len(some))
                for i, some in enumerate(bins) if some]
        if rows:
            out[tag] = rows
    return out


def _bin(confidence: float) -> int:
    for i, high in enumerate(EDGES[1:-1]):
        if confidence < high:
            return i
    return len(EDGES) - 2
