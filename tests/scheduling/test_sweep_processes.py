"""Sweeps and the queue with real processes: `workbench train --sweep` queues the points, a
detached feeder starts them one slot at a time, survives being killed, and a cancel of a
queued point never touches a running one. Tiny runs (300 samples, one epoch) of digits-mlp."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from workbench.runs.folder import RunDir
from workbench.runs.history import TIME_KEY
from workbench.scheduling import queue
from workbench.scheduling.sweep import find_sweep, sweep_progress
from workbench.scheduling.sweep_study import storage_of
from workbench.scheduling.sweep_table import sweep_table

from ..processes import wait_until

pytestmark = pytest.mark.slow

TINY = ["--epochs", "1", "--set", "data.subset=300"]


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, check=False)


def sweep_ended(sweep_id: str) -> bool:
    return find_sweep(sweep_id).read_meta().get("ended_ts") is not None


def span(run: RunDir) -> tuple[float, float]:
    """When the run's process started training and when it finished, from its metrics.jsonl."""
    times = {r["event"]: r[TIME_KEY] for r in run.read_events() if r["event"] in ("RunStarted", "RunFinished")}
    return times["RunStarted"], times["RunFinished"]


def test_a_two_by_two_grid_runs_four_points_one_after_another_and_its_table_is_sorted(tmp_path: Path) -> None:
    notice = tmp_path / "notice.json"
    done = workbench(
        "train", "digits-mlp", *TINY, "--sweep", "optimizer.lr=0.003,0.1", "--sweep", "data.batch_size=32,64",
        "--parallel", "1", "--notify", f"cat > {notice}", "--device", "cpu",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    sweep_id = done.stdout.strip()
    wait_until(lambda: sweep_ended(sweep_id), timeout=240, what="the sweep to end")
    progress = sweep_progress(find_sweep(sweep_id))
    settings = sorted((r.read_config().optimizer.lr, r.read_config().data.batch_size) for r, _, _ in progress.runs)
    assert settings == [(0.003, 32), (0.003, 64), (0.1, 32), (0.1, 64)]
    assert {r.read_config().train.device for r, _, _ in progress.runs} == {"cpu"}  # --device recorded: resume stays there
    assert all(state == "finished" and status.sweep == sweep_id for _, status, state in progress.runs)
    spans = sorted(span(run) for run, _, _ in progress.runs)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False))  # no overlap
    table = sweep_table(find_sweep(sweep_id))
    losses = [run.summary.best_value for run in (table.comparison.runs[i] for i in table.order)]
    assert table.sort == "val_loss" and losses == sorted(losses)  # type: ignore[type-var]
    accuracies = [table.comparison.runs[i].summary.test["acc"] for i in sweep_table(find_sweep(sweep_id), "test_acc").order]
    assert accuracies == sorted(accuracies, reverse=True)
    shown = workbench("sweep", "show", sweep_id, "--sort", "test_acc")
    assert shown.returncode == 0 and "optimizer.lr" in shown.stdout and "sorted by test_acc, best first" in shown.stdout
    wait_until(notice.exists, what="the sweep's notice")
    wait_until(lambda: json.loads(notice.read_text() or "{}").get("state") == "ended", what="the whole notice")
    report = json.loads(notice.read_text())
    assert report["sweep"] == sweep_id and report["text"].startswith(f"sweep {sweep_id} ended: 4 points: 4 ended; best val_loss")


def test_the_queue_survives_its_feeder_being_killed_and_a_cancel_never_touches_a_running_point() -> None:
    done = workbench(
        "train", "digits-mlp", "--epochs", "3", "--set", "data.subset=600", "--sweep", "train.seed=1,2,3", "--parallel", "1"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sweep_id = done.stdout.strip()
    wait_until(lambda: len(queue.live_queue_runs()) == 1, timeout=120, what="the first point to start")
    ((running, _),) = queue.live_queue_runs()
    feeder = queue.feeder_pid()
    assert feeder is not None
    os.kill(feeder, signal.SIGKILL)
    wait_until(lambda: not queue.feeder_running(), what="the feeder to be gone")
    cancelled = workbench("queue", "cancel", f"{sweep_id}-p003")
    assert cancelled.returncode == 0 and f"cancelled {sweep_id}-p003" in cancelled.stdout
    assert running.state() in ("starting", "running")  # the running point goes on, killed feeder or not
    assert workbench("queue", "start").returncode == 0
    wait_until(lambda: sweep_ended(sweep_id), timeout=240, what="the sweep to end")
    progress = sweep_progress(find_sweep(sweep_id))
    entries = sorted(status.queue_entry for _, status, _ in progress.runs)
    assert entries == [f"{sweep_id}-p001", f"{sweep_id}-p002"]  # each once; the cancelled one never
    assert running.read_status().state == "finished" and running.read_status().epochs_done == 3
    assert progress.text() == "3 points: 2 ended, 1 cancelled"
    wait_until(lambda: not queue.feeder_running(), what="the feeder to exit once the queue is dry")


def study_trials(sweep_id: str) -> list[optuna.trial.FrozenTrial]:
    sweep = find_sweep(sweep_id)
    return optuna.load_study(study_name=sweep.id, storage=storage_of(sweep.path, sweep.storage)).trials


def test_a_tpe_sweep_of_six_points_runs_to_the_end_and_its_study_holds_six_complete_trials() -> None:
    done = workbench(
        "train", "digits-mlp", *TINY, "--sweep", "optimizer.lr=log-uniform:1e-3:3e-1", "--sweep", "model.layers.1.out_features=32,64",
        "--sampler", "tpe", "--samples", "6", "--parallel", "2", "--device", "cpu",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    sweep_id = done.stdout.strip()
    wait_until(lambda: sweep_ended(sweep_id), timeout=300, what="the sweep to end")
    trials = study_trials(sweep_id)
    assert [t.state.name for t in trials] == ["COMPLETE"] * 6
    progress = sweep_progress(find_sweep(sweep_id))
    assert len(progress.runs) == 6 and progress.text() == "6 points: 6 ended"
    assert sorted(t.user_attrs["run"] for t in trials) == sorted(run.id for run, _, _ in progress.runs)
    for trial in trials:  # the run trained the point its trial holds, and its value is the run's best
        run = next(r for r, _, _ in progress.runs if r.id == trial.user_attrs["run"])
        assert run.read_config().optimizer.lr == pytest.approx(trial.params["optimizer.lr"], rel=1e-5)
        assert trial.value == run.read_status().best_value and trial.intermediate_values == {1: trial.value}
    shown = workbench("sweep", "show", sweep_id)
    assert shown.returncode == 0 and "its study: 6 trials: 6 complete; sampler tpe, pruner none" in shown.stdout


def test_a_feeder_killed_mid_sweep_and_started_again_runs_every_point_exactly_once() -> None:
    done = workbench(
        "train", "digits-mlp", "--epochs", "3", "--set", "data.subset=600", "--sweep", "optimizer.lr=log-uniform:1e-3:3e-1",
        "--sampler", "tpe", "--samples", "4", "--parallel", "1", "--device", "cpu",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    sweep_id = done.stdout.strip()
    wait_until(lambda: len(queue.live_queue_runs()) == 1, timeout=120, what="the first point to start")
    feeder = queue.feeder_pid()
    assert feeder is not None
    os.kill(feeder, signal.SIGKILL)
    wait_until(lambda: not queue.feeder_running(), what="the feeder to be gone")
    assert workbench("queue", "start").returncode == 0
    wait_until(lambda: sweep_ended(sweep_id), timeout=300, what="the sweep to end")
    trials = study_trials(sweep_id)
    assert [t.number for t in trials] == [0, 1, 2, 3] and all(t.state.name == "COMPLETE" for t in trials)
    progress = sweep_progress(find_sweep(sweep_id))
    entries = [status.queue_entry for _, status, _ in progress.runs]
    assert sorted(entries) == [f"{sweep_id}-p00{n}" for n in (1, 2, 3, 4)]  # each entry ran once
    assert len({t.user_attrs["run"] for t in trials}) == 4  # each trial its own run
    assert all(status.epochs_done == 3 for _, status, _ in progress.runs)
