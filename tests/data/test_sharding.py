"""Each worker's share of the batches: equal slices of every global batch, contiguous ranges for evaluation."""

from __future__ import annotations

import pytest

from workbench.data.sharding import WHOLE, Shard, check_global_batch, evaluation_bounds, training_shard
from workbench.data.splitting import batch_bounds
from workbench.errors import ConfigError


def test_workers_split_every_global_batch_evenly_and_together_cover_it() -> None:
    bounds = batch_bounds(1294, 32, training=True)  # the last batch has 14 samples
    shares = [training_shard(bounds, Shard(rank, 2)) for rank in range(2)]
    assert len(shares[0]) == len(shares[1]) == len(bounds)
    for (start, stop), first, second in zip(bounds, *shares, strict=True):
        assert first == (start, start + (stop - start) // 2) and second == (first[1], stop)


def test_a_last_batch_that_does_not_divide_loses_its_remainder_and_one_smaller_than_the_workers_goes() -> None:
    assert training_shard([(0, 8), (8, 15)], Shard(2, 3)) == [(4, 6), (12, 14)]  # 15th sample dropped
    assert training_shard([(0, 8), (8, 10)], Shard(0, 3)) == [(0, 2)]


def test_one_process_takes_every_batch_whole() -> None:
    bounds = batch_bounds(100, 32, training=True)
    assert training_shard(bounds, WHOLE) == bounds
    assert evaluation_bounds(100, 32, WHOLE) == batch_bounds(100, 32, training=False)


@pytest.mark.parametrize("workers", [2, 3, 7])
def test_evaluation_ranges_cover_the_split_once_in_sample_order(workers: int) -> None:
    covered = [
        i
        for rank in range(workers)
        for start, stop in evaluation_bounds(359, 50, Shard(rank, workers))
        for i in range(start, stop)
    ]
    assert covered == list(range(359))


def test_a_global_batch_that_does_not_divide_among_the_workers_is_refused_naming_both() -> None:
    check_global_batch(64, 2)
    with pytest.raises(ConfigError, match=r"data.batch_size=63 does not divide among 2 workers.*multiple of 2"):
        check_global_batch(63, 2)
