"""Which samples each worker of a distributed run takes: its share of every batch.

Training: ``data.batch_size`` is the global batch. Each of the N workers takes an equal,
contiguous slice of every global batch of the seeded epoch order, so that the gradient
DistributedDataParallel averages is the gradient of the same global batch one process would
take, and the run sees the same batches with any number of workers. The last batch of an epoch
loses up to N-1 samples, so that it divides evenly too.

Evaluation (validation, test): each worker takes a contiguous range of the split, in sample
order, and batches it; the workers' totals are summed and their outputs, put one after the
other, are the split in order. No torch here: the bounds are plain numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import ConfigError


@dataclass(frozen=True)
class Shard:
    """This worker's place among the workers of a run (``rank`` of ``workers``)."""

    rank: int = 0
    workers: int = 1

    @property
    def alone(self) -> bool:
        return self.workers == 1


#: One process, taking every sample: a run that is not distributed.
WHOLE = Shard()


def check_global_batch(batch_size: int, workers: int) -> None:
    """A global batch must divide evenly among the workers: one line naming both numbers."""
    if batch_size % workers:
        raise ConfigError(
            f"data.batch_size={batch_size} does not divide among {workers} workers; it is the global batch, "
            f"each worker takes batch_size/{workers}: use a multiple of {workers} (e.g. {batch_size - batch_size % workers or workers})",
            field="data.batch_size",
        )


def training_shard(bounds: list[tuple[int, int]], shard: Shard) -> list[tuple[int, int]]:
    """This worker's (start, stop) in each global training batch: positions in the epoch's order.

    A batch that does not divide evenly is cut to the largest multiple of the workers; one
    with fewer samples than workers is dropped."""
    if shard.alone:
        return bounds
    share: list[tuple[int, int]] = []
    for start, stop in bounds:
        each = (stop - start) // shard.workers
        if each == 0:
            continue
        first = start + shard.rank * each
        share.append((first, first + each))
    return share


def evaluation_range(count: int, shard: Shard) -> tuple[int, int]:
    """This worker's contiguous (start, stop) of an evaluation split of ``count`` samples; the
    first ``count % workers`` workers take one sample more."""
    each, extra = divmod(count, shard.workers)
    start = shard.rank * each + min(shard.rank, extra)
    return start, start + each + (1 if shard.rank < extra else 0)


def evaluation_bounds(count: int, batch_size: int, shard: Shard) -> list[tuple[int, int]]:
    """(start, stop) of this worker's evaluation batches: its range, cut into batches."""
    start, stop = evaluation_range(count, shard)
    return [(first, min(first + batch_size, stop)) for first in range(start, stop, batch_size)]
