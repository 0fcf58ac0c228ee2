"""A real local PostgreSQL started from the machine's own server binaries (for dev and tests), no Docker."""

from ticket_enricher.core.errors import PostgresError
from ticket_enricher.localpostgres.server import LocalPostgres, PostgresStatus, find_bindir

__all__ = ["LocalPostgres", "PostgresError", "PostgresStatus", "find_bindir"]
