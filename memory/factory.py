"""Build the configured `MemoryStore` once, at start-up; the rest of the worker only sees the protocol."""

from __future__ import annotations

from ticket_enricher.config.settings import Settings
from ticket_enricher.core.errors import MemoryConfigError
from ticket_enricher.memory.embeddings import Embedder
from ticket_enricher.memory.store import MemoryStore


def open_store(settings: Settings) -> MemoryStore:
    memory = settings.memory
    if memory.backend == "mem0":
        from ticket_enricher.memory.mem0 import Mem0MemoryStore

        if settings.mem0_api_key is None or not settings.mem0_api_key.get_secret_value():
            raise MemoryConfigError("memory backend is mem0 but MEM0_API_KEY is not set")
        from ticket_enricher.core.limiter import AdaptiveLimiter
        from ticket_enricher.core.ratelimit import remaining_fraction
        from ticket_enricher.memory.limited import LimitedStore

        limiter = AdaptiveLimiter("mem0", max_wait=settings.retry.limiter_max_wait_seconds,
                                  initial=settings.worker.max_in_flight,
                                  maximum=settings.worker.max_in_flight)
        from ticket_enricher.memory.mem0 import mem0_client

        store: MemoryStore = Mem0MemoryStore(mem0_client(
            api_key=settings.mem0_api_key.get_secret_value(), base_url=memory.mem0_base_url,
            timeout=memory.timeout_seconds, observe=lambda h: limiter.observe_remaining(remaining_fraction(h)),
        ))
        return LimitedStore(store, limiter) if settings.retry.limiter else store
    if memory.backend == "postgres":
        from ticket_enricher.memory.postgres import PostgresMemoryStore

        password = settings.postgres_password.get_secret_value() if settings.postgres_password else None
        return PostgresMemoryStore(
            memory.dsn.get_secret_value(), password=password, embedder=_embedder(settings),
            # every event in flight may hold a connection for one statement at a time; never fewer than two, so
            # the deletion flow and the delay tiers are not queued behind the ticket flow
            pool_max_size=max(2, min(memory.pool_max_size, settings.worker.max_in_flight)),
            statement_timeout=memory.statement_timeout_seconds, connect_timeout=memory.timeout_seconds,
        )
    from ticket_enricher.memory.sqlite import SqliteMemoryStore

    return SqliteMemoryStore(memory.path, embedder=_embedder(settings))


def _embedder(settings: Settings) -> Embedder | None:
    memory = settings.memory
    if not memory.embeddings_base_url:
        return None
    from ticket_enricher.memory.embeddings import OpenAIEmbedder, embeddings_client

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return OpenAIEmbedder(embeddings_client(base_url=memory.embeddings_base_url, api_key=key,
                                            timeout=memory.timeout_seconds), model=memory.embeddings_model)


def describe(settings: Settings) -> str:
    """Where the memory is, for a log line: never a password."""
    if settings.memory.backend == "mem0":
        return "mem0"
    if settings.memory.backend == "postgres":
        from ticket_enricher.memory.dsn import redact

        return redact(settings.memory.dsn.get_secret_value())
    return str(settings.memory.path)


async def check_store(store: MemoryStore) -> None:
    """Fail fast on a wrong key or URL rather than on the first event."""
    ping = getattr(store, "ping", None)
    if ping is not None:
        await ping()
