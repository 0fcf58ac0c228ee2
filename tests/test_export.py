"""`export`: a raw JSON Lines dump, and structured exports filled offline, by the configured model, or by Mem0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from ticket_enricher.cli.privacy import export_account
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.memory.factory import open_store
from ticket_enricher.memory.store import EntityScope
from ticket_enricher.testing.mem0_server import FakeMem0
from ticket_enricher.testing.openai_server import FakeOpenAI, text_turn

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"account_id": {"type": "string"}, "count": {"type": "integer"},
                   "notes": {"type": "array", "items": {"type": "string"}}},
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(memory={"path": tmp_path / "memory.db"})


async def seed(settings: Settings) -> None:
    store = open_store(settings)
    try:
        for i in range(3):
            await store.add(f"note {i}: export failed", scope=EntityScope(user_id="acct-x"),
                            metadata={"kind": "ticket_note"})
        await store.add("another account's note", scope=EntityScope(user_id="acct-y"))
    finally:
        await store.close()


async def test_raw_dump_has_every_memory_of_the_account_and_no_other(settings: Settings) -> None:
    await seed(settings)
    lines = [json.loads(line) for line in (await export_account(settings, "acct-x", None)).splitlines()]
    assert [m["memory"] for m in lines] == [f"note {i}: export failed" for i in range(3)]
    assert {m["user_id"] for m in lines} == {"acct-x"}
    assert all(m["id"] and m["created_at"] for m in lines)


async def test_offline_projection_fills_the_schema_deterministically(settings: Settings) -> None:
    await seed(settings)
    first = json.loads(await export_account(settings, "acct-x", SCHEMA))
    assert first == {"account_id": "acct-x", "count": 3, "notes": [f"note {i}: export failed" for i in range(3)]}
    assert json.loads(await export_account(settings, "acct-x", SCHEMA)) == first


async def test_the_configured_model_fills_the_schema_on_the_embedded_store(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(settings)
    server = FakeOpenAI().start()
    answer = {"account_id": "acct-x", "count": 3, "notes": ["export failures, three times"]}
    server.script = lambda body: text_turn(json.dumps(answer))
    try:
        with_model = settings.model_copy(update={
            "model": settings.model.model_copy(update={"name": "fake-model", "base_url": server.url + "/v1"}),
            "openai_api_key": SecretStr("test-not-secret"),
        })
        assert json.loads(await export_account(with_model, "acct-x", SCHEMA)) == answer
    finally:
        server.stop()
    [body] = server.chat_bodies()
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA
    memories = body["messages"][1]["content"]
    assert memories.count("export failed") == 3 and "another account" not in memories


async def test_mem0_platform_fills_the_schema_with_its_export_endpoint(
    settings: Settings, fake_mem0: FakeMem0
) -> None:
    mem0 = load_settings(memory={"backend": "mem0", "mem0_base_url": fake_mem0.url}).model_copy(
        update={"mem0_api_key": SecretStr(fake_mem0.api_key)})
    await seed(mem0)
    structured = json.loads(await export_account(mem0, "acct-x", SCHEMA))
    # the fake fills arrays with the memories its filter matched (the real one asks its model)
    assert structured["notes"] == [f"note {i}: export failed" for i in range(3)]
    [create] = [json.loads(r.body) for r in fake_mem0.requests if r.path == "/v1/exports/"]
    assert create["schema"] == SCHEMA and create["filters"] == {"user_id": "acct-x"}
