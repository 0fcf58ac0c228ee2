"""The commit point when records of one partition finish out of order."""

from __future__ import annotations

import random

import pytest

from ticket_enricher.consumers.engine.offsets import PartitionOffsets, decode_done, encode_done


def test_nothing_to_commit_before_a_record_is_done() -> None:
    o = PartitionOffsets()
    assert o.commit_point() is None and o.uncommitted() is None
    for off in (10, 11, 12):
        o.fetched(off)
    assert o.uncommitted() is None
    o.done(11)
    uncommitted = o.uncommitted()
    assert uncommitted is not None
    point, metadata = uncommitted
    assert point == 10, "10 is not done, so the position may not move past it"
    assert decode_done(point, metadata) == {11}, "but the next owner learns that 11 is done"
    assert o.outstanding == 2


def test_commit_point_is_the_first_offset_not_done() -> None:
    o = PartitionOffsets()
    for off in (10, 11, 12, 13):
        o.fetched(off)
    o.done(10)
    assert o.commit_point() == 11
    o.done(12)
    assert o.commit_point() == 11
    o.done(11)
    assert o.commit_point() == 13
    o.done(13)
    assert o.commit_point() == 14
    assert o.outstanding == 0


def test_gaps_in_offsets_are_skipped() -> None:
    """Compacted topics and transaction markers leave holes; the point jumps to the next fetched offset."""
    o = PartitionOffsets()
    for off in (5, 9, 20):
        o.fetched(off)
    o.done(5)
    assert o.commit_point() == 9
    o.done(9)
    o.done(20)
    assert o.commit_point() == 21


def test_uncommitted_reports_only_progress() -> None:
    o = PartitionOffsets()
    o.fetched(0)
    o.done(0)
    assert o.uncommitted() == (1, "")
    o.committed = (1, "")
    assert o.uncommitted() is None
    o.fetched(1)
    o.fetched(2)
    assert o.uncommitted() is None
    o.done(2)
    uncommitted = o.uncommitted()
    assert uncommitted is not None
    point, metadata = uncommitted
    assert (point, decode_done(point, metadata)) == (1, {2})
    o.done(1)
    assert o.uncommitted() == (3, "")


def test_done_offsets_round_trip_through_metadata() -> None:
    rng = random.Random(1)
    done = sorted(rng.sample(range(101, 1100), 400))
    text = encode_done(100, done)
    assert text.startswith("te1:") and len(text) < 400
    assert decode_done(100, text) == set(done)
    assert decode_done(100, "") == set() and decode_done(100, "someone else's note") == set()
    assert decode_done(100, "te1:not base64!") == set()


def test_metadata_that_would_not_fit_is_left_out() -> None:
    rng = random.Random(2)
    done = sorted(rng.sample(range(1, 200_000), 20_000))  # incompressible: far beyond the broker's limit
    assert encode_done(0, done) == ""


def test_a_partition_knows_what_its_previous_owner_finished() -> None:
    o = PartitionOffsets(already_done=decode_done(5, encode_done(5, [6, 8])))
    assert o.already_done == {6, 8}


def test_offsets_must_increase() -> None:
    o = PartitionOffsets()
    o.fetched(3)
    with pytest.raises(ValueError, match="must increase"):
        o.fetched(3)


def test_random_completion_order_matches_a_reference() -> None:
    rng = random.Random(7)
    offsets = sorted(rng.sample(range(10_000), 500))
    o = PartitionOffsets()
    for off in offsets:
        o.fetched(off)
    done: set[int] = set()
    for off in rng.sample(offsets, len(offsets)):
        o.done(off)
        done.add(off)
        prefix = 0
        while prefix < len(offsets) and offsets[prefix] in done:
            prefix += 1
        expected = offsets[prefix] if prefix < len(offsets) else offsets[-1] + 1
        assert o.commit_point() == expected
        uncommitted = o.uncommitted()
        assert uncommitted is not None
        point, metadata = uncommitted
        assert decode_done(point, metadata) == {d for d in done if d > point}


def test_finished_since_names_what_this_tracker_saw_done() -> None:
    offsets = PartitionOffsets()
    for o in range(10, 16):
        offsets.fetched(o)
    for o in (10, 11, 13, 15):
        offsets.done(o)
    assert offsets.finished_since(0) == {10, 11, 13, 15}  # nothing below the first fetched offset
    assert offsets.finished_since(11) == {11, 13, 15}
    assert PartitionOffsets().finished_since(0) == set()
