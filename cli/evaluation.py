"""Judgment measured on labelled histories: the frozen split, the worker's flow run without Kafka, the scores.

`ticket-enricher eval` (cli/eval.py) feeds each labelled account's events, in file order, through the worker's
own `TicketFlow` (decode, agent, tools, store) with an in-memory publisher instead of Kafka, then reads each
account's tags from the store and compares them with the labels: a customer is positive for a tag when the tag
is set on the account after its events. A retryable failure is waited out and retried the way the worker's
delay tiers would (same policy, same attempt limit); what still fails is reported, never dropped.

The split is a pure function of the account id, frozen before any tuning, so anyone can reproduce which
customers were looked at while the rules were tuned (`tune`, two thirds) and which were not (`holdout`).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from pydantic import BaseModel

from ticket_enricher.core.errors import EvalInputError, ModelUnavailable

if TYPE_CHECKING:
    from ticket_enricher.agents.models import Model, Usage
    from ticket_enricher.agents.planners import Outcome, Pace, Planner, TagJudgment
    from ticket_enricher.agents.rules.model import RulesModel
    from ticket_enricher.config.settings import Settings
    from ticket_enricher.consumers.lifespan import Deps
    from ticket_enricher.core.events import TicketEvent
    from ticket_enricher.memory.store import MemoryStore

Split = Literal["tune", "holdout"]
TRANSIENT_WAIT_SECONDS = 2.0  # the longest eval waits before trying a transient failure again (429s: the server's)


def split_of(key: str) -> Split:
    """`holdout` when sha256(key) mod 3 == 0, else `tune`; the key is the account id, or the text of the account's
    first ticket (`--split-by text`: sets that label one text under several account ids). Never change it: figures
    depend on it."""
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest(), "big")
    return "holdout" if digest % 3 == 0 else "tune"


@dataclass(frozen=True)
class Labels:
    tags: tuple[str, ...]  # the scored tags: label columns that the vocabulary has
    accounts: dict[str, dict[str, bool]]


def load_labels(path: Path, vocabulary: Sequence[str]) -> Labels:
    """A TSV with `account_id` and one 0/1 column per tag; columns holding anything else (brand, reason…) are
    not labels. A label column the vocabulary lacks is an error; a vocabulary tag without one is not scored."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows or "account_id" not in rows[0]:
        raise EvalInputError(f"{path}: expected a tab-separated header with an account_id column")
    columns = [c for c in rows[0] if c != "account_id"]
    tags = tuple(c for c in columns if all((r.get(c) or "").strip() in {"0", "1"} for r in rows))
    unknown = sorted(set(tags) - set(vocabulary))
    if unknown:
        raise EvalInputError(f"{path}: label columns {', '.join(unknown)} are not tags of the vocabulary "
                             f"({', '.join(sorted(vocabulary))}); rename them or add the tags to the config")
    if not tags:
        raise EvalInputError(f"{path}: no 0/1 label column; expected some of {', '.join(sorted(vocabulary))}")
    return Labels(tags, {r["account_id"]: {t: r[t].strip() == "1" for t in tags} for r in rows})


@dataclass(frozen=True)
class Line:
    """One event line as the worker would receive it: the raw bytes (the record value) and its account."""

    number: int
    account_id: str
    value: bytes


def load_events(path: Path) -> list[Line]:
    lines = []
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                account = json.loads(raw)["account_id"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise EvalInputError(f"{path}:{number}: not an event with an account_id ({exc})") from exc
            lines.append(Line(number, str(account), raw.rstrip(b"\r\n")))
    return lines


class Finding(BaseModel):
    """A tag a planner set on an account: why, and the text that showed it."""

    reason: str
    evidence: list[str] = []


class Failure(BaseModel):
    line: int
    reason: str


@dataclass
class PlannerRun:
    """What one planner concluded for every account, and the events it could not process."""

    name: str
    planner: str
    found: dict[str, dict[str, Finding]] = field(default_factory=dict)
    noticed: dict[str, list[str]] = field(default_factory=dict)  # per account: signals its notes carry
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    events: int = 0
    usage: Usage | None = None  # the model calls paid for (None: no model)
    cost_usd: float | None = None  # by `model.prices` (None: no model, or no price for it)
    # per account, per event in the order judged: the rules' judgment of each tag (`Outcome.judgments`)
    judgments: dict[str, dict[str, dict[str, TagJudgment]]] = field(default_factory=dict)
    escalated: set[str] = field(default_factory=set)  # events a cascade sent to the model

    def per_thousand(self) -> dict[str, float | None] | None:
        """Model calls, tokens and cost per 1,000 events; None without a model."""
        if self.usage is None or not self.events:
            return None
        k = 1000 / self.events
        u = self.usage
        return {"model_calls": u.calls * k, "input_tokens": u.input_tokens * k,
                "cached_input_tokens": u.cached_input_tokens * k, "output_tokens": u.output_tokens * k,
                "cost_usd": self.cost_usd * k if self.cost_usd is not None else None}


class CollectingPublisher:
    """`consumers.engine.publishing.Publisher` in memory: the last record sent per (enriched | dlq | delay, key),
    which is all the evaluation needs to retry a delayed event or report a dead-lettered one."""

    def __init__(self, settings: Settings) -> None:
        self.routes = settings.routes()
        self.last: dict[tuple[str, bytes | None], tuple[str, list[tuple[str, bytes]]]] = {}

    async def send(self, topic: str, *, value: bytes | None, key: bytes | None,
                   headers: list[tuple[str, bytes]] | None = None) -> None:
        kind = ("enriched" if topic == self.routes.enriched else "dlq" if topic == self.routes.tickets.dlq
                else "delay")
        self.last[(kind, key)] = (topic, list(headers or []))

    async def send_many(self, messages: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]]
                        ) -> None:
        for topic, value, key, headers in messages:
            await self.send(topic, value=value, key=key, headers=headers)


class Recorder:
    """The planner port around the run's planner: what it judges is passed through, and each processed event's
    judgments and escalation are kept in the run (the last outcome of an event that was retried)."""

    def __init__(self, planner: Planner, run: PlannerRun) -> None:
        self.planner, self.run = planner, run
        self.whole_batches, self.fingerprint, self.name = planner.whole_batches, planner.fingerprint, planner.name
        self.judged, self.release = planner.judged, planner.release

    async def judge(self, events: Sequence[TicketEvent], pace: Pace | None = None) -> list[Outcome | Exception]:
        results = await self.planner.judge(events, pace)
        for event, result in zip(events, results, strict=True):
            if not isinstance(result, Exception):
                self.run.judgments.setdefault(event.account_id, {})[event.event_id] = result.judgments
                if result.escalated:
                    self.run.escalated.add(event.event_id)
        return results


Progress = Callable[[int], None]
Sleep = Callable[[float], Awaitable[object]]


async def run_flow(settings: Settings, lines: list[Line], store: MemoryStore | None = None, *,
                   model: Model | None = None, rules: RulesModel | None = None, concurrency: int = 1,
                   progress: Progress | None = None, sleep: Sleep = asyncio.sleep) -> PlannerRun:
    """Every line through the worker's ticket flow, in file order per account, `concurrency` accounts at once;
    on a fresh temporary SQLite store unless `store` is given. The planner is the configured one, or the agent on
    `model`, or the rules planner on `rules` (a baseline)."""
    from ticket_enricher.agents.models.limited import Tally
    from ticket_enricher.consumers.lifespan import lifespan
    from ticket_enricher.memory.sqlite import SqliteMemoryStore

    with tempfile.TemporaryDirectory(prefix="ticket-enricher-eval-") as tmp:
        own: MemoryStore = store or SqliteMemoryStore(Path(tmp) / "eval.db")
        try:
            publisher, tally = CollectingPublisher(settings), Tally()
            async with lifespan(settings, publisher=publisher, store=own, model=model, rules=rules,
                                observer=tally) as deps:
                run = await _run(deps, publisher, lines, own, concurrency, progress, sleep)
            run.usage = tally.usage  # nothing for the rules; a model passed in reports to its own observer
            run.cost_usd = tally.cost if tally.usage.calls else 0.0
            return run
        finally:
            if store is None:
                await own.close()  # a store the caller gave stays open: the caller closes it


async def _run(deps: Deps, publisher: CollectingPublisher, lines: list[Line], own: MemoryStore, concurrency: int,
               progress: Progress | None, sleep: Sleep) -> PlannerRun:
    from ticket_enricher.agents.notes import NOTE_KIND, account_filter, read_account_tags
    from ticket_enricher.consumers.engine.records import Record
    from ticket_enricher.consumers.flows.provenance import arrival, due_ms, from_tier
    from ticket_enricher.memory.store import list_all

    routes = deps.routes
    flow = deps.ticket_flow()  # the worker's own flow and enrichment service, on an in-memory publisher
    run = PlannerRun(name=deps.enrichment.planner.name, planner=deps.enrichment.fingerprint, events=len(lines))
    deps.enrichment.planner = Recorder(deps.enrichment.planner, run)  # the flow's outcomes, judgments included
    by_account: dict[str, list[Line]] = {}
    for line in lines:
        by_account.setdefault(line.account_id, []).append(line)
    gate = asyncio.Semaphore(concurrency)

    unavailable: list[str] = []  # set once the model's breaker opened: the run stops, reported at once

    async def one(line: Line) -> None:
        key = line.account_id.encode()
        record, provenance = arrival(Record(topic=routes.tickets.topic, partition=0, offset=line.number,
                                            timestamp_ms=int(time.time() * 1000), key=key, value=line.value))
        while True:
            try:
                status = await flow.handle(record, provenance)
            except ModelUnavailable as error:
                unavailable.append(str(error))
                run.failures.append(Failure(line=line.number, reason=f"model_unavailable: {error}"[:300]))
                return
            if status != "delayed":
                break
            topic, headers = publisher.last[("delay", key)]
            record = Record(topic=topic, partition=0, offset=line.number, timestamp_ms=int(time.time() * 1000),
                            key=key, value=line.value, headers=tuple(headers))
            tier = routes.tickets.tier_of(topic)
            assert tier is not None
            provenance = from_tier(record, routes.tickets)
            due = due_ms(record, routes.tickets, tier, int(time.time() * 1000))
            wait = max(0.0, due / 1000 - time.time())
            if dict(headers).get("x-retry-error-class") != b"RateLimited":
                wait = min(wait, TRANSIENT_WAIT_SECONDS)  # a measurement, not a stream: no ladder to wait out
            await sleep(wait)
        if status == "dead_lettered":
            _, headers = publisher.last[("dlq", key)]
            why = dict(headers)
            run.failures.append(Failure(line=line.number, reason=f"{why.get('x-dlq-reason', b'?').decode()}: "
                                                                 f"{why.get('x-dlq-error', b'').decode()[:200]}"))
        if progress is not None:
            progress(1)

    async def account(items: list[Line]) -> None:
        async with gate:
            for line in items:
                if unavailable:
                    reason = f"model_unavailable: not run, the model's breaker opened ({unavailable[0]})"
                    run.failures.append(Failure(line=line.number, reason=reason[:300]))
                    continue
                await one(line)

    started = time.perf_counter()
    await asyncio.gather(*(account(items) for items in by_account.values()))
    run.seconds = time.perf_counter() - started
    for account_id in by_account:
        _, tags = await read_account_tags(own, account_id)
        run.found[account_id] = {name: Finding(reason=rec.reason, evidence=rec.evidence_memory_ids)
                                 for name, rec in tags.tags.items()}
        notes = await list_all(own, filters=account_filter(account_id, NOTE_KIND))
        # "signals" as the planners write it (a list of names: `agents.notes.new_note`)
        signals = (cast(list[str], n.metadata.get("signals") or []) for n in notes)
        run.noticed[account_id] = sorted({str(s) for names in signals for s in names})
    return run


def run_keywords(lines: list[Line]) -> PlannerRun:
    """The keyword baseline (`agents.baselines.KEYWORDS`) over the same events."""
    from ticket_enricher.agents.rules.baselines import keyword_tags
    from ticket_enricher.core.events import TicketEvent

    started = time.perf_counter()
    run = PlannerRun(name="keywords", planner="keywords (10 words per tag)")
    events = []
    for line in lines:
        try:
            events.append(TicketEvent.model_validate_json(line.value))
        except ValueError as exc:
            run.failures.append(Failure(line=line.number, reason=f"schema: {str(exc)[:200]}"))
    for account, hits in keyword_tags(events).items():
        run.found[account] = {tag: Finding(reason=f'keyword "{hit.word}"') for tag, hit in hits.items()}
    run.seconds = time.perf_counter() - started
    return run


class TagScore(BaseModel):
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    precision: float | None = None  # None: the tag was never set
    recall: float | None = None  # None: no positive label
    f1: float = 0.0


class Error(BaseModel):
    """A miss (labelled, not set) or a false alarm (set, not labelled) on one account."""

    account_id: str
    tag: str
    kind: Literal["miss", "false_alarm"]
    reason: str
    excerpt: str


def score(run: PlannerRun, labels: Labels, accounts: Sequence[str]) -> dict[str, TagScore]:
    out = {}
    for tag in labels.tags:
        s = TagScore()
        for account in accounts:
            got, want = tag in run.found.get(account, {}), labels.accounts[account][tag]
            s.tp += got and want
            s.fp += got and not want
            s.fn += want and not got
            s.tn += not got and not want
        s.precision = s.tp / (s.tp + s.fp) if s.tp + s.fp else None
        s.recall = s.tp / (s.tp + s.fn) if s.tp + s.fn else None
        s.f1 = 2 * s.tp / (2 * s.tp + s.fp + s.fn) if s.tp else 0.0
        out[tag] = s
    return out


def errors(run: PlannerRun, labels: Labels, accounts: Sequence[str], texts: dict[str, str]) -> list[Error]:
    out = []
    for account in accounts:
        found = run.found.get(account, {})
        for tag in labels.tags:
            got, want = tag in found, labels.accounts[account][tag]
            if got == want:
                continue
            if got:
                reason = found[tag].reason
            else:
                seen = run.noticed.get(account)
                reason = f"signals noted: {', '.join(seen) or 'none'}" if seen is not None else "not set"
            out.append(Error(account_id=account, tag=tag, kind="false_alarm" if got else "miss", reason=reason,
                             excerpt=texts.get(account, "")[:160]))
    return out


def labelled_part(events: Path, labels: Path, vocabulary: Sequence[str], split: str,
                  split_by: str) -> tuple[Labels, list[Line], list[str]]:
    """The labels, the event lines of the accounts in `split` (all, tune or holdout by `split_by`: account or
    text), and those accounts in order. Raises `EvalInputError` on a malformed file."""
    labelled = load_labels(labels, vocabulary)
    lines = load_events(events)
    keys = first_texts(lines) if split_by == "text" else {}
    accounts = sorted(a for a in labelled.accounts if split == "all" or split_of(keys.get(a, a)) == split)
    wanted = set(accounts)
    return labelled, [line for line in lines if line.account_id in wanted], accounts


def rules_only(settings: Settings) -> Settings:
    """The settings with the rules alone judging (no model, whatever the config says)."""
    return settings.model_copy(update={"model": settings.model.model_copy(update={"name": "", "mode": "agent"})})


def first_texts(lines: list[Line]) -> dict[str, str]:
    """Each account's first ticket body, as written (the key of `--split-by text`)."""
    out: dict[str, str] = {}
    for line in lines:
        if line.account_id not in out:
            try:
                out[line.account_id] = str(json.loads(line.value)["ticket"]["body"])
            except (json.JSONDecodeError, KeyError, TypeError):
                out[line.account_id] = ""
    return out


def excerpts(lines: list[Line]) -> dict[str, str]:
    """Each account's ticket bodies joined, whitespace squeezed: what a reader needs to judge an error."""
    out: dict[str, list[str]] = {}
    for line in lines:
        try:
            body = json.loads(line.value)["ticket"]["body"]
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
        out.setdefault(line.account_id, []).append(" ".join(str(body).split()))
    return {a: " | ".join(b) for a, b in out.items()}
