"""The one composition root: every long-lived client is built here once, handed down as typed dependencies
(`Deps`, every field required), and closed here in reverse order. The worker, `run --processes` members,
replays, the demo, `eval` and the benchmarks all enter `lifespan`; CLI tools that only read or write memory enter
`memory_store`.

    store       the memory adapter (SQLite, PostgreSQL, Mem0 over its one httpx client), timed for the metrics
    model       the OpenAI-compatible adapter over its SDK client, behind the breaker and the limiter (none for
                the rules)
    enrichment  the enrichment service on the configured planner (`agents.factory.build_planner`)
    clients     the Kafka client factory (`consumers.engine.clients`): the worker's consumers and the publisher
    publisher   one idempotent aiokafka producer (acks=all), or the one passed in (then no broker is needed)

With Kafka, the topics the routes name are checked first; the store is pinged (a wrong Mem0 key fails at start,
not on the first event). What is passed in (a store, a model, a publisher) is its owner's to close. One-shot
readers (`dlq list`, `status`) open and close their own clients (from the same factory) around the one read they
make and need none of this.
"""

from __future__ import annotations

import gc
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from ticket_enricher.agents.deletion import Forgetting
from ticket_enricher.agents.enrichment import Enrichment
from ticket_enricher.agents.factory import budget_limits, build_budget, build_model, build_planner
from ticket_enricher.agents.models import Model
from ticket_enricher.agents.models.health import HealthLedger
from ticket_enricher.agents.models.limited import LimitedModel, ModelObserver
from ticket_enricher.agents.rules.model import RulesModel
from ticket_enricher.config.routes import Route, Routes
from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers import metrics
from ticket_enricher.consumers.engine.bounded import BoundedConsumer
from ticket_enricher.consumers.engine.clients import KafkaClients
from ticket_enricher.consumers.engine.ordered import KeyOrderedConsumer
from ticket_enricher.consumers.engine.publishing import KafkaPublisher, Publisher
from ticket_enricher.consumers.engine.records import Record
from ticket_enricher.consumers.flows.deletions import DeletionFlow
from ticket_enricher.consumers.flows.failures import Failures
from ticket_enricher.consumers.flows.policy import in_place_wait
from ticket_enricher.consumers.flows.provenance import Signer
from ticket_enricher.consumers.flows.tickets import TicketFlow
from ticket_enricher.consumers.operations.topics import check_topics
from ticket_enricher.core.breaker import Breaker
from ticket_enricher.core.budget import Budget
from ticket_enricher.memory.budget_ledger import open_ledger
from ticket_enricher.memory.factory import check_store, open_store
from ticket_enricher.memory.store import MemoryStore
from ticket_enricher.memory.timed import TimedStore


def signer_from(settings: Settings) -> Signer | None:
    """The provenance signer when `retry.sign_provenance` is on (the key comes from the environment)."""
    if not settings.retry.sign_provenance or settings.provenance_key is None:
        return None
    return Signer(settings.provenance_key.get_secret_value().encode())


@dataclass
class Deps:
    settings: Settings
    routes: Routes
    store: MemoryStore  # timed: every operation feeds ticket_enricher_memory_call_seconds
    raw_store: MemoryStore  # the adapter itself (adapter-specific reads, e.g. in benchmarks)
    enrichment: Enrichment
    publisher: Publisher
    signer: Signer | None
    clients: KafkaClients  # builds the consumers (nothing connects until one starts)
    breaker: Breaker | None  # the model's (its `retry_in` is the gate of the ticket consumers); None: no model

    def ticket_flow(self, route: Route | None = None) -> TicketFlow:
        """The ticket flow; `route` replaces the live one (a replay names its own group in the headers)."""
        return TicketFlow(enrichment=self.enrichment, publisher=self.publisher,
                          failures=Failures(self.publisher, route or self.routes.tickets, self.settings.retry,
                                            self.signer),
                          enriched_topic=self.routes.enriched,
                          max_message_bytes=self.settings.worker.max_message_bytes)

    def deletion_flow(self) -> DeletionFlow:
        return DeletionFlow(forgetting=Forgetting(self.store, wait_seconds=self.settings.privacy.delete_wait_seconds),
                            publisher=self.publisher,
                            failures=Failures(self.publisher, self.routes.deletions, self.settings.retry,
                                              self.signer),
                            completed_topic=self.routes.deletion_completed)

    def consumer(self, *, group: str, topics: Iterable[str], handler: Callable[[Record], Awaitable[object]],
                 role: str | None = None, **options: Any) -> KeyOrderedConsumer:
        """A key-ordered group member (`key_ordered`) on the lifespan's clients."""
        return key_ordered(self.settings, self.clients, group=group, topics=topics, handler=handler, role=role,
                           **options)

    def bounded(self, *, group: str, bounds: dict[Any, tuple[int, int]], handler: Callable[[Record], Awaitable[object]],
                role: str | None = None, commit: bool = True, **options: Any) -> BoundedConsumer:
        """A reader of exactly `bounds` (partition -> start, stop), committing in `group`'s name unless a dry run."""
        return BoundedConsumer(bounds=bounds, commit=commit, group_id=group, handler=handler,
                               **_engine_options(self.settings, self.clients, role), **options)


def key_ordered(settings: Settings, clients: KafkaClients, *, group: str, topics: Iterable[str],
                handler: Callable[[Record], Awaitable[object]], role: str | None = None,
                auto_offset_reset: str = "earliest", **options: Any) -> KeyOrderedConsumer:
    """A key-ordered group member sized and timed by `worker.*`, `kafka.*` and the in-place retry policy; its
    clients are named `<client_id>[-<lifespan role>][-<role>]`."""
    return KeyOrderedConsumer(group_id=group, topics=topics, handler=handler, auto_offset_reset=auto_offset_reset,
                              **_engine_options(settings, clients, role), **options)


def _engine_options(settings: Settings, clients: KafkaClients, role: str | None) -> dict[str, Any]:
    s = settings
    return {"clients": clients.scoped(role),
            "retry_wait": lambda attempt: in_place_wait(attempt, s.retry),
            "max_in_flight": s.worker.max_in_flight, "max_buffered": s.worker.max_buffered,
            "drain_timeout_seconds": s.worker.drain_timeout_seconds,
            "consumer_options": {"session_timeout_ms": s.kafka.session_timeout_ms,
                                 "heartbeat_interval_ms": max(100, s.kafka.session_timeout_ms // 4)}}


@asynccontextmanager
async def lifespan(settings: Settings, *, publisher: Publisher | None = None, store: MemoryStore | None = None,
                   model: Model | None = None, rules: RulesModel | None = None,
                   observer: ModelObserver | None = None, role: str | None = None,
                   replay: bool = False) -> AsyncIterator[Deps]:
    """Build what is not passed in, yield it all, close what was built (also when the body raises). Without a
    `publisher`, the worker's Kafka producer (the topics are checked first); `rules`: another rules model for the
    rules planner (`eval`'s baselines); `observer`: who is told of each paid model call (the metrics by default);
    `role` names this process's Kafka clients `<client_id>-<role>` (a replay's), the worker's are `<client_id>`;
    `replay`: a replay's model calls also draw from the replays' own bucket of the budget (`core.budget`)."""
    tune_gc(settings.worker.gc_threshold)
    async with AsyncExitStack() as stack:
        raw = store if store is not None else await stack.enter_async_context(memory_store(settings, check=False))
        if publisher is None:
            await check_topics(settings)
        await check_store(raw)
        timed = TimedStore(raw, lambda operation, seconds: metrics.MEMORY_LATENCY.labels(operation).observe(seconds))
        if model is None and settings.model.name:
            health = HealthLedger(timed, f"{socket.gethostname()}/{settings.kafka.client_id}")
            stack.push_async_callback(health.flush)
            budget = await _budget(settings, stack, replay=replay)
            model = build_model(settings, observer or metrics.ModelMetrics(also=health.changed), budget)
            if model is not None:
                stack.push_async_callback(model.close)
        planner = build_planner(settings, timed, model=model, rules=rules)
        clients = KafkaClients.from_settings(settings).scoped(role)
        if publisher is None:
            producer = KafkaPublisher(clients)
            await producer.start()
            stack.push_async_callback(producer.stop)
            publisher = producer
        yield Deps(settings=settings, routes=settings.routes(), store=timed, raw_store=raw,
                   enrichment=Enrichment(planner, timed), publisher=publisher, signer=signer_from(settings),
                   clients=clients, breaker=model.breaker if isinstance(model, LimitedModel) else None)


async def _budget(settings: Settings, stack: AsyncExitStack, *, replay: bool) -> Budget | None:
    """The shared model budget when a limit is set, on the ledger the members share (closed with the lifespan)."""
    if not budget_limits(settings, replay=replay).any:
        return None
    ledger = open_ledger(settings)
    stack.push_async_callback(ledger.close)
    return build_budget(settings, ledger, replay=replay, observer=metrics.BudgetMetrics())


@asynccontextmanager
async def memory_store(settings: Settings, *, check: bool = True) -> AsyncIterator[MemoryStore]:
    """The configured memory store alone (CLI tools that read or write memory and nothing else), closed after."""
    store = open_store(settings)  # a memory setting that cannot work fails first, before any network call
    try:
        if check:
            await check_store(store)
        yield store
    finally:
        await store.close()


_FROZEN = False


def tune_gc(threshold: int) -> None:
    """The collector's youngest-generation threshold for this process (`worker.gc_threshold`), and, once per
    process, everything alive at start-up (modules, settings, compiled patterns) moved out of its sight."""
    global _FROZEN
    if threshold:
        _, middle, oldest = gc.get_threshold()
        gc.set_threshold(threshold, middle, oldest)
    if not _FROZEN:
        gc.freeze()
        _FROZEN = True


def with_group(route: Route, group: str) -> Route:
    """`route` read by another group (a replay's), so that its copies name who failed them."""
    return replace(route, group=group)
