"""A CPU run's share of the cores when other runs already train on this machine's CPU.

PyTorch gives a process one thread per core, and its OpenMP threads spin while they wait for
each other. Two runs with every core each stall one another far past half speed: on 2 cores,
digits-cnn trained at 1,260 samples/s in each of two runs where one alone trained at 16,500/s;
with one thread each they trained at 12,700/s each. A run that starts beside others on the CPU
takes its share of the cores (the runs already going keep theirs), and says so; on a machine
without a GPU, runs still starting count too, so that runs started together share. The user's
own choice (``OMP_NUM_THREADS``, which several workers also set) is left alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from workbench.formatting import counted
from workbench.runs.neighbours import cpu_runs_training_here


@contextmanager
def cpu_share(device: torch.device, run_id: str, deterministic: bool = False) -> Iterator[str]:
    """For the duration of a run on ``device``: its threads set to its share of the cores, and
    the warning that says so ("" when the run has them all); PyTorch's setting is restored after
    (in-process runs, as in the tests and the bench, leave the process as they found it).

    ``deterministic`` (``train.deterministic``) keeps every thread: how many threads add up a
    sum can change its last bits, and such a run must repeat whatever else trains beside it."""
    before = torch.get_num_threads()
    others = 0
    if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        gpus = torch.cuda.is_available() or torch.backends.mps.is_available()
        others = cpu_runs_training_here(but=run_id, count_starting=not gpus)
    share = max(1, before // (others + 1))
    if not others or share >= before:
        yield ""
        return
    if deterministic:
        yield (
            f"this machine's CPU already trains {counted(others, 'other run')}: train.deterministic keeps this "
            f"one's {counted(before, 'thread')}, as alone, and they stall each other (OMP_NUM_THREADS=N chooses)"
        )
        return
    torch.set_num_threads(share)
    try:
        yield (
            f"this machine's CPU already trains {counted(others, 'other run')}: this one uses "
            f"{counted(share, 'thread')} of {before}, so that they do not stall each other (OMP_NUM_THREADS=N chooses)"
        )
    finally:
        torch.set_num_threads(before)
