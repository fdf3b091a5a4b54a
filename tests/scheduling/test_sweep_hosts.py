"""One sweep fed from two homes through one study in a real PostgreSQL server (pgserver, from
the dev extra, started here): each home's queue asks the study for points, no trial runs twice,
and `workbench sweep show` lists every trial with the machine that ran it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from workbench.scheduling.sweep_study import storage_of

from ..processes import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server of its own for the test, stopped after it (pgserver runs it as an
    unprivileged user of its own when the tests run as root)."""
    pgserver = pytest.importorskip("pgserver", reason="the dev extra's pgserver starts the test's PostgreSQL")
    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def workbench_in(home: Path, *args: str, background: bool = False) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    env = os.environ | {"WORKBENCH_HOME": str(home)}
    command = [sys.executable, "-m", "workbench", *args]
    if background:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def test_two_homes_feed_one_study_in_postgresql_and_no_trial_runs_twice(postgres_url: str, tmp_path: Path) -> None:
    first, second = tmp_path / "box-a", tmp_path / "box-b"
    started = workbench_in(
        first, "train", "digits-mlp", "--epochs", "2", "--set", "data.subset=300", "--device", "cpu",
        "--sweep", "optimizer.lr=log-uniform:1e-3:3e-1", "--sampler", "tpe", "--samples", "6", "--pruner", "median",
        "--parallel", "1", "--storage", postgres_url,
    )  # fmt: skip
    assert isinstance(started, subprocess.CompletedProcess) and started.returncode == 0, started.stdout + started.stderr
    sweep_id = started.stdout.strip()
    worker = workbench_in(second, "sweep", "work", sweep_id, "--storage", postgres_url, "--parallel", "1", background=True)
    assert isinstance(worker, subprocess.Popen)
    study = optuna.load_study(study_name=sweep_id, storage=storage_of(tmp_path, postgres_url))
    wait_until(
        lambda: all(t.state.is_finished() for t in study.trials) and len(study.trials) >= 6, timeout=300, what="six trials"
    )
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output
    trials = [t for t in study.trials if not t.user_attrs.get("over_budget")]
    assert len(trials) == 6 and all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
    homes = {t.number: t.user_attrs["home"] for t in trials}
    runs = [(t.user_attrs["home"], t.user_attrs["run"]) for t in trials]
    assert len(set(runs)) == 6  # no trial run twice, no run told twice
    assert set(homes.values()) == {str(first / "data"), str(second / "data")} or set(homes.values()) == {str(first), str(second)}
    for home in (first, second):  # each home's runs stay in its own folder
        ran = sorted(run for where, run in runs if where.startswith(str(home)))
        assert (
            ran
            and sorted(
                p.name
                for p in (Path(next(w for w, _ in runs if w.startswith(str(home)))) / "runs").iterdir()
                if not p.name.startswith(".")
            )
            == ran
        )
    shown = workbench_in(first, "sweep", "show", sweep_id)
    assert isinstance(shown, subprocess.CompletedProcess) and shown.returncode == 0, shown.stderr
    assert "its study: 6 trials" in shown.stdout and str(second) in shown.stdout  # the other home's trials, named
