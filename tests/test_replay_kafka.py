"""`replay` on the real broker: exactly the window, stops at the end, reruns change nothing, interrupts resume."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import TopicReader, command_env
from ticket_enricher.cli.replay import parse_when, run_replay
from ticket_enricher.config.settings import Settings
from ticket_enricher.consumers.flows.replay import plan
from ticket_enricher.core.errors import LiveGroup
from ticket_enricher.core.events import Requester, Ticket, TicketEvent

pytestmark = pytest.mark.kafka
# recent: a broker deletes records older than its retention (7 days by default), whatever a test expects
T0 = (datetime.now(UTC) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
CLI = str(Path(sys.executable).with_name("ticket-enricher"))


def event(i: int, accounts: int = 3, *, body: str = "The export failed again, we are losing data.",
          requester: str | None = None) -> TicketEvent:
    return TicketEvent(
        event_id=f"ev-{i}", type="ticket.created", occurred_at=T0 + timedelta(minutes=i),
        account_id=f"acct-{i % accounts}",
        ticket=Ticket(id=f"t-{i}", subject="Export broken", body=body, priority="high", channel="email",
                      requester=Requester(id=requester) if requester else None),
    )


async def publish_at(producer: AIOKafkaProducer, topic: str, events: list[TicketEvent]) -> None:
    """Each event with its own broker timestamp (= occurred_at), as a desk publishing over time would."""
    for e in events:
        await producer.send(topic, e.model_dump_json().encode(), key=e.account_id.encode(),
                            timestamp_ms=int(e.occurred_at.timestamp() * 1000))
    await producer.flush()


def notes(path: Path) -> Counter[str]:
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT metadata FROM memories").fetchall()
    finally:
        db.close()
    metas = [json.loads(m) for (m,) in rows]
    return Counter(m["event_id"] for m in metas if m.get("kind") == "ticket_note")


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def test_when_parses_iso_and_ages() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert parse_when("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_when("2026-11-01T08:30:00+01:00") == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
    assert parse_when("36h", now) == now - timedelta(hours=36)
    assert parse_when("7d", now) == now - timedelta(days=7)


async def test_a_window_is_replayed_exactly_once_and_reruns_change_nothing(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader
) -> None:
    events = [event(i) for i in range(30)]
    await publish_at(producer, kafka_settings.topics.tickets, events)
    group = f"{kafka_settings.kafka.group_id}.backfill"

    report = await run_replay(kafka_settings, group, at(10), at(20))
    assert report.finished and report.total == 10
    assert report.outcomes == {"processed": 10}
    window = {f"ev-{i}" for i in range(10, 20)}
    assert notes(kafka_settings.memory.path) == Counter({e: 1 for e in window})
    enriched = [json.loads(r.value)["event_id"]
                for r in await reader.read_to_end(kafka_settings.topics.enriched)]
    assert sorted(enriched) == sorted(window)

    # the same group: the window is finished, nothing to do
    again = await run_replay(kafka_settings, group, at(10), at(20))
    assert again.total == 0 and again.finished
    # another group over the same window: every event is recognised as done by the current planner
    other = await run_replay(kafka_settings, f"{group}-2", at(10), at(20))
    assert other.outcomes == {"already_done": 10}
    assert notes(kafka_settings.memory.path) == Counter({e: 1 for e in window})
    assert len(await reader.read_to_end(kafka_settings.topics.enriched)) == 10, "a skipped event was re-published"

    # a dry run over everything reports the 20 events outside the window and writes and commits nothing
    dry = await run_replay(kafka_settings, f"{group}-dry", at(0), None, dry_run=True)
    assert dry.outcomes == {"would_process": 20, "already_done": 10}
    assert notes(kafka_settings.memory.path) == Counter({e: 1 for e in window})
    assert (await plan(kafka_settings, f"{group}-dry", at(0), None)).resumed == 0, "a dry run committed"

    only = await run_replay(kafka_settings, f"{group}-a1", at(0), at(30), accounts=frozenset({"acct-1"}))
    assert only.outcomes["outside_accounts"] == 20 and only.outcomes["processed"] + only.outcomes[
        "already_done"] == 10
    assert set(notes(kafka_settings.memory.path)) == window | {f"ev-{i}" for i in range(30) if i % 3 == 1}


async def test_the_live_group_is_refused(kafka_settings: Settings) -> None:
    with pytest.raises(LiveGroup):
        await plan(kafka_settings, kafka_settings.kafka.group_id, at(0), None)
    with pytest.raises(LiveGroup):
        await plan(kafka_settings, f"{kafka_settings.kafka.group_id}.delays", at(0), None)


async def test_a_rules_change_reevaluates_and_records_the_planner(
    kafka_settings: Settings, producer: AIOKafkaProducer
) -> None:
    events = [event(i, accounts=1, body="We were charged twice this month.") for i in range(4)]
    await publish_at(producer, kafka_settings.topics.tickets, events)
    first = await run_replay(kafka_settings, "g-before", at(0), None)
    assert first.outcomes == {"processed": 4} and first.tagged >= 1

    stricter = kafka_settings.model_copy(update={"tags": {
        **kafka_settings.tags,
        "billing_dispute": kafka_settings.tags["billing_dispute"].model_copy(update={"min_events": 10}),
    }})
    second = await run_replay(stricter, "g-after", at(0), None)
    assert second.outcomes == {"processed": 4}, "a changed rule set must re-evaluate, not skip"
    db = sqlite3.connect(kafka_settings.memory.path)
    metas = [json.loads(m) for (m,) in db.execute("SELECT metadata FROM memories").fetchall()]
    db.close()
    note_meta = [m for m in metas if m.get("kind") == "ticket_note"]
    assert len(note_meta) == 4, "a re-evaluation duplicated a note"
    assert all(m["previous_planner"] and m["planner"] != m["previous_planner"] for m in note_meta)
    profile = next(m for m in metas if m.get("kind") == "account_profile")
    assert "billing_dispute" not in profile["tags"], "the stricter rule did not clear the tag"
    assert "billing_dispute" in profile["last_cleared"], "the clearing carries no reason"


async def test_an_interrupted_replay_resumes_without_duplicates(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader
) -> None:
    events = [event(i, accounts=5) for i in range(60)]
    await publish_at(producer, kafka_settings.topics.tickets, events)
    env = command_env(kafka_settings)
    command = [CLI, "replay", "--since", T0.isoformat(), "--rate", "5"]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    await asyncio.sleep(4.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "rerun the same command to resume" in err, err
    partial = notes(kafka_settings.memory.path)
    assert 0 < len(partial) < len(events), f"the interrupt came too late or too early to prove anything: {err}"

    done = subprocess.run(command[:-2], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stderr and "finished" in done.stderr, done.stderr
    assert notes(kafka_settings.memory.path) == Counter({e.event_id: 1 for e in events})
    enriched = Counter(json.loads(r.value)["event_id"]
                       for r in await reader.read_to_end(kafka_settings.topics.enriched))
    assert set(enriched) == {e.event_id for e in events}
    assert sum(enriched.values()) - len(events) <= 8, "more events re-run than were in flight at the interrupt"
