"""bench/peer.py and bench/peer_child.py without a broker or the peer: the workload, the meter, the rate and the
table (no timing)."""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict

import pytest

from bench import peer, peer_child


def test_the_workload_spreads_100_keys_over_4_partitions_like_their_producer() -> None:
    batch = peer_child.workload(2000)
    assert len(batch) == 2000
    keys = Counter(key for _, key, _ in batch)
    assert len(keys) == 100 and set(keys.values()) == {20}
    partitions_of_key: dict[bytes, set[int]] = defaultdict(set)
    for partition, key, _ in batch:
        partitions_of_key[key].add(partition)
    assert all(len(p) == 1 for p in partitions_of_key.values())  # a key lives on one partition
    per_partition = Counter(p.pop() for p in partitions_of_key.values())
    assert set(per_partition) == {0, 1, 2, 3} and min(per_partition.values()) >= 20
    # librdkafka's default partitioner (their producer's): the standard CRC-32 of the key (check value 0xCBF43926)
    assert peer_child.partition_of(b"123456789", 0xCBF43926 + 1) == 0xCBF43926


def test_sequences_count_up_per_key_in_offset_order_with_their_payload_shape() -> None:
    batch = peer_child.workload(300, keys=7, partitions=3)
    seen: dict[str, int] = {}
    for partition, key, value in batch:
        payload = json.loads(value)
        assert set(payload) == {"key", "sequence", "timestamp"} and payload["key"].encode() == key
        assert payload["sequence"] == seen.get(payload["key"], -1) + 1
        seen[payload["key"]] = payload["sequence"]
        assert 0 <= partition < 3
    assert 55 <= len(batch[0][2]) <= 75  # about their ~60-byte messages


def test_the_meter_counts_inversions_overlaps_and_repeats() -> None:
    m = peer_child.Meter(total=4)
    m.start("a", 0, now=1.0)
    m.start("a", 1, now=1.0)  # a second message of "a" while the first runs
    m.start("b", 0, now=1.0)
    assert m.peak_running == 3 and m.overlaps == 1
    m.finish("a", 1, now=1.5)
    m.finish("a", 0, now=1.6)  # finished after a later one of its key: an inversion
    m.finish("b", 0, now=1.7)
    m.start("b", 0, now=1.8)
    m.finish("b", 0, now=1.9)  # a redelivery: counted once, as a repeat
    assert (m.done, m.inversions, m.repeats) == (3, 1, 1)
    m.start("b", 1, now=2.0)
    m.finish("b", 1, now=2.0)
    assert (m.done, m.inversions, m.overlaps) == (4, 1, 1)
    assert m.last_done == 2.0


def test_in_order_completions_have_no_inversions() -> None:
    done: list[int] = []
    m = peer_child.Meter(total=6, on_complete=lambda: done.append(m.done))
    for sequence in range(3):
        for key in ("x", "y"):
            m.start(key, sequence, now=float(sequence))
            m.finish(key, sequence, now=float(sequence) + 0.5)
    assert (m.inversions, m.overlaps, m.repeats) == (0, 0, 0)
    assert done == [6]  # told once, when the last message completed


def test_rate_is_over_first_start_to_last_completion() -> None:
    assert peer_child.rate(2000, 10.0, 12.0) == pytest.approx(1000.0)
    assert peer_child.rate(0, None, 0.0) == 0.0
    assert peer_child.rate(1, 5.0, 5.0) == 0.0  # no span to measure
    m = peer_child.Meter(total=2)
    m.start("k", 0, now=100.0)
    m.finish("k", 0, now=100.5)
    m.start("k", 1, now=100.5)
    m.finish("k", 1, now=101.0)
    assert m.rate == pytest.approx(2.0)
    assert m.result()["seconds"] == pytest.approx(1.0)


def test_the_table_prints_ratios_to_each_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    def row(config: str, rate: float) -> dict[str, object]:
        return {"config": config, "done": 2000, "rate": rate, "inversions": 0, "overlaps": 0, "peak_running": 1,
                "cpu_ms_per_msg": 0.1, "peak_rss_mb": 50.0, "client": "x"}

    rows = [{"config": "mode", "mode": "ran", "why": "", "messages": 2000},
            row("baseline", 100.0), row("pyrallel-async", 500.0), row("ours-baseline", 80.0), row("ours-100", 800.0)]
    peer.report_peer(rows)
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines() if line}
    assert lines["pyrallel-async"][3:5] == ["5.0x", "5.0x"]
    assert lines["ours-100"][3:5] == ["10.0x", "8.0x"]  # x ours-baseline, x the confluent baseline


def test_reproduced_mode_says_so_and_shows_the_published_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"config": "mode", "mode": "reproduced", "why": "pip failed", "messages": 2000},
            {"config": "ours-baseline", "done": 2000, "rate": 160.0, "inversions": 0, "overlaps": 0,
             "peak_running": 1, "cpu_ms_per_msg": 0.1, "peak_rss_mb": 30.0},
            {"config": "pyrallel-async (published)", "rate": 2206.35, "published_baseline": 159.69}]
    peer.report_peer(rows)
    out = capsys.readouterr().out
    assert "NOT run" in out and "pip failed" in out and "13.8x" in out


def test_the_module_imports_nothing_beyond_the_standard_library_at_top_level() -> None:
    """Its children run in the peer's virtualenv, which has neither aiokafka nor this project's dependencies."""
    import subprocess

    code = ("import sys, bench.peer, bench.peer_child; "
            "bad = [m for m in ('aiokafka', 'pydantic', 'config', 'consumers') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=peer.ROOT)
    assert out.stdout.strip() == "[]"
