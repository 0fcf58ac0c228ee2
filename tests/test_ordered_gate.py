"""The key-ordered consumer's gate: while it is shut (the model's breaker is open) no record starts and every
partition is paused, the member stays in its group, and when it opens the records flow in order."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.ordered_helpers import Recorder, member, publish, wait_until

pytestmark = pytest.mark.kafka


async def test_a_shut_gate_pauses_every_partition_and_starts_nothing_until_it_opens(
        kafka_bootstrap: str, topic_factory) -> None:
    topic = await topic_factory(3)
    await publish(kafka_bootstrap, topic, keys=12, per_key=5)
    shut = {"for": 30.0}
    recorder = Recorder()
    consumer = member(kafka_bootstrap, topic, f"gate-{uuid.uuid4().hex[:6]}", recorder, max_in_flight=4,
                      gate=lambda: shut["for"])
    await consumer.start()
    try:
        await wait_until(lambda: len(consumer.assignment) == 3)
        await wait_until(lambda: consumer.paused == consumer.assignment)
        await asyncio.sleep(1.5)  # several poll rounds: still nothing started, still paused, still a member
        assert recorder.total() == 0 and consumer.in_flight == 0
        assert consumer.paused == consumer.assignment and len(consumer.assignment) == 3
        shut["for"] = 0.0
        await wait_until(lambda: recorder.total() == 60)
        assert all(seqs == list(range(5)) for seqs in recorder.seen.values()), "out of order after the gate"
        assert recorder.overlaps == []
        await wait_until(lambda: consumer.paused == set())
    finally:
        await consumer.stop()
