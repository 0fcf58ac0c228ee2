"""One real model server per test session (llama.cpp with SmolLM2-135M-Instruct), started by the first test that
asks for it and stopped at the end.

`make test` builds it first (`ticket-enricher model-server fetch`): a build inside a test would outlast the
per-test timeout. Without a finished fetch the tests that need it skip with one reason, except under CI=true,
where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ticket_enricher.localmodel import LocalModelServer, fetched


def require_fetched() -> None:
    """Skip (fail under CI=true) unless a fetch has finished: the server starts in seconds then."""
    if fetched() is None:
        reason = "the local model server is not built: run `make test` or `ticket-enricher model-server fetch`"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires the model server: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalModelServer]:
    """llama.cpp's server with SmolLM2-135M-Instruct on a free loopback port, `base_url` ending in /v1."""
    require_fetched()
    server = LocalModelServer(tmp_path_factory.mktemp("model-server"))
    server.start(say=lambda m: None)
    try:
        yield server
    finally:
        server.stop()
