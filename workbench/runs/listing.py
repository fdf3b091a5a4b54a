"""What a list of runs says about each one: the same words in `workbench runs` and the Runs screen.

:func:`list_runs` reads every run's status (torch-free and cheap); :func:`listing_cells` turns
one into the texts of the listing's columns. The CLI prints them in a table; the app puts them
in its DataTable. A damaged status still lists its run, as ``damaged`` with the reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.formatting import count, duration
from workbench.paths import runs_dir
from workbench.runs.about import RunAbout, read_about, read_abouts
from workbench.runs.folder import RunDir
from workbench.runs.liveness import shown_state
from workbench.runs.mirrored import mirror_host, qualified_ref
from workbench.runs.status import FINISHED, LIVE_STATES, RunStatus
from workbench.runs.store import runs_with_status

DAMAGED = "damaged"


@dataclass(frozen=True)
class RunSummary:
    """What a listing shows of one run."""

    id: str
    path: str
    name: str
    dataset: str
    data: str  # the data set with its file: "csv wine.csv" (see workbench.runs.about)
    model: str  # the model's outline: "2 conv + 3 fc"
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
    sweep: str = ""  # the sweep the run is a point of
    host: str = ""  # the host it trains on, "" for this machine (workbench.runs.mirrored)

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def ref(self) -> str:
        """The run's name where runs of several hosts meet: ``gpu1:RUN``, or the bare id here."""
        return qualified_ref(self.host, self.id)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def summarize(run: RunDir, status: RunStatus | None = None, about: RunAbout | None = None) -> RunSummary:
    """What a listing shows of ``run``; ``status``, ``about``: its status.json and its words if already read."""
    status = run.read_status() if status is None else status
    about = read_about(run) if about is None else about
    state = shown_state(run.path, status)
    message = status.message
    if status.problems:
        state, message = DAMAGED, "; ".join(status.problems)
    return RunSummary(
        id=run.id,
        path=str(run.path),
        name=status.name,
        dataset=status.dataset,
        data=about.data or status.dataset,
        model=about.model,
        task=status.task,
        num_params=status.num_params,
        epochs_done=status.epochs_done,
        epochs=status.epochs,
        monitor=status.monitor,
        best_value=status.best_value,
        best_epoch=status.best_epoch,
        test=dict(status.test),
        state=state,
        outcome=status.outcome,
        created_at=status.created_at,
        train_seconds=status.train_seconds,
        device=status.device,
        message=message,
        sweep=status.sweep,
        host=mirror_host(run.path),
    )


def list_runs(root: Path | None = None) -> list[RunSummary]:
    """Every run, oldest first; ``root``: another folder of runs than this machine's (a host's mirror)."""
    root = runs_dir() if root is None else root
    pairs = runs_with_status(root)
    abouts = read_abouts(root, [run for run, _ in pairs])
    return [summarize(run, status, about) for (run, status), about in zip(pairs, abouts, strict=True)]


# ----------------------------------------------------------------------------- the columns' words


def state_label(summary: RunSummary) -> str:
    """The state, or how a finished run ended (``early stop``)."""
    if summary.outcome == "early_stopped" and summary.state == FINISHED:
        return "early stop"
    return summary.state


def headline_metric(test: dict[str, float]) -> tuple[str, float] | None:
    """The test figure a listing shows: accuracy, or R² for regression."""
    for name in ("acc", "r2"):
        if name in test:
            return name, test[name]
    return None


def best_text(summary: RunSummary) -> str:
    if summary.best_value is None:
        return "-"
    return f"{summary.monitor} {summary.best_value:.4g} @{summary.best_epoch}"


def test_text(summary: RunSummary) -> str:
    headline = headline_metric(summary.test)
    return f"{headline[0]} {headline[1]:.3f}" if headline else "-"


def started_text(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%m-%d %H:%M")
    except ValueError:
        return iso or "-"


#: The listing's columns, in order (the CLI adds the id in front, the app a mark).
LISTING_COLUMNS = ("state", "name", "dataset", "model", "epochs", "test", "best", "params", "started", "time")
#: The column that says where a run trains, put first where the runs of other hosts are listed too.
HOST_COLUMN = "host"
#: What the host column says of a run of this machine.
HERE = "here"


def listing_cells(summary: RunSummary) -> dict[str, str]:
    """The text of each of :data:`LISTING_COLUMNS` and :data:`HOST_COLUMN` for one run."""
    return {
        HOST_COLUMN: summary.host or HERE,
        "state": state_label(summary),
        "name": summary.name or "-",
        "dataset": summary.data or "-",
        "model": summary.model or "-",
        "epochs": f"{summary.epochs_done}/{summary.epochs}",
        "test": test_text(summary),
        "best": best_text(summary),
        "params": count(summary.num_params) if summary.num_params is not None else "-",
        "started": started_text(summary.created_at),
        "time": duration(summary.train_seconds),
    }


#: How a column sorts: by the figure, not its text ("1m08s" after "9.8s"). Runs with no figure
#: (no test yet) sort as the lowest.
SORT_KEYS: dict[str, Callable[[RunSummary], Any]] = {
    "state": lambda s: (state_label(s), s.id),
    "name": lambda s: (s.name.lower(), s.id),
    "dataset": lambda s: (s.data, s.id),
    "model": lambda s: (s.model, s.id),
    "epochs": lambda s: (s.epochs_done, s.epochs),
    "test": lambda s: headline[1] if (headline := headline_metric(s.test)) else float("-inf"),
    "best": lambda s: (s.best_value is None, s.best_value or 0.0),
    "params": lambda s: s.num_params or 0,
    "time": lambda s: s.train_seconds,
}


#: The colour of each state, wherever a state is shown.
STATE_STYLES = {
    "starting": "green",
    "running": "bold green",
    "paused": "yellow",
    "finished": "green",
    "early stop": "green",
    "early_stopped": "green",
    "stopped": "yellow",
    "pruned": "yellow",  # stopped by its sweep's pruner, with a checkpoint: resumable as a run stopped by hand
    "failed": "bold red",
    "interrupted": "red",
    "stale": "red",
    "deleted": "red",
    DAMAGED: "bold red",
    "stopping…": "yellow",
    "pausing…": "yellow",
}


def matches(summary: RunSummary, words: str) -> bool:
    """Every word of the filter appears in the run's id (with its host), name, data set (with its file), model,
    state or sweep (the Runs screen's ``/`` and ``workbench runs WORDS``)."""
    haystack = f"{summary.ref} {summary.name} {summary.data} {summary.model} {state_label(summary)} {summary.sweep}".lower()
    return all(word in haystack for word in words.lower().split())
