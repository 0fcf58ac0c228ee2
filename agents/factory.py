"""Build the configured model and the agent once, at start-up."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ticket_enricher.agents.limited import LimitedModel
from ticket_enricher.agents.loop import INSTRUCTIONS, Agent, instructions_for
from ticket_enricher.agents.model import Model
from ticket_enricher.agents.rules import RULES_VERSION, RulesModel
from ticket_enricher.config.settings import Settings
from ticket_enricher.core.limiter import AdaptiveLimiter
from ticket_enricher.core.ratelimit import remaining_fraction
from ticket_enricher.memory.store import MemoryStore

if TYPE_CHECKING:
    from ticket_enricher.agents.openai_model import OpenAIModel


def build_model(settings: Settings, report: Callable[[float], None] | None = None) -> Model:
    """The OpenAI-compatible adapter when a model name is set, else the offline rules model. `report` is told
    the limiter's level after each call (the worker feeds a metric with it)."""
    if settings.model.name:
        limiter = AdaptiveLimiter("model", max_wait=settings.retry.limiter_max_wait_seconds,
                                  initial=settings.worker.max_in_flight,
                                  maximum=settings.worker.max_in_flight)
        model = build_openai(settings, observe=lambda headers: limiter.observe_remaining(remaining_fraction(headers)))
        return LimitedModel(model, limiter, report) if settings.retry.limiter else model
    return RulesModel(settings.tags, window_days=settings.agent.history_window_days,
                      search_top_k=settings.agent.search_top_k)


def build_openai(settings: Settings, observe: Callable[[Mapping[str, str]], None] | None = None) -> OpenAIModel:
    """The OpenAI-compatible adapter for `model.name`, without the limiter (the CLI's one-off calls use it)."""
    from ticket_enricher.agents.openai_model import OpenAIModel, openai_wire

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    wire = openai_wire(base_url=settings.model.base_url or settings.openai_base_url or None, api_key=key,
                       timeout=settings.model.timeout_seconds, concurrency=settings.worker.max_in_flight,
                       observe=observe)
    return OpenAIModel(name=settings.model.name, wire=wire, temperature=settings.model.temperature)


def planner_fingerprint(settings: Settings, model: Model) -> str:
    """Names what judged an event: the model, and a digest of everything that changes its judgement (the
    instructions, the tag vocabulary with its definitions, examples and rules, the agent's limits, the rules
    model's version). A replay skips
    events whose note carries the current fingerprint and re-evaluates the others."""
    material = json.dumps({
        "model": model.name, "instructions": INSTRUCTIONS, "rules": RULES_VERSION,
        "tags": {name: tag.model_dump() for name, tag in sorted(settings.tags.items())},
        "agent": settings.agent.model_dump(),
    }, sort_keys=True)
    return f"{model.name}#{hashlib.sha256(material.encode()).hexdigest()[:12]}"


def build_agent(settings: Settings, store: MemoryStore, model: Model | None = None) -> Agent:
    """The agent on `model` (the one the lifespan built and closes); without one, the offline rules model, which
    holds no connection."""
    if model is None:
        if settings.model.name:
            raise ValueError("pass the model the lifespan built: an OpenAI-compatible model holds connections")
        model = build_model(settings)
    vocabulary = {name: tag.description for name, tag in settings.tags.items()}
    return Agent(model, store, settings.agent, vocabulary, planner_fingerprint(settings, model),
                 instructions_for(settings.tags))
