"""Build the configured model and planner once, at start-up (the lifespan calls these and closes the model)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ticket_enricher.agents.models import Model
from ticket_enricher.agents.models.limited import LimitedModel, ModelObserver
from ticket_enricher.agents.planners import Planner
from ticket_enricher.agents.planners.agent import INSTRUCTIONS, AgentPlanner, instructions_for
from ticket_enricher.agents.planners.cascade import CascadePlanner
from ticket_enricher.agents.planners.rules import RulesPlanner
from ticket_enricher.agents.rules.confidence import load_calibration
from ticket_enricher.agents.rules.model import RULES_VERSION, RulesModel
from ticket_enricher.config.settings import Settings
from ticket_enricher.core.breaker import Breaker
from ticket_enricher.core.budget import Budget, BudgetLedger, BudgetObserver, Limits
from ticket_enricher.core.limiter import AdaptiveLimiter
from ticket_enricher.core.ratelimit import remaining_fraction
from ticket_enricher.memory.store import MemoryStore

if TYPE_CHECKING:
    from ticket_enricher.agents.models.openai import OpenAIModel


def budget_limits(settings: Settings, *, replay: bool = False) -> Limits:
    """`budget.*` as the budget applies them; a replay also gets a bucket of its own (`replay_tokens_per_minute`,
    else `replay_share` of the group's rate)."""
    b = settings.budget
    own = b.replay_tokens_per_minute or b.replay_share * b.group_tokens_per_minute
    return Limits(minute_tokens=b.group_tokens_per_minute, day_tokens=b.group_tokens_per_day,
                  day_usd=b.group_usd_per_day, account_day_tokens=b.account_tokens_per_day,
                  account_day_usd=b.account_usd_per_day, replay_minute_tokens=own if replay else 0.0,
                  warn_fraction=b.warn_fraction)


def build_budget(settings: Settings, ledger: BudgetLedger, *, replay: bool = False,
                 observer: BudgetObserver | None = None) -> Budget | None:
    """The shared budget on `ledger` when any limit is set (None otherwise). An event it refuses comes back from
    the delay tier the policy picks for the wait (`consumers.flows.policy`); its account stays parked till then."""
    limits = budget_limits(settings, replay=replay)
    if not limits.any:
        return None
    route = settings.routes().tickets
    return Budget(ledger, settings.budget.name or settings.kafka.group_id, limits,
                  due_after=lambda wait: route.delay_for(wait)[1], observe=observer)


def build_model(settings: Settings, observer: ModelObserver | None = None,
                budget: Budget | None = None) -> LimitedModel | None:
    """The OpenAI-compatible adapter behind the breaker and (unless `retry.limiter` is off) the adaptive limiter
    when `model.name` is set; None for the offline rules. `observer` sees every paid call and every time the
    breaker opens or closes (the worker's metrics); `budget`: what every call reserves from and settles with."""
    m = settings.model
    if not m.name:
        return None
    limiter = AdaptiveLimiter("model", max_wait=settings.retry.limiter_max_wait_seconds,
                              initial=settings.worker.max_in_flight, maximum=settings.worker.max_in_flight)
    model = build_openai(settings, observe=lambda headers: limiter.observe_remaining(remaining_fraction(headers)))
    breaker = Breaker("model", failures=m.breaker_failures, probe_seconds=m.breaker_probe_seconds,
                      max_probe_seconds=m.breaker_max_probe_seconds,
                      on_change=observer.breaker if observer is not None else None)
    return LimitedModel(model, breaker, limiter if settings.retry.limiter else None, observer=observer,
                        price=m.prices.get(m.name), budget=budget, max_output_tokens=m.max_output_tokens)


def build_openai(settings: Settings, observe: Callable[[Mapping[str, str]], None] | None = None) -> OpenAIModel:
    """The OpenAI-compatible adapter for `model.name`, without the limiter (the CLI's one-off calls use it)."""
    from ticket_enricher.agents.models.openai import OpenAIModel, openai_wire

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    base_url = settings.model.base_url or settings.openai_base_url or None
    wire = openai_wire(base_url=base_url, api_key=key, timeout=settings.model.timeout_seconds,
                       concurrency=settings.worker.max_in_flight, observe=observe)
    return OpenAIModel(name=settings.model.name, wire=wire, temperature=settings.model.temperature,
                       max_output_tokens=settings.model.max_output_tokens,
                       output_tokens_param=settings.model.tokens_param(base_url))


def rules_model(settings: Settings) -> RulesModel:
    return RulesModel(settings.tags, window_days=settings.agent.history_window_days,
                      search_top_k=settings.agent.search_top_k,
                      calibration=load_calibration(settings.cascade.calibration))


def planner_fingerprint(settings: Settings, name: str) -> str:
    """Names what judged an event: the model, and a digest of everything that changes its judgement (the
    instructions, the tag vocabulary with its definitions, examples and rules, the agent's limits, the rules
    model's version). A replay skips events whose note carries the current fingerprint and re-evaluates the
    others."""
    material = json.dumps({
        "model": name, "instructions": INSTRUCTIONS, "rules": RULES_VERSION,
        "tags": {tag: rule.model_dump() for tag, rule in sorted(settings.tags.items())},
        "agent": settings.agent.model_dump(),
    }, sort_keys=True)
    return f"{name}#{hashlib.sha256(material.encode()).hexdigest()[:12]}"


def cascade_fingerprint(settings: Settings, rules: str, model: str) -> str:
    """Names what judged an event in a cascade: the rules' and the model's fingerprints, `cascade.threshold` and
    `cascade.sample` (a change of any of them changes which events the model sees)."""
    material = json.dumps({"rules": planner_fingerprint(settings, rules), "model": planner_fingerprint(settings, model),
                           "cascade": settings.cascade.model_dump()}, sort_keys=True)
    return f"cascade({rules}→{model})#{hashlib.sha256(material.encode()).hexdigest()[:12]}"


def build_planner(settings: Settings, store: MemoryStore, model: Model | None = None,
                  rules: RulesModel | None = None) -> Planner:
    """The agent planner on `model` (the one the lifespan built and closes), or with `model.mode = "cascade"` the
    rules first and the agent where they are unsure (`agents.planners.cascade`); without a model the rules planner
    on `rules` (the configured rules model by default), which holds no connection."""
    if model is not None:
        vocabulary = {name: tag.description for name, tag in settings.tags.items()}
        m = settings.model
        parameters = json.dumps({"max_output_tokens": m.max_output_tokens, "temperature": m.temperature})
        agent = AgentPlanner(model, store, settings.agent, vocabulary, planner_fingerprint(settings, model.name),
                             instructions_for(settings.tags), parameters=parameters, price=m.prices.get(model.name),
                             keep_turns_days=m.turn_record_days or None)
        if m.mode != "cascade":
            return agent
        rules = rules or rules_model(settings)
        first = RulesPlanner(rules, store, cascade_fingerprint(settings, rules.name, model.name))
        return CascadePlanner(first, agent, threshold=settings.cascade.threshold, sample=settings.cascade.sample,
                              per_tag=settings.cascade.thresholds, concurrency=settings.worker.max_in_flight)
    if settings.model.name:
        raise ValueError("pass the model the lifespan built: an OpenAI-compatible model holds connections")
    rules = rules or rules_model(settings)
    return RulesPlanner(rules, store, planner_fingerprint(settings, rules.name))
