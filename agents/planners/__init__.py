"""The planner port: what judges ticket events, a batch at a time, and what it reports of each.

The enrichment service (`agents.enrichment`) gates a batch (forgotten subjects, events already judged) and hands
the rest to one `Planner`; the Kafka layer only ever sees the service. The batch is the only primitive: one event
is a batch of one. Adapters:

    rules.py   the offline rules model on each account's cached state, a whole batch written in one transaction
    agent.py   an LLM through the tool loop, each event on its own (tools bound to the event's account)

A planner that combines others (a cascade: rules first, the model where they are unsure) is a third adapter of the
same port and needs nothing else changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ticket_enricher.agents.models import Usage
from ticket_enricher.core.events import TicketEvent

Pace = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class RunOptions:
    """How a run treats its events: live by default; a replay skips what the current planner already judged
    (`skip_done`), may decide without changing anything (`dry_run`), and may pace the events it judges
    (`pace` is awaited before each one: `replay --rate`)."""

    skip_done: bool = False
    dry_run: bool = False
    pace: Pace | None = None


LIVE = RunOptions()


class TagJudgment(BaseModel):
    """The rules' decision on one tag for one event, and how sure they are of it. Frozen: one instance is shared
    by every outcome that judged alike (`judgment`)."""

    model_config = ConfigDict(frozen=True)

    action: Literal["set", "clear", "keep", "leave"]  # set/clear: changed now; keep: stays set; leave: stays unset
    confidence: float  # calibrated: the share of such decisions that were right on labelled data
    grade: str  # the kind of evidence the confidence was calibrated for (`agents.rules.confidence`)
    calibrated: bool = True  # labelled data of this tag was seen; a cascade escalates on calibrated tags only


@lru_cache(maxsize=4096)
def judgment(action: Literal["set", "clear", "keep", "leave"], confidence: float, grade: str,
             calibrated: bool) -> TagJudgment:
    """The judgment with these values, built once: a backfill hands out the same few for every event, and an
    outcome takes an instance as it is, where it would validate a dict field by field."""
    return TagJudgment(action=action, confidence=confidence, grade=grade, calibrated=calibrated)


class Outcome(BaseModel):
    """What judging one event did, built from the effects (never from a model's say-so)."""

    tags: list[str]
    tags_added: list[str]
    tags_removed: list[str]
    memory_ids: list[str]
    evidence: list[str]
    summary: str
    planner: str
    usage: Usage = Field(default_factory=Usage)  # of the model calls made this time
    turns: int = 0
    replayed_turns: int = 0  # turns answered before (a retry, a redelivery) and replayed from their record
    tool_calls: int = 0
    model_seconds: list[float] = Field(default_factory=list)  # each model call's duration, for the histogram
    cost_usd: float | None = None  # of `usage`, by `model.prices`; None without a price or a model
    judgments: dict[str, TagJudgment] = Field(default_factory=dict)  # per tag, when the rules judged the event
    escalated: bool = False  # a cascade sent the event to the model after the rules

    @property
    def by_model(self) -> bool:
        return self.turns > 0


class Planner(Protocol):
    """Judges events: writes each event's note, sets and clears its account's tags, reports the outcome."""

    @property
    def name(self) -> str:
        """Short, for metrics and the enriched event (`rules`, the model's name)."""
        ...

    @property
    def fingerprint(self) -> str:
        """What judges, down to its rules and instructions (`agents.factory.planner_fingerprint`): a note records
        it, and a replay skips events whose note carries the current one."""
        ...

    @property
    def whole_batches(self) -> bool:
        """True: give it whole fetches (it writes a batch at once). False: one event at a time, many accounts in
        flight (a model call takes seconds)."""
        ...

    async def judged(self, events: Sequence[TicketEvent]) -> set[str]:
        """The ids of those events this very planner already judged (their note carries its fingerprint)."""
        ...

    async def judge(self, events: Sequence[TicketEvent], pace: Pace | None = None) -> list[Outcome | Exception]:
        """Judge the events in order (each account's in offset order); an event whose judgment failed has its
        error in its place and the rest go on. Raises only when the batch as a whole failed (its writes)."""
        ...

    def release(self, accounts: Collection[str] | None = None) -> None:
        """Forget what is cached of these accounts (all when None): they moved to another member, or their
        subject was forgotten."""
        ...
