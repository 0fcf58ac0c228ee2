"""`partition_for` (send_many's memoised partitioning) picks what the producer's own partitioner picks."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner

from ticket_enricher.consumers.engine.publishing import partition_for


def test_partition_for_is_the_default_partitioners_choice_for_every_key_again_and_again() -> None:
    keys = [f"acct-{i}".encode() for i in range(500)] + [b"", "ünï-cödé".encode(), bytes(range(256))]
    for partitions in ([0], [0, 1, 2], list(range(7))):
        for _ in range(2):  # the second time from the memo
            assert [partition_for(k, partitions) for k in keys] == \
                [DefaultPartitioner()(k, partitions, partitions) for k in keys]
    assert partition_for(None, [0, 1, 2]) in {0, 1, 2}
