"""The PostgreSQL store's connections: one asyncpg pool, the schema migrated once per database under an advisory
lock, and every driver error translated into `core.errors` (never a driver exception, never a password).

    class 08 (connection), 40 (serialization failure, deadlock), 53 (too many connections, disk full),
    55P03 (lock not available), 57 (statement timeout, admin shutdown, server starting), 58 (I/O),
    OSError, timeouts, a closed connection                                     -> TransientError (delay tiers)
    class 28 (bad password), 3D000 (no such database)                          -> TransientError, "check memory.dsn"
    anything else the server refuses                                           -> PermanentFailure (dead letter)
"""

from __future__ import annotations

import asyncio
import json
import logging

import asyncpg

from ticket_enricher.core.errors import EnricherError, PermanentFailure, TransientError
from ticket_enricher.memory.dsn import redact
from ticket_enricher.memory.postgres_sql import MIGRATION_LOCK, MIGRATIONS, SCHEMA_VERSION, VERSIONS_TABLE

log = logging.getLogger("ticket_enricher.memory.postgres")
_TRANSIENT_CLASSES = ("08", "40", "53", "57", "58")
_TRANSIENT_STATES = ("55P03",)
_CONFIG_CLASSES = ("28", "3D")


def translate(exc: BaseException, operation: str, where: str) -> EnricherError:
    """The `core.errors` form of a driver or socket error, its message free of any password."""
    if isinstance(exc, EnricherError):
        return exc
    detail = redact(f"{type(exc).__name__}: {exc}")[:300]
    prefix = f"postgres {operation} on {where}"
    if isinstance(exc, asyncpg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        if state.startswith(_CONFIG_CLASSES):
            return TransientError(f"{prefix}: {detail} (check memory.dsn and PGPASSWORD)")
        if state.startswith(_TRANSIENT_CLASSES) or state in _TRANSIENT_STATES:
            return TransientError(f"{prefix}: {detail}")
        return PermanentFailure(f"{prefix}: {detail}")
    if isinstance(exc, asyncpg.exceptions.ClientConfigurationError):
        return PermanentFailure(f"{prefix}: {detail} (check memory.dsn)")
    if isinstance(exc, (OSError, TimeoutError, asyncio.TimeoutError, asyncpg.InterfaceError,
                        asyncpg.exceptions.InternalClientError)):
        return TransientError(f"{prefix}: {detail}")
    return PermanentFailure(f"{prefix}: {detail}")


def is_driver_error(exc: BaseException) -> bool:
    return isinstance(exc, (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError,
                            OSError, TimeoutError, asyncio.TimeoutError))


def _encode_jsonb(value: object) -> bytes:
    return b"\x01" + json.dumps(value).encode()  # jsonb's binary form: a version byte, then the text


def _decode_jsonb(data: bytes) -> object:
    return json.loads(data[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    """jsonb as Python values, in the binary format so that COPY (bulk import) takes them too."""
    await conn.set_type_codec("jsonb", encoder=_encode_jsonb, decoder=_decode_jsonb, schema="pg_catalog",
                              format="binary")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Instead of asyncpg's reset query on every release (one more round trip per operation): the store never
    changes session state (no SET, LISTEN, cursors or session-level advisory locks), and asyncpg still rolls
    back a transaction left open."""


async def create_pool(dsn: str, *, password: str | None, max_size: int, statement_timeout: float,
                      connect_timeout: float) -> asyncpg.Pool:
    """A pool whose every session cancels statements after `statement_timeout` (server side) and gives up on
    the reply a little later (client side, for a server that stopped answering)."""
    return await asyncpg.create_pool(
        dsn, password=password, min_size=1, max_size=max_size, timeout=connect_timeout,
        command_timeout=statement_timeout + 5.0, max_inactive_connection_lifetime=300.0, init=_init_connection,
        reset=_keep_session,
        server_settings={"application_name": "ticket-enricher",
                         "statement_timeout": str(int(statement_timeout * 1000)),
                         "idle_in_transaction_session_timeout": str(int((statement_timeout + 30) * 1000))},
    )


async def migrate(conn: asyncpg.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION, in one transaction under an advisory lock: members that start at
    once wait for each other, and each version is applied once. Returns the version found before."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(VERSIONS_TABLE)
        current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM ticket_enricher_schema")
        if current > SCHEMA_VERSION:
            raise PermanentFailure(f"the database holds memory schema v{current}, newer than this worker's "
                                   f"v{SCHEMA_VERSION}: upgrade the worker")
        for version, sql in MIGRATIONS:
            if version > current:
                await conn.execute(sql)
                await conn.execute("INSERT INTO ticket_enricher_schema (version) VALUES ($1)", version)
                log.info("memory schema migrated to v%d", version)
    return int(current)

