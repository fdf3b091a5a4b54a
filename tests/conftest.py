"""Shared fixtures: every test runs with its own empty WORKBENCH_HOME."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def workbench_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point all of Workbench's folders at a temp dir, so no test touches a real user's files."""
    home = tmp_path / "workbench-home"
    home.mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Training processes a test starts get one torch thread too (see pytest_configure).
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
    yield home
    _end_training_processes(home)


@pytest.fixture
def feeder_stand_in() -> Iterator[None]:
    """A process holding the queue's lock, as a feeder does: what a test queues waits there and
    is not trained (no feeder is started while one holds the lock)."""
    import subprocess
    import sys

    from tests.processes import LOCK_HOLDER
    from workbench.scheduling.queue import queue_dir

    queue_dir().mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(queue_dir())], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    yield
    holder.kill()
    holder.wait()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every HTTP(S) request to a closed local port: downloads fail at once, as offline."""
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(variable, raising=False)


def _end_training_processes(home: Path) -> None:
    """Runs outlive whoever started them, test or app: a test that failed half-way must not leave
    a (perhaps paused) training process behind, so every run still holding its lock is killed,
    and the queue's feeder."""
    import signal

    from workbench.runs.liveness import lock_holder

    runs = home / "data" / "runs"
    queue = home / "data" / "queue"  # the queue's feeder holds the queue folder's lock the same way
    for folder in [queue, *(runs.iterdir() if runs.is_dir() else ())]:
        pid = lock_holder(folder)
        if pid is not None and pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def pytest_configure(config: pytest.Config) -> None:
    """Under ``pytest -n 2`` each worker gets one torch thread: two workers with two threads each
    on a 2-core machine slowed training tests several-fold by oversubscription."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)
