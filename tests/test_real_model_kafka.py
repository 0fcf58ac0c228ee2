"""On a real model server (llama.cpp's, SmolLM2-135M-Instruct) through a real broker, `run --model` and `eval
--model`: every event ends enriched or dead-lettered with the model's misbehaviour as the reason, none is lost,
none crosses accounts, and the worker and the server stay up. The tiny model's judgment is not the point; a real,
unpredictable model on a real server is."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.conftest import command_env, publish_over
from ticket_enricher.agents.planners.cascade import sampled
from ticket_enricher.config.settings import Settings
from ticket_enricher.localmodel import LocalModelServer
from ticket_enricher.memory.sqlite import SqliteMemoryStore
from ticket_enricher.samples import generate

pytestmark = [pytest.mark.kafka, pytest.mark.model_server]

CLI = str(Path(sys.executable).with_name("ticket-enricher"))
# Bounded so that a 135M model on two shared cores finishes in a few minutes: 4 turns, 160 output tokens a call.
MODEL_ENV = {"AGENT__MAX_TURNS": "4", "MODEL__MAX_OUTPUT_TOKENS": "160", "MODEL__TIMEOUT_SECONDS": "90"}
MISBEHAVIOUR = {"model_misbehaved"}


def events_of(accounts: int, per_account: int) -> list:
    stream = generate(seed=11, accounts=accounts)
    by_account: dict[str, list] = {}
    for event in stream.events:
        by_account.setdefault(event.account_id, []).append(event)
    return [e for evs in by_account.values() for e in evs[:per_account]]


def model_env(settings: Settings, server: LocalModelServer) -> dict[str, str]:
    env = command_env(settings, **MODEL_ENV)
    return env | {"TICKET_ENRICHER_MODEL__NAME": server.model, "TICKET_ENRICHER_MODEL__BASE_URL": server.base_url}


async def outcomes(settings: Settings, wanted: set[str], timeout: float,
                   worker: subprocess.Popen[str]) -> tuple[dict[str, dict], dict[str, str]]:
    """Enriched events and dead-letter reasons by event id, read until every wanted id is one or the other (or
    the worker exits)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    enriched: dict[str, dict] = {}
    dead: dict[str, str] = {}
    try:
        parts = [TopicPartition(t, p) for t in (settings.topics.enriched, settings.topics.dlq)
                 for p in range(settings.topics.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        deadline = asyncio.get_running_loop().time() + timeout
        while (wanted - set(enriched) - set(dead) and asyncio.get_running_loop().time() < deadline
               and worker.poll() is None):
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for record in records:
                    body = json.loads(record.value)
                    if tp.topic == settings.topics.enriched:
                        enriched[body["event_id"]] = body
                    else:
                        dead[body["event_id"]] = dict(record.headers)["x-dlq-reason"].decode()
        return enriched, dead
    finally:
        await consumer.stop()


async def no_memory_crosses_accounts(path: Path, accounts: set[str], enriched: dict[str, dict]) -> None:
    store = SqliteMemoryStore(path)
    try:
        ids_by_account = {}
        for account in accounts:
            found = await store.list(filters={"user_id": account}, page_size=200)
            assert all(m.user_id == account for m in found.results)
            ids_by_account[account] = {m.id for m in found.results}
        for out in enriched.values():
            assert set(out["memory_ids"]) <= ids_by_account[out["account_id"]], out
    finally:
        await store.close()


@pytest.mark.timeout(600)
async def test_run_with_a_real_model_ends_every_event_and_keeps_the_server_up(
        kafka_settings: Settings, model_server: LocalModelServer, tmp_path: Path) -> None:
    events = events_of(accounts=3, per_account=2)
    worker = subprocess.Popen([CLI, "run"], env=model_env(kafka_settings, model_server),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        await publish_over(kafka_settings, events)
        wanted = {e.event_id for e in events}
        enriched, dead = await outcomes(kafka_settings, wanted, timeout=480, worker=worker)
        assert worker.poll() is None, "the worker died"
        assert wanted == set(enriched) | set(dead), f"lost: {wanted - set(enriched) - set(dead)}"
        assert set(dead.values()) <= MISBEHAVIOUR, dead
        for output in enriched.values():
            cost = output["cost"]
            assert cost["model_calls"] + cost["replayed_turns"] >= 1 and cost["input_tokens"] > 0, output
            assert cost["cost_usd"] == 0.0, "smollm2 is priced at 0 in model.prices"
        assert httpx.get(model_server.base_url + "/models", timeout=30).status_code == 200, "the server died"
        assert model_server.running()
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=90)
        print(out[-3000:])
    assert worker.returncode == 0, out[-3000:]
    await no_memory_crosses_accounts(kafka_settings.memory.path, {e.account_id for e in events}, enriched)


@pytest.mark.timeout(600)
def test_eval_with_a_real_model_reports_every_event_and_what_it_cost(
        kafka_settings: Settings, model_server: LocalModelServer, tmp_path: Path) -> None:
    stream = generate(seed=12, accounts=3)
    events = events_of(accounts=3, per_account=2)
    (tmp_path / "events.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in events))
    accounts = sorted({e.account_id for e in events})
    (tmp_path / "labels.tsv").write_text("account_id\tchurn_risk\n" + "".join(
        f"{a}\t{int('churn_risk' in stream.truth.get(a, frozenset()))}\n" for a in accounts))
    result = subprocess.run([CLI, "eval", "--events", str(tmp_path / "events.jsonl"), "--labels",
                             str(tmp_path / "labels.tsv"), "--json", "--model", model_server.model],
                            env=model_env(kafka_settings, model_server), capture_output=True, text=True, timeout=540)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    (planner,) = json.loads(result.stdout)["planners"]
    assert planner["name"] == "smollm2"
    assert all(f["reason"].split(":")[0] in MISBEHAVIOUR for f in planner["failures"]), planner["failures"]
    assert (result.returncode == 1) == bool(planner["failures"])
    per_k = planner["per_1000_events"]
    assert per_k["model_calls"] >= 1000 and per_k["input_tokens"] > 0 and per_k["cost_usd"] == 0.0
    assert httpx.get(model_server.base_url + "/models", timeout=30).status_code == 200, "the server died"


@pytest.mark.timeout(600)
def test_eval_of_a_cascade_on_a_real_model_pays_only_for_the_events_it_escalates(
        kafka_settings: Settings, model_server: LocalModelServer, tmp_path: Path) -> None:
    """`model.mode = "cascade"` on the real server: the rules judge all six events; the sampled half (by
    sha256(event_id), no threshold) goes to the model, and only those cost calls."""
    events = events_of(accounts=3, per_account=2)
    (tmp_path / "events.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in events))
    (tmp_path / "labels.tsv").write_text("account_id\tchurn_risk\n" + "".join(
        f"{a}\t0\n" for a in sorted({e.account_id for e in events})))
    sample = 0.5
    expected = sum(sampled(e.event_id, sample) for e in events)
    assert 0 < expected < len(events), "the fixture escalates some events and not others"
    env = model_env(kafka_settings, model_server) | {
        "TICKET_ENRICHER_MODEL__MODE": "cascade", "TICKET_ENRICHER_CASCADE__THRESHOLD": "0",
        "TICKET_ENRICHER_CASCADE__SAMPLE": str(sample),
        "TICKET_ENRICHER_CASCADE__THRESHOLDS": json.dumps({"outage_affected": 0})}
    result = subprocess.run([CLI, "eval", "--events", str(tmp_path / "events.jsonl"), "--labels",
                             str(tmp_path / "labels.tsv"), "--json", "--model", model_server.model],
                            env=env, capture_output=True, text=True, timeout=540)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    (planner,) = json.loads(result.stdout)["planners"]
    assert planner["name"] == f"cascade(rules→{model_server.model})"
    assert all(f["reason"].split(":")[0] in MISBEHAVIOUR for f in planner["failures"]), planner["failures"]
    assert planner["escalated"] + len(planner["failures"]) >= expected >= planner["escalated"]
    calls = planner["per_1000_events"]["model_calls"] * len(events) / 1000
    assert expected <= round(calls) <= expected * int(MODEL_ENV["AGENT__MAX_TURNS"]), (calls, expected)
    assert httpx.get(model_server.base_url + "/models", timeout=30).status_code == 200, "the server died"
