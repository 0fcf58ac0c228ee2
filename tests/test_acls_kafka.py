"""Least privilege on a real broker: KRaft's StandardAuthorizer with SCRAM users for the worker, a ticket producer,
a privacy requester and an operator, and exactly the ACLs `ticket-enricher acls --apply` creates. The worker runs
its whole flow (a 429 through a delay tier, a poison record to the DLQ, a deletion), the others do their jobs, and
the ticket producer is refused every topic but the ticket topic."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import SecretStr

from tests.conftest import enriched, publish_over
from ticket_enricher.cli.privacy import send_request
from ticket_enricher.cli.replay import run_replay
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.consumers.engine.connection import client_options
from ticket_enricher.consumers.operations.dlq_tools import read_dead_letters
from ticket_enricher.consumers.operations.status import status
from ticket_enricher.consumers.worker import Worker
from ticket_enricher.core.events import DeletionRequest, Subject
from ticket_enricher.localkafka import LocalBroker
from ticket_enricher.samples import generate
from ticket_enricher.testing.openai_server import FakeOpenAI, diligent, ticket_of

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]
CLI = str(Path(sys.executable).with_name("ticket-enricher"))
MECHANISM = "SCRAM-SHA-512"
USERS = ("admin", "svc-enricher", "desk", "privacy", "ops")


@pytest.fixture(scope="module")
def authorizing_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalBroker, dict[str, str]]]:
    passwords = {user: secrets.token_urlsafe(18) for user in USERS}
    broker = LocalBroker(tmp_path_factory.mktemp("acls"), heap="512m", scram=(MECHANISM, passwords),
                         super_users=("admin",))
    broker.start(say=lambda message: None)
    try:
        yield broker, passwords
    finally:
        broker.stop()


async def test_every_principal_does_its_job_with_exactly_the_acls_it_is_given(
    authorizing_broker: tuple[LocalBroker, dict[str, str]], tmp_path: Path
) -> None:
    broker, passwords = authorizing_broker
    llm = FakeOpenAI().start()
    llm.script = diligent
    run = uuid.uuid4().hex[:8]
    common: dict[str, dict[str, Any]] = {
        "kafka": {"bootstrap_servers": broker.sasl_bootstrap, "security_protocol": "SASL_PLAINTEXT",
                  "sasl_mechanism": MECHANISM, "group_id": f"g-{run}"},
        "topics": {"tickets": f"t-{run}", "enriched": f"e-{run}", "dlq": f"d-{run}",
                   "deletion_requests": f"f-{run}", "deletion_completed": f"fc-{run}"},
        "retry": {"tiers_seconds": [1, 2]}, "privacy": {"tiers_seconds": [1, 2]},
        "acls": {"worker": "User:svc-enricher", "ticket_producers": ["User:desk"],
                 "privacy_requesters": ["User:privacy"], "operators": ["User:ops"]},
        "memory": {"path": str(tmp_path / "memory.db")}, "ops": {"http_port": 0},
        "model": {"name": "fake-llm", "base_url": llm.url + "/v1"},
    }
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MEM0_", "TICKET_", "KAFKA_"))}
    base_env |= {f"TICKET_ENRICHER_{table.upper()}__{key.upper()}": v if isinstance(v, str) else json.dumps(v)
                 for table, values in common.items() for key, v in values.items()}

    def settings_as(user: str) -> Settings:
        loaded = load_settings(None, **{**common, "kafka": {**common["kafka"], "sasl_username": user}})
        return loaded.model_copy(update={"kafka_sasl_password": SecretStr(passwords[user])})

    def admin(*args: str) -> subprocess.CompletedProcess[str]:
        env = base_env | {"TICKET_ENRICHER_KAFKA__SASL_USERNAME": "admin", "KAFKA_SASL_PASSWORD": passwords["admin"]}
        return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=120)

    try:
        created = admin("topics", "create")
        assert created.returncode == 0, created.stderr
        applied = admin("acls", "--apply", "--json")
        assert applied.returncode == 0, applied.stderr
        granted = [json.loads(line) for line in applied.stdout.splitlines()]
        assert {g["principal"] for g in granted} == {"User:svc-enricher", "User:desk", "User:privacy", "User:ops"}
        assert [g for g in granted if g["principal"] == "User:desk"] == [
            {"principal": "User:desk", "resource": "topic", "name": f"t-{run}", "pattern": "literal",
             "operation": "write", "permission": "allow", "host": "*"}]

        worker_s, desk, privacy, ops = (settings_as(u) for u in ("svc-enricher", "desk", "privacy", "ops"))
        routes = worker_s.routes()
        stream = generate(seed=91, accounts=3)
        slow = stream.events[0]
        refused: list[str] = []
        lock = threading.Lock()

        def refuse(body: dict[str, Any]) -> dict[str, str] | None:
            with lock:
                if ticket_of(body)["ticket_id"] == slow.ticket.id and not refused:
                    refused.append(slow.ticket.id)
                    return {"Retry-After": "1"}
            return None

        llm.refuse = refuse
        async with Worker(worker_s):
            await publish_over(desk, stream.events)
            producer = AIOKafkaProducer(**client_options(desk), request_timeout_ms=10_000)
            await producer.start()
            try:
                await producer.send_and_wait(routes.tickets.topic, b"{poison", key=b"acct-x")
                forbidden = {}
                for topic in (routes.tickets.tiers[0].topic, routes.deletions.topic, routes.tickets.dlq,
                              routes.deletions.tiers[0].topic, routes.deletions.dlq, routes.enriched):
                    try:
                        await producer.send_and_wait(topic, b'{"forged": true}', key=b"acct-x")
                        forbidden[topic] = "accepted"
                    except KafkaError as error:
                        forbidden[topic] = type(error).__name__
            finally:
                await producer.stop()
            assert all(v == "TopicAuthorizationFailedError" for v in forbidden.values()), forbidden

            # read as the administrator: the worker may write the output topic, not read it
            assert await enriched(settings_as("admin"), len(stream.events)) == len(stream.events)
            assert refused == [slow.ticket.id], "the 429 did not send an event through a delay tier"
            account = stream.events[-1].account_id
            request = DeletionRequest(request_id="dsar-acl", subject=Subject(account_id=account),
                                      requested_at=datetime.now(UTC))
            completed = await send_request(privacy, request, wait=90)
            assert completed is not None and completed.verification.verified

            now = await status(ops)
            assert {g.group for g in now.groups} == set(routes.live_groups)
            assert next(g for g in now.groups if g.group == routes.tickets.group).members
            letters = [x async for x in read_dead_letters(ops)]
            assert [(x.route.flow, x.reason) for x in letters] == [("tickets", "invalid_json")]
            dry = await run_replay(ops, f"{routes.replay_prefix}acl-check", datetime.now(UTC) - timedelta(hours=1),
                                   None, dry_run=True)
            assert dry.finished and sum(dry.outcomes.values()) >= len(stream.events)
    finally:
        llm.stop()
