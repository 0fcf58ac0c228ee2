"""Process-wide Prometheus metrics, served on /metrics by `consumers/operations/endpoints.py` (and read directly by
tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

if TYPE_CHECKING:
    from ticket_enricher.agents.models import Usage

EVENTS_PROCESSED = Counter("ticket_enricher_events_processed", "Ticket events enriched and published", ["planner"])
EVENTS_SKIPPED = Counter("ticket_enricher_events_skipped", "Well-formed events of types not handled", ["type"])
EVENTS_FORGOTTEN = Counter("ticket_enricher_events_forgotten", "Events of a forgotten account or requester, not run")
DELETIONS = Counter("ticket_enricher_deletions", "Deletion requests by outcome (verified, retried)", ["outcome"])
EVENTS_DEAD_LETTERED = Counter("ticket_enricher_events_dead_lettered", "Records sent to the DLQ", ["reason"])
EVENTS_DELAYED = Counter("ticket_enricher_events_delayed", "Records sent to a delay tier", ["tier"])
EVENTS_RETRIED = Counter("ticket_enricher_events_retried", "Delayed records processed again when due", ["tier"])
RATE_LIMITED = Counter("ticket_enricher_rate_limited", "HTTP 429 answers seen", ["source"])
TAGS_CHANGED = Counter("ticket_enricher_tags_changed", "Account tags set or cleared", ["tag", "change"])
MODEL_TOKENS = Counter("ticket_enricher_model_tokens", "Model tokens paid for (input includes cached_input)",
                       ["planner", "kind"])
MODEL_COST = Counter("ticket_enricher_model_cost_usd", "What model calls cost, by model.prices", ["planner"])
MODEL_TURNS_REPLAYED = Counter("ticket_enricher_model_turns_replayed",
                               "Model turns replayed from their record instead of paid for again", ["planner"])
MODEL_BREAKER_OPEN = Gauge("ticket_enricher_model_breaker_open",
                           "1 while the model's breaker is open (model work paused), else 0")
MODEL_TOOL_CALLS = Counter("ticket_enricher_model_tool_calls", "Tool calls the model made", ["planner"])
LIMITER_LEVEL = Gauge("ticket_enricher_limiter_level", "Concurrent calls the adaptive limiter allows", ["source"])
IN_FLIGHT = Gauge("ticket_enricher_in_flight", "Records being processed right now", ["topic"])
BUFFERED = Gauge("ticket_enricher_buffered", "Records fetched and not yet done (running or waiting)", ["topic"])
CONSUMER_LAG = Gauge("ticket_enricher_consumer_lag", "Records not yet committed by the group, per partition",
                     ["group", "topic", "partition"])
MODEL_LATENCY = Histogram("ticket_enricher_model_call_seconds", "Model calls and how long they took", ["planner"],
                          buckets=(0.005, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
MEMORY_LATENCY = Histogram("ticket_enricher_memory_call_seconds", "Memory-store calls and how long they took",
                           ["operation"], buckets=(0.0005, 0.002, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5))
FOREIGN_PROVENANCE = Counter("ticket_enricher_foreign_provenance",
                             "Records on an input topic carrying the worker's own headers (ignored)", ["topic"])
BUDGET_REFUSED = Counter("ticket_enricher_budget_refused",
                         "Model calls the budget held back before calling (not attempts), by reason", ["reason"])
BUDGET_SPENT = Counter("ticket_enricher_budget_tokens_spent", "Model tokens settled against the budget")
BUDGET_SPENT_USD = Counter("ticket_enricher_budget_usd_spent", "US dollars settled against the budget")
BUDGET_LEFT = Gauge("ticket_enricher_budget_tokens_left",
                    "Tokens the group's budget had left at this member's last reservation", ["scope"])


class BudgetMetrics:
    """The budget's side of the metrics (`core.budget.BudgetObserver`)."""

    def refused(self, reason: str) -> None:
        BUDGET_REFUSED.labels(reason).inc()

    def spent(self, tokens: float, usd: float) -> None:
        BUDGET_SPENT.inc(max(0.0, tokens))
        if usd > 0:
            BUDGET_SPENT_USD.inc(usd)

    def left(self, left: dict[str, float]) -> None:
        for scope, tokens in left.items():
            BUDGET_LEFT.labels(scope).set(tokens)


class ModelMetrics:
    """The model's side of the metrics, fed per call by `agents.models.limited` (a call counts when it is paid
    for, whatever becomes of its event) and by the breaker when it opens or closes (`also` is told too)."""

    def __init__(self, also: Callable[[bool, str], None] | None = None) -> None:
        self.also = also

    def limit(self, level: float) -> None:
        LIMITER_LEVEL.labels("model").set(level)

    def called(self, model: str, usage: Usage, seconds: float, cost: float | None) -> None:
        MODEL_LATENCY.labels(model).observe(seconds)
        for kind, tokens in (("input", usage.input_tokens), ("cached_input", usage.cached_input_tokens),
                             ("output", usage.output_tokens)):
            if tokens:
                MODEL_TOKENS.labels(model, kind).inc(tokens)
        if cost:
            MODEL_COST.labels(model).inc(cost)

    def breaker(self, is_open: bool, reason: str) -> None:
        MODEL_BREAKER_OPEN.set(1 if is_open else 0)
        if self.also is not None:
            self.also(is_open, reason)
