"""A CPU run started beside another on this machine's CPU takes its share of the cores: two runs
with every core each stalled one another (1,260 samples/s each against 16,500/s alone, 2 cores)."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from workbench.engine.control import Control
from workbench.engine.trainer import Trainer
from workbench.formatting import counted
from workbench.runs import events as ev

from ..processes import train_in_background
from .tiny import DETERMINISTIC, Recorder, tiny_spirals

CORES = os.cpu_count() or 1


def _train_here(*overrides: str) -> Recorder:
    """A tiny CPU run in this process, as a process of its own trains: every core, no
    OMP_NUM_THREADS (a test worker has one thread, chosen that way)."""
    recorder = Recorder()
    before = torch.get_num_threads()
    torch.set_num_threads(CORES)
    try:
        Trainer(tiny_spirals("train.device=cpu", *overrides), [recorder], Control()).run()
        assert torch.get_num_threads() == CORES  # the process is left as it was
    finally:
        torch.set_num_threads(before)
    return recorder


def _shares_said(recorder: Recorder) -> list[str]:
    return [w.message for w in recorder.of(ev.RunWarning) if "other run" in w.message]


@pytest.mark.slow
@pytest.mark.skipif(CORES < 2, reason="one core: nothing to share")
def test_a_cpu_run_beside_another_takes_its_share_of_the_cores_says_so_and_gives_them_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chosen = os.environ.get("OMP_NUM_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    alone = _train_here()
    assert _shares_said(alone) == [] and alone.of(ev.RunStarted)[0].device_name == f"CPU ({counted(CORES, 'thread')})"

    if chosen:  # the run in the background keeps a test worker's one thread
        monkeypatch.setenv("OMP_NUM_THREADS", chosen)
    process, _ = train_in_background("--device", "cpu")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    try:
        beside = _train_here()
        repeatable = _train_here(DETERMINISTIC)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=90)
    share = counted(max(1, CORES // 2), "thread")
    assert beside.of(ev.RunStarted)[0].device_name == f"CPU ({share})"
    assert _shares_said(beside) == [
        f"this machine's CPU already trains 1 other run: this one uses {share} of {CORES}, "
        "so that they do not stall each other (OMP_NUM_THREADS=N chooses)"
    ]
    # A run that must repeat bit for bit keeps the threads it would have alone, and says why.
    assert repeatable.of(ev.RunStarted)[0].device_name == f"CPU ({counted(CORES, 'thread')})"
    assert _shares_said(repeatable) == [
        f"this machine's CPU already trains 1 other run: train.deterministic keeps this one's "
        f"{counted(CORES, 'thread')}, as alone, and they stall each other (OMP_NUM_THREADS=N chooses)"
    ]
