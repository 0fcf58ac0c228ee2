"""A real local PostgreSQL started from the machine's own server binaries (for dev and tests), no Docker."""

from localpostgres.server import LocalPostgres, PostgresError, PostgresStatus, find_bindir

__all__ = ["LocalPostgres", "PostgresError", "PostgresStatus", "find_bindir"]
