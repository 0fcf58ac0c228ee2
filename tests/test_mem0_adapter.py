"""The Mem0 adapter against a fake Mem0 on loopback: errors mapped once, no retries, async events, contract."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator
from email.utils import formatdate

import pytest

from ticket_enricher.core.errors import PermanentFailure, RateLimited, TransientError
from ticket_enricher.memory.events import delete_and_verify
from ticket_enricher.memory.mem0 import Mem0MemoryStore, mem0_client
from ticket_enricher.memory.store import EntityScope
from ticket_enricher.testing.contract import violations
from ticket_enricher.testing.http import Recorded
from ticket_enricher.testing.mem0_server import FakeMem0

ACME = EntityScope(user_id="acme")


@pytest.fixture
async def mem0(fake_mem0: FakeMem0) -> AsyncIterator[Mem0MemoryStore]:
    store = Mem0MemoryStore(mem0_client(api_key=fake_mem0.api_key, base_url=fake_mem0.url))
    yield store
    await store.close()


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"RateLimit-Reset": "3", "RateLimit-Remaining": "0", "RateLimit-Limit": "60"}, 3.0),
        ({"X-RateLimit-Reset": "11"}, 11.0),
        ({}, None),
    ],
)
async def test_429_becomes_one_rate_limited_error_without_retrying(
    mem0: Mem0MemoryStore, fake_mem0: FakeMem0, headers: dict[str, str], wait: float | None
) -> None:
    fake_mem0.fail_next(1, 429, headers)
    with pytest.raises(RateLimited) as caught:
        await mem0.search("x", filters={"user_id": "acme"})
    assert caught.value.retry_after == wait
    assert caught.value.source == "mem0"
    assert len(fake_mem0.requests) == 1, "the adapter must not retry on its own"


async def test_retry_after_as_an_http_date(mem0: Mem0MemoryStore, fake_mem0: FakeMem0) -> None:
    fake_mem0.fail_next(1, 429, {"Retry-After": formatdate(time.time() + 20, usegmt=True)})
    with pytest.raises(RateLimited) as caught:
        await mem0.get("00000000-0000-4000-8000-000000000000")
    assert caught.value.retry_after is not None and 17 <= caught.value.retry_after <= 20


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(mem0: Mem0MemoryStore, fake_mem0: FakeMem0, status: int) -> None:
    fake_mem0.fail_next(1, status)
    with pytest.raises(TransientError):
        await mem0.list(filters={"user_id": "acme"})
    assert len(fake_mem0.requests) == 1


async def test_timeouts_and_refused_connections_are_transient(fake_mem0: FakeMem0) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = Mem0MemoryStore(mem0_client(api_key="k", base_url=f"http://127.0.0.1:{port}"))
    with pytest.raises(TransientError):
        await store.get("00000000-0000-4000-8000-000000000000")
    await store.close()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    slow = Mem0MemoryStore(mem0_client(api_key="k", base_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
                                       timeout=0.2))
    with pytest.raises(TransientError, match="timed out"):
        await slow.get("00000000-0000-4000-8000-000000000000")
    await slow.close()
    silent.close()


async def test_a_wrong_key_fails_fast_with_a_clear_message(fake_mem0: FakeMem0) -> None:
    store = Mem0MemoryStore(mem0_client(api_key="wrong", base_url=fake_mem0.url))
    with pytest.raises(TransientError, match="MEM0_API_KEY"):
        await store.ping()
    await store.close()


async def test_a_bad_request_is_permanent(mem0: Mem0MemoryStore, fake_mem0: FakeMem0) -> None:
    fake_mem0.fail_next(1, 400, body={"error": "bad"})
    with pytest.raises(PermanentFailure):
        await mem0.list(filters={"user_id": "acme"})


async def test_asynchronous_adds_are_polled_until_they_land(fake_mem0: FakeMem0, mem0: Mem0MemoryStore) -> None:
    fake_mem0.async_adds = True
    added = await mem0.add("queued note", scope=ACME, idempotency_key="e-1")
    assert added.created and (await mem0.get(added.id)) is not None
    polls = [r for r in fake_mem0.requests if r.path.startswith("/v1/event/")]
    assert len(polls) >= 2


async def test_stale_search_after_delete_is_caught_by_verification(fake_mem0: FakeMem0,
                                                                   mem0: Mem0MemoryStore) -> None:
    await mem0.add("acme memory", scope=ACME)
    fake_mem0.stale_searches = 1
    report = await delete_and_verify(mem0, ACME, timeout=5)
    assert report.status == "SUCCEEDED" and report.remaining_listed == 0
    assert report.remaining_searched == 1 and not report.verified
    again = await delete_and_verify(mem0, ACME, timeout=5)
    assert again.verified


async def test_notes_are_stored_verbatim_with_entity_ids_at_the_top_level_of_add(
    fake_mem0: FakeMem0, mem0: Mem0MemoryStore
) -> None:
    await mem0.add("exact text", scope=ACME, metadata={"kind": "ticket_note"}, categories=["billing"])
    await mem0.search("exact", filters={"user_id": "acme"})
    add = next(r for r in fake_mem0.requests if r.path == "/v3/memories/add/")
    body = json.loads(add.body)
    assert body["infer"] is False and body["user_id"] == "acme"
    assert body["messages"] == [{"role": "user", "content": "exact text"}]
    search = json.loads(next(r for r in fake_mem0.requests if r.path == "/v3/memories/search/").body)
    assert "user_id" not in search and search["filters"] == {"user_id": "acme"}


def test_the_contract_check_catches_requests_outside_the_spec() -> None:
    bad = [
        Recorded("POST", "/v3/memories/search/", {}, {"Authorization": "Token k"}, b'{"query": "x"}'),
        Recorded("POST", "/v3/memories/", {"page_size": ["500"]}, {"Authorization": "Token k"},
                 b'{"filters": {"user_id": "a"}}'),
        Recorded("GET", "/v1/memories/not-a-uuid/", {}, {"Authorization": "Token k"}, b""),
        Recorded("GET", "/v1/ping/", {}, {"Authorization": "Bearer k"}, b""),
    ]
    assert len(violations(bad)) == 4
    good = Recorded("POST", "/v3/memories/search/", {}, {"Authorization": "Token k"},
                    b'{"query": "x", "filters": {"user_id": "a"}}')
    assert violations([good]) == []


@pytest.mark.parametrize("body", [[1, 2, 3], {"results": [{"memory": "no id, no dates"}]}, {"results": "many"}])
async def test_an_answer_of_an_unexpected_shape_is_a_permanent_failure_not_a_leak(
    mem0: Mem0MemoryStore, fake_mem0: FakeMem0, body: object
) -> None:
    """API drift or a broken proxy: the adapter raises from the error tree, never KeyError or TypeError."""
    fake_mem0.fail_next(1, status=200, body=body)
    with pytest.raises(PermanentFailure, match="mem0 answered"):
        await mem0.list(filters={"user_id": "acme"})
