"""A run trained by several workers through torchrun (DistributedDataParallel, gloo on the CPU).

Real `workbench train --nproc-per-node 2` processes, as a user starts them: two workers with the
same global batch train exactly as one process does; the checkpoint they write evaluates in one
process; a stopped run resumes bit for bit; a worker that dies ends the run cleanly; two
"machines" on this one meet at an endpoint and train one run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from workbench.engine.checkpoint_io import read_checkpoint
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory
from workbench.runs.store import find_run

from ..processes import wait_until, workbench

pytestmark = pytest.mark.slow

#: digits-mlp (no BatchNorm, no Dropout): 1,294 training samples in batches of 32, the last of
#: 14, so that every global batch splits evenly between two workers.
MLP = ("digits-mlp", "--epochs", "2", "--device", "cpu")


def train(*args: str) -> dict[str, Any]:
    """``workbench train ... --json`` to its end; its JSON summary."""
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "train", *args, "--json"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout[done.stdout.index("{") :])


def run_folders() -> list[Path]:
    """The runs' folders (not one being made: its name starts with a dot until it is complete)."""
    configs = Path(os.environ["WORKBENCH_HOME"]).glob("data/runs/[!.]*/config.toml")
    return sorted(config.parent for config in configs)


def epoch_losses(run: RunDir) -> list[tuple[float, float, float]]:
    return [(e.train["loss"], e.val["loss"], e.val["acc"]) for e in RunHistory.from_records(run.read_events()).epochs]


def test_two_workers_train_like_one_process_with_the_same_global_batch() -> None:
    alone = train(*MLP)
    together = train(*MLP, "--nproc-per-node", "2")
    one, two = find_run(alone["run_id"]), find_run(together["run_id"])
    assert len(epoch_losses(two)) == 2
    for single, double in zip(epoch_losses(one), epoch_losses(two), strict=True):
        assert double == pytest.approx(single, abs=1e-5)
    assert together["test"]["acc"] == pytest.approx(alone["test"]["acc"], abs=1e-9)
    started = next(e for e in two.read_events() if e.get("event") == "RunStarted")
    assert started["workers"] == 2 and two.read_status().device == "cpu ×2"

    # The distributed checkpoint holds the plain model: one process evaluates it to the same numbers.
    evaluated = subprocess.run(
        [sys.executable, "-m", "workbench", "eval", two.id, "--json"], capture_output=True, text=True, check=True
    )
    report = json.loads(evaluated.stdout)
    assert report["metrics"]["acc"] == pytest.approx(together["test"]["acc"], abs=1e-9)
    assert report["metrics"]["loss"] == pytest.approx(together["test"]["loss"], abs=1e-6)


def _model_weights(run: RunDir) -> dict[str, torch.Tensor]:
    return read_checkpoint(run.last_checkpoint)["model"]


def test_a_two_worker_run_stopped_mid_epoch_resumes_exactly() -> None:
    args = ("digits-mlp", "--epochs", "3", "--device", "cpu", "--set", "data.batch_size=8", "--nproc-per-node", "2")
    whole = find_run(train(*args)["run_id"])

    stopped = workbench("train", *args)
    wait_until(lambda: len(run_folders()) == 2, what="the second run's folder")
    (folder,) = [p for p in run_folders() if p.name != whole.id]
    run = RunDir(folder)
    wait_until(lambda: any(e.get("event") == "Progress" for e in run.read_events()), timeout=300, what="a first report")
    stopped.send_signal(signal.SIGINT)  # Ctrl+C: the launcher asks the first worker to stop
    out, _ = stopped.communicate(timeout=120)
    assert stopped.returncode == 130, out[-2000:]
    assert run.state() == "stopped"

    resumed = subprocess.run(
        [sys.executable, "-m", "workbench", "resume", run.id, "--nproc-per-node", "2"], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert run.state() == "finished"
    for name, tensor in _model_weights(whole).items():
        assert torch.equal(_model_weights(run)[name], tensor), name
    assert [loss for loss, _, _ in epoch_losses(run)] == pytest.approx([loss for loss, _, _ in epoch_losses(whole)], abs=1e-9)


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_worker_killed_mid_run_ends_the_run_as_failed_with_its_checkpoint_readable() -> None:
    launcher = workbench("train", "digits-mlp", "--epochs", "400", "--device", "cpu", "--nproc-per-node", "2")
    wait_until(
        lambda: list(Path(os.environ["WORKBENCH_HOME"]).glob("data/runs/*/checkpoints/last.pt")), timeout=300, what="a checkpoint"
    )
    (folder,) = run_folders()
    run = RunDir(folder)
    first = run.read_status().pid
    assert first is not None
    agent = int((Path("/proc") / str(first) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    (other,) = [pid for pid in _children(agent) if pid != first]
    os.kill(other, signal.SIGKILL)

    out, _ = launcher.communicate(timeout=120)
    assert launcher.returncode != 0
    wait_until(lambda: run.state() in ("failed", "interrupted"), what="the run to be marked ended")
    assert read_checkpoint(run.last_checkpoint)["epoch"] >= 1
    if run.state() == "failed":
        assert "worker" in run.read_status().message


def test_torchrun_stopped_by_a_signal_stops_the_run_with_a_checkpoint_and_one_line_not_a_traceback() -> None:
    """Slurm ending a job, or a kill of the agent: torchrun stops its workers (each saves and
    stops, as for one process), then raised SignalException, a traceback in the run's log."""
    subprocess.run(
        [sys.executable, "-m", "workbench", "train", *MLP[:1], "--epochs", "400", "--device", "cpu"]
        + ["--nproc-per-node", "2", "--detach"],
        check=True,
        capture_output=True,
    )
    (folder,) = run_folders()
    run = RunDir(folder)
    wait_until(lambda: run.last_checkpoint.is_file(), timeout=300, what="a checkpoint")
    first = run.read_status().pid
    assert first is not None
    agent = int((Path("/proc") / str(first) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    os.kill(agent, signal.SIGTERM)

    wait_until(lambda: not Path(f"/proc/{agent}").exists() or _zombie(agent), timeout=120, what="torchrun to end")
    wait_until(lambda: run.state() == "stopped", what="the run marked stopped")
    assert read_checkpoint(run.last_checkpoint)["epoch"] >= 1
    log = run.log_path.read_text()
    assert "torchrun: stopped by SIGTERM; its workers were stopped with it" in log
    assert "Traceback" not in log, log[-3000:]


def _zombie(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_machines_on_localhost_train_one_run_like_one_process() -> None:
    endpoint = f"127.0.0.1:{_free_port()}"
    machines = [
        workbench("train", *MLP, "--nnodes", "2", "--node-rank", str(rank), "--nproc-per-node", "1", "--rdzv-endpoint", endpoint)
        for rank in (0, 1)
    ]
    for machine in machines:
        out, _ = machine.communicate(timeout=600)
        assert machine.returncode == 0, out[-2000:]
    (folder,) = run_folders()
    together = RunDir(folder)
    alone = find_run(train(*MLP)["run_id"])
    for single, double in zip(epoch_losses(alone), epoch_losses(together), strict=True):
        assert double == pytest.approx(single, abs=1e-5)
