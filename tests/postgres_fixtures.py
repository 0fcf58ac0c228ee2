"""One real PostgreSQL per test session, started by the project itself, and a fresh database per test.

Without server binaries the PostgreSQL tests skip with one reason, except under CI=true, where they must run.
The cluster lives in a directory of its own under the system temp dir: pytest's tmp_path is mode 0700 under
/tmp/pytest-of-root, which the `postgres` user (who runs the server when the tests run as root) cannot traverse.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ticket_enricher.localpostgres import LocalPostgres, find_bindir


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    if find_bindir() is None:
        reason = ("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found; install the `postgresql` "
                  "package or set TICKET_ENRICHER_PG_BINDIR")
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="ticket-enricher-pg-"))
    root.chmod(0o755)
    server = LocalPostgres(root / "cluster", unsafe_fast=True)
    server.start(say=lambda m: None)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_dsn(postgres_server: LocalPostgres) -> Iterator[str]:
    """The DSN of a new, empty database of this test's own."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    dsn = postgres_server.create_database(name)
    try:
        yield dsn
    finally:
        postgres_server.drop_database(name)
