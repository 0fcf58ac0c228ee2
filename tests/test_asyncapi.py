"""`docs/asyncapi.yaml` is what FastStream's generator makes of `consumers/operations/asyncapi.py` today, and covers
every topic.

Fast: no broker, no network. The document is rendered in-process exactly as `faststream docs gen --yaml` does
(`app.schema.to_specification().to_yaml()`, see `faststream/_internal/cli/docs.py: gen`), and one test runs the
CLI command itself in-process to keep that claim honest.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from faststream import FastStream
from faststream.cli import cli
from pydantic import create_model
from typer.testing import CliRunner

from ticket_enricher.config.settings import load_settings
from ticket_enricher.consumers.operations import asyncapi
from ticket_enricher.core.events import TicketEvent

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "asyncapi.yaml"
STALE = "docs/asyncapi.yaml is stale: run `make docs`"


def render(app: FastStream) -> str:
    """The YAML `faststream docs gen APP --yaml` writes for `app`."""
    return app.schema.to_specification().to_yaml()


def checked_in() -> str:
    """The checked-in document, byte for byte (no newline translation)."""
    return DOC.read_bytes().decode("utf-8")


def resolve(doc: dict[str, Any], ref: str) -> Any:
    """Follow a local JSON pointer such as `#/components/schemas/TicketEvent`."""
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[unquote(part).replace("~1", "/").replace("~0", "~")]
    return node


def test_checked_in_document_is_current() -> None:
    assert render(asyncapi.app) == checked_in(), STALE


def test_cli_writes_exactly_what_the_test_renders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))  # the CLI inserts --app-dir into sys.path
    out = tmp_path / "asyncapi.yaml"
    result = CliRunner().invoke(
        cli, ["docs", "gen", "ticket_enricher.consumers.operations.asyncapi:app", "--yaml", "--out", str(out),
              "--app-dir", str(ROOT)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == render(asyncapi.app).encode("utf-8")


def test_a_changed_payload_makes_the_document_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    assert render(asyncapi.build_app(asyncapi.default_settings())) == checked_in(), STALE  # unchanged: equal
    changed = create_model("TicketEvent", __base__=TicketEvent, sentiment=(str, ...))
    monkeypatch.setattr(asyncapi, "TicketEvent", changed)

    rendered = render(asyncapi.build_app(asyncapi.default_settings()))

    assert rendered != checked_in()
    assert "sentiment" in rendered and "sentiment" not in checked_in()


def test_every_topic_is_a_channel_with_its_payload() -> None:
    settings = load_settings()
    topics = settings.topics
    doc = yaml.safe_load(checked_in())
    channels: dict[str, dict[str, Any]] = doc["channels"]

    assert {c["address"] for c in channels.values()} == set(settings.topic_names())

    def payloads(topic: str) -> list[dict[str, Any]]:
        """The payload schema of every message on the channels (sending and receiving) of `topic`."""
        return [resolve(doc, resolve(doc, message["$ref"])["payload"]["$ref"])
                for channel in channels.values() if channel["address"] == topic
                for message in channel["messages"].values()]

    def fields(topic: str) -> set[str]:
        return {name for payload in payloads(topic) for name in payload.get("properties", {})}

    assert {"event_id", "account_id", "ticket"} <= fields(topics.tickets)
    assert {"request_id", "subject"} <= fields(topics.deletion_requests)
    assert {"event_id", "account_id", "tags_added"} <= fields(topics.enriched)
    assert {"request_id", "verification"} <= fields(topics.deletion_completed)
    schemas = doc["components"]["schemas"]
    assert {"event_id", "account_id"} <= set(schemas["TicketEvent"]["properties"])
    assert {"request_id", "subject"} <= set(schemas["DeletionRequest"]["properties"])
    assert "verification" in schemas["DeletionCompleted"]["properties"]
    # each flow's tiers carry that flow's payload only: a ticket tier cannot be read as a deletion request
    routes = settings.routes()
    for route, wanted in ((routes.tickets, "ticket"), (routes.deletions, "subject")):
        for tier in route.tiers:
            assert wanted in fields(tier.topic), tier.topic
            assert len(payloads(tier.topic)) == 2, tier.topic  # received and sent
        assert payloads(route.dlq), route.dlq
    assert "subject" not in fields(routes.tickets.tiers[0].topic)
    assert "ticket" not in fields(routes.deletions.tiers[0].topic)
