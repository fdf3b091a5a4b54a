"""Runs on disk: one folder per run with its config, metrics log, status and checkpoints.

```
<data dir>/runs/<run-id>/config.toml     the exact experiment
                        /metrics.jsonl    one JSON object per event worth keeping
                        /status.json      state, pid, host, times and the figures `workbench runs` lists
                        /checkpoints/     epoch-NNN.pt, last.pt, best.pt
                        /eval/            <checkpoint>-<split>.json evaluation reports
```

Run ids sort by time and read well: ``20261123-110501-digits-cnn``. A RUN argument is a full
id, a unique prefix of one, or ``latest``. The engine's ``RunRecorder`` sink keeps metrics.jsonl
and status.json up to date from the trainer's events; any process can read them while a run is
in progress, and a run whose process died is shown as ``interrupted``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench import config as config_io
from workbench.atomic import atomic_write_bytes, remove_stale_temp_files
from workbench.config import RunConfig
from workbench.errors import CheckpointError, RunNotFoundError, WorkbenchError
from workbench.paths import runs_dir

#: States written to status.json. ``interrupted`` is never written: it is what a ``running`` or
#: ``paused`` run is shown as once its process is gone.
STATES = ("running", "paused", "finished", "failed", "stopped")
INTERRUPTED = "interrupted"
ACTIVE_STATES = ("running", "paused")

LATEST = "latest"


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


# ----------------------------------------------------------------------------- one run's folder


@dataclass(frozen=True)
class RunDir:
    """The folder of one run and the files in it."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def eval_dir(self) -> Path:
        return self.path / "eval"

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints_dir / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints_dir / "best.pt"

    def epoch_checkpoint(self, epoch: int) -> Path:
        return self.checkpoints_dir / f"epoch-{epoch:03d}.pt"

    def epoch_checkpoints(self) -> list[tuple[int, Path]]:
        """The kept epoch-NNN.pt files, oldest first (temp files of a crash are not listed)."""
        found = []
        for path in self.checkpoints_dir.glob("epoch-*.pt"):
            match = re.fullmatch(r"epoch-(\d+)\.pt", path.name)
            if match:
                found.append((int(match.group(1)), path))
        return sorted(found)

    def read_config(self) -> RunConfig:
        return config_io.read(self.config_path)

    def read_status(self) -> dict[str, Any]:
        """status.json as a dict; an unreadable file reads as an empty status (state unknown)."""
        try:
            data = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def update_status(self, **changes: Any) -> dict[str, Any]:
        """Merge ``changes`` into status.json, atomically; returns the new status."""
        status = self.read_status()
        status.update(changes, updated_at=now_iso())
        atomic_write_bytes(self.status_path, (json.dumps(status, indent=2) + "\n").encode("utf-8"))
        return status

    def state(self) -> str:
        """The state to show: a running or paused run whose process is gone is ``interrupted``."""
        return effective_state(self.read_status())

    def read_events(self) -> list[dict[str, Any]]:
        """Every event in metrics.jsonl; a line torn by a crash is skipped."""
        try:
            lines = self.metrics_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        found = []
        for line in lines:
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found

    def clean_temp_files(self) -> list[Path]:
        """Remove temp files a crash left behind (only call while no other process writes here)."""
        return remove_stale_temp_files(self.path) + remove_stale_temp_files(self.checkpoints_dir)


def effective_state(status: dict[str, Any]) -> str:
    state = status.get("state", "unknown")
    if state in ACTIVE_STATES and status.get("host") == socket.gethostname() and not _pid_alive(status.get("pid")):
        return INTERRUPTED
    return state


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_active_elsewhere(run: RunDir) -> bool:
    """True when another live process is training this run."""
    status = run.read_status()
    return run.state() in ACTIVE_STATES and status.get("pid") != os.getpid()


# ----------------------------------------------------------------------------- all runs


def new_run_id(name: str, when: float | None = None) -> str:
    """``YYYYMMDD-HHMMSS-name``: sorts by start time and says what it is."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "run"
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(when)) + "-" + slug


def create_run(config: RunConfig) -> RunDir:
    """Make a new run folder with its config.toml and a ``running`` status owned by this process."""
    base = new_run_id(config.name or "run")
    root = runs_dir()
    root.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        path = root / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        break
    else:  # pragma: no cover - a thousand runs with one name in one second
        raise WorkbenchError(f"{root}: cannot create a new run folder for {base}")
    run = RunDir(path)
    config_io.write(config, run.config_path)
    run.checkpoints_dir.mkdir()
    run.update_status(
        id=run.id,
        name=config.name,
        dataset=config.data.dataset,
        state="running",
        pid=os.getpid(),
        host=socket.gethostname(),
        created_at=now_iso(),
        created_ts=time.time(),
        epochs=config.train.epochs,
        epochs_done=0,
        train_seconds=0.0,
    )
    return run


def all_runs() -> list[RunDir]:
    """Every run folder, oldest first."""
    root = runs_dir()
    if not root.is_dir():
        return []
    runs = [RunDir(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(runs, key=lambda r: (r.read_status().get("created_ts", 0.0), r.id))


def find_run(ref: str) -> RunDir:
    """A run by full id, unique id prefix, or ``latest``."""
    runs = all_runs()
    if not runs:
        raise RunNotFoundError(f"no runs yet in {runs_dir()}; start one with `workbench train`")
    if ref == LATEST:
        return runs[-1]
    exact = [r for r in runs if r.id == ref]
    if exact:
        return exact[0]
    matches = [r for r in runs if r.id.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunNotFoundError(f"no run matches {ref!r}; see `workbench runs`")
    shown = ", ".join(r.id for r in matches[:5]) + (", ..." if len(matches) > 5 else "")
    raise RunNotFoundError(f"{ref!r} matches {len(matches)} runs ({shown}); give more of the id")


def delete_run(run: RunDir) -> None:
    """Remove a run's folder; refuses while a live process trains it."""
    if run.state() in ACTIVE_STATES:
        raise WorkbenchError(f"run {run.id} is {run.state()} (pid {run.read_status().get('pid')}); stop it first")
    shutil.rmtree(run.path)


# ----------------------------------------------------------------------------- checkpoints of a run


def chosen_checkpoint(run: RunDir, config: RunConfig) -> Path:
    """The checkpoint a run's test metrics come from: best.pt (restore_best), else last.pt."""
    if config.train.early_stopping.restore_best and run.best_checkpoint.is_file():
        return run.best_checkpoint
    return run.last_checkpoint


def resolve_checkpoint(run: RunDir, which: str | None = None) -> Path:
    """``None`` (the run's chosen one), ``best``, ``last``, an epoch number, or a file path."""
    if which is None:
        recorded = run.read_status().get("test_checkpoint")
        if recorded and Path(recorded).is_file():
            return Path(recorded)
        return chosen_checkpoint(run, run.read_config())
    if which in ("best", "last"):
        path = run.best_checkpoint if which == "best" else run.last_checkpoint
    elif which.isdigit():
        path = run.epoch_checkpoint(int(which))
        if not path.is_file():
            kept = ", ".join(str(e) for e, _ in run.epoch_checkpoints()) or "none"
            raise CheckpointError(f"run {run.id} has no checkpoint for epoch {which} (kept epochs: {kept})")
    else:
        path = Path(which).expanduser()
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    return path


# ----------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class RunSummary:
    """What `workbench runs` shows of one run."""

    id: str
    path: str
    name: str
    dataset: str
    task: str
    num_params: int | None
    epochs_done: int
    epochs: int
    monitor: str
    best_value: float | None
    best_epoch: int
    test: dict[str, float]
    state: str
    outcome: str
    created_at: str
    train_seconds: float
    device: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def summarize(run: RunDir) -> RunSummary:
    status = run.read_status()
    return RunSummary(
        id=run.id,
        path=str(run.path),
        name=status.get("name", ""),
        dataset=status.get("dataset", ""),
        task=status.get("task", ""),
        num_params=status.get("num_params"),
        epochs_done=int(status.get("epochs_done", 0)),
        epochs=int(status.get("epochs", 0)),
        monitor=status.get("monitor", ""),
        best_value=status.get("best_value"),
        best_epoch=int(status.get("best_epoch", 0)),
        test=dict(status.get("test", {})),
        state=effective_state(status),
        outcome=status.get("outcome", ""),
        created_at=status.get("created_at", ""),
        train_seconds=float(status.get("train_seconds", 0.0)),
        device=status.get("device", ""),
        message=status.get("message", ""),
    )


def list_runs() -> list[RunSummary]:
    """Every run, oldest first."""
    return [summarize(run) for run in all_runs()]
