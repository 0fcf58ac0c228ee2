"""Two `ticket-enricher run` processes, as on two hosts, share one PostgreSQL: one is killed with -9 mid-stream,
every event still comes out with exactly one memory, and a deletion followed by a full replay leaves nothing of
the subject in any table. Checked with SQL on the database, not through the adapter."""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from tests.conftest import TopicReader
from tests.test_scaling_kafka import IN_FLIGHT, TURNS, Members, assert_drained, enriched_ids, wait_for
from ticket_enricher.cli.privacy import send_request
from ticket_enricher.cli.replay import run_replay
from ticket_enricher.config.settings import Settings
from ticket_enricher.core.events import DeletionRequest, Requester, Subject, Ticket, TicketEvent
from ticket_enricher.memory.tombstones import subject_hash
from ticket_enricher.samples.publish import publish_events
from ticket_enricher.testing.openai_server import FakeOpenAI

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.timeout(300)]
ACCOUNTS, PER_ACCOUNT = 30, 20
FORGOTTEN = "acct-07"
# everything that names the forgotten account or its events: its id, its event ids, its ticket ids
TRACES = [f"%{FORGOTTEN}%", "%ev-07-%", "%T07-%"]


def make_events() -> list[TicketEvent]:
    """acct-07 and acct-08 share a requester, so the subject index links a person to both."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    events = []
    for i in range(PER_ACCOUNT):
        for a in range(ACCOUNTS):
            person = "p-shared" if a in (7, 8) and i % 2 == 0 else f"p-{a:02d}"
            events.append(TicketEvent(
                event_id=f"ev-{a:02d}-{i}", type="ticket.created", occurred_at=start + timedelta(minutes=i),
                account_id=f"acct-{a:02d}",
                ticket=Ticket(id=f"T{a:02d}-{i}", subject="Dashboard down again", body="The outage is back.",
                              priority="high", channel="email", requester=Requester(id=person))))
    return events


async def rows(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def check_one_memory_per_event(dsn: str, events: list[TicketEvent]) -> None:
    notes = await rows(dsn, "SELECT user_id, metadata->>'event_id' AS event_id FROM memories "
                            "WHERE metadata->>'kind' = 'ticket_note'")
    found = Counter((r["user_id"], r["event_id"]) for r in notes)
    assert set(found) == {(e.account_id, e.event_id) for e in events}, "an event left no note, or a stray one"
    assert max(found.values()) == 1, f"duplicated notes: {[k for k, v in found.items() if v > 1][:5]}"
    profiles = await rows(dsn, "SELECT user_id, count(*) AS n FROM memories "
                               "WHERE metadata->>'kind' = 'account_profile' GROUP BY user_id")
    assert {r["user_id"]: r["n"] for r in profiles} == {e.account_id: 1 for e in events}
    turns = await rows(dsn, "SELECT metadata->>'event_id' AS event_id, metadata->>'turn' AS turn FROM memories "
                            "WHERE metadata->>'kind' = 'model_turn'")
    recorded = Counter((r["event_id"], r["turn"]) for r in turns)
    assert set(e for e, _ in recorded) == {e.event_id for e in events}, "an event's model turns went unrecorded"
    assert max(recorded.values()) == 1, "a model turn was recorded twice"


async def traces_of_the_subject(dsn: str) -> dict[str, int]:
    """Rows of every table whose text (all columns) names the forgotten account, its events or tickets."""
    found = {}
    for table in ("memories", "history", "events", "embeddings"):
        n = (await rows(dsn, f"SELECT count(*) AS n FROM {table} t WHERE t::text LIKE ANY($1::text[])",
                        TRACES))[0]["n"]
        if n:
            found[table] = n
    return found


async def test_two_members_on_one_database_lose_and_duplicate_nothing_and_forget_completely(
    kafka_settings: Settings, producer: AIOKafkaProducer, reader: TopicReader, slow_model: FakeOpenAI,
    postgres_dsn: str,
) -> None:
    settings = kafka_settings.model_copy(update={"memory": kafka_settings.memory.model_copy(update={
        "backend": "postgres", "dsn": SecretStr(postgres_dsn)})})
    events = make_events()
    members = Members(settings, slow_model.url)
    members.env |= {"TICKET_ENRICHER_MEMORY__BACKEND": "postgres", "TICKET_ENRICHER_MEMORY__DSN": postgres_dsn}
    await publish_events(producer, settings.topics.tickets, events)
    try:
        survivor = members.start()
        victim = members.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while len(await enriched_ids(reader, settings)) < len(events) // 6:
            assert loop.time() < deadline and victim.poll() is None, members.stderr()
            await asyncio.sleep(0.3)
        done = len(await enriched_ids(reader, settings))
        assert done < len(events), "the stream ended before the kill; the test proves nothing"
        # A zombie first: frozen with events in flight until the group gives its partitions to the survivor,
        # which runs those events again; thawed, it finishes them too, both writing the same notes. Then -9.
        victim.send_signal(signal.SIGSTOP)
        await asyncio.sleep(int(members.env["TICKET_ENRICHER_KAFKA__SESSION_TIMEOUT_MS"]) / 1000 + 3)
        victim.send_signal(signal.SIGCONT)
        await asyncio.sleep(1.5)
        victim.kill()  # SIGKILL: no drain, no commit, no leave; its partitions move after the session timeout
        victim.wait(timeout=10)
        seen = await wait_for(reader, settings, {e.event_id for e in events}, members)
        assert survivor.poll() is None, members.stderr()
        await assert_drained(settings)
        redelivered = sum(seen.values()) - len(events)
        print(f"two members, one frozen then killed -9 after {done} of {len(events)} events: {redelivered} "
              f"events enriched twice (up to {IN_FLIGHT} in flight on the victim), each still one memory")
        await check_one_memory_per_event(postgres_dsn, events)

        request = DeletionRequest(request_id="req-pg", subject=Subject(account_id=FORGOTTEN),
                                  requested_at=datetime.now(UTC))
        completed = await send_request(settings, request, wait=90)  # handled by the surviving member
        assert completed is not None and completed.verification.verified, completed
        # the notes, the profile, and each event's recorded model turns
        assert completed.memories_deleted == PER_ACCOUNT + 1 + TURNS * PER_ACCOUNT
    finally:
        members.stop_all()
    assert await traces_of_the_subject(postgres_dsn) == {}
    kept = [e for e in events if e.account_id != FORGOTTEN]
    await check_one_memory_per_event(postgres_dsn, kept)

    report = await run_replay(settings, "replay-everything", datetime.now(UTC) - timedelta(hours=1), None)
    assert report.finished
    assert report.outcomes["forgotten"] == PER_ACCOUNT, report.outcomes
    assert await traces_of_the_subject(postgres_dsn) == {}
    await check_one_memory_per_event(postgres_dsn, kept)
    # the tombstone and the index keep only hashes; the shared person's entry for acct-08 stays
    ledger = await rows(postgres_dsn, "SELECT metadata FROM memories WHERE agent_id = 'ticket-enricher.privacy'")
    tombstones = [r["metadata"] for r in ledger if json.loads(r["metadata"])["kind"] == "tombstone"]
    assert [json.loads(t)["subject_hash"] for t in tombstones] == [subject_hash("account", FORGOTTEN)]
    index = {(m["subject_hash"], m["account_id"]) for m in (json.loads(r["metadata"]) for r in ledger)
             if m["kind"] == "subject_account"}
    assert (subject_hash("user", "p-shared"), "acct-08") in index
    assert not any(account == FORGOTTEN for _, account in index)
