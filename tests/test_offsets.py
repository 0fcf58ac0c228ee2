"""The commit point when records of one partition finish out of order."""

from __future__ import annotations

import random

import pytest

from consumers.offsets import PartitionOffsets


def test_nothing_to_commit_before_the_first_record_is_done() -> None:
    o = PartitionOffsets()
    for off in (10, 11, 12):
        o.fetched(off)
    assert o.commit_point() is None
    o.done(11)
    assert o.commit_point() is None, "10 is not done, so nothing may be committed yet"
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
    assert o.uncommitted() == 1
    o.committed = 1
    assert o.uncommitted() is None
    o.fetched(1)
    assert o.uncommitted() is None
    o.done(1)
    assert o.uncommitted() == 2


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
        expected = None if prefix == 0 else (offsets[prefix] if prefix < len(offsets) else offsets[-1] + 1)
        assert o.commit_point() == expected
