"""Which runs a new CPU run shares this machine's cores with (engine/cpu_share.py acts on it)."""

from __future__ import annotations

import time

import pytest

from workbench.experiment.presets import load_experiment
from workbench.runs.folder import RunDir
from workbench.runs.neighbours import cpu_runs_training_here
from workbench.runs.store import create_run

from ..processes import hold_lock

pytestmark = pytest.mark.slow  # it starts processes that hold runs' locks


def _run(state: str, device: str) -> RunDir:
    """A run folder in ``state`` on ``device``, as its trainer records them (``create_run``
    records this host, and a ``starting`` run is in its launch grace)."""
    run = create_run(load_experiment("digits-mlp"), when=time.time())
    run.update_status(state=state, device=device)
    return run


def test_runs_training_on_this_hosts_cpu_count_and_starting_ones_only_where_every_run_is_on_the_cpu() -> None:
    training = _run("running", "cpu")
    on_gpu = _run("running", "cuda:0")
    paused = _run("paused", "cpu")
    elsewhere = _run("running", "cpu")
    elsewhere.update_status(host="another-host")
    starting = _run("starting", "")
    holders = [hold_lock(run) for run in (training, on_gpu, paused)]  # their trainers are alive
    try:
        assert cpu_runs_training_here() == 1  # the paused run uses no CPU; the one elsewhere is not here
        assert cpu_runs_training_here(count_starting=True) == 2  # and the starting one, on a machine without GPUs
        assert cpu_runs_training_here(but=training.id, count_starting=True) == 1  # a run does not count itself
    finally:
        for holder in holders:
            holder.kill()
            holder.wait()
    assert cpu_runs_training_here() == 0  # a run whose process died is interrupted, not training
    assert starting.state() == "starting"
