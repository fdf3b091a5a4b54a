"""What the Runs screen shows of one run below its table: its experiment, curves and
checkpoints, read together (in a worker: metrics.jsonl of a long run is long), below the UI line
so that any face can show the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.runs.checkpoints import checkpoint_choices, resolve_checkpoint
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory
from workbench.runs.listing import RunSummary
from workbench.schema.config import RunConfig


@dataclass
class RunDetails:
    """One run's experiment, history and checkpoints, as read at one moment."""

    run: RunDir
    config: RunConfig | None
    history: RunHistory
    checkpoints: list[tuple[Path, str]] = field(default_factory=list)  # (file, label)
    chosen: Path | None = None  # the checkpoint the run's test used (or would use)
    error: str = ""
    stamp: tuple[float, int] = (0.0, 0)  # metrics.jsonl's mtime and size when read


def read_details(run: RunDir, summary: RunSummary | None, history: RunHistory | None = None) -> RunDetails:
    """The config, curves and checkpoints of a run; a broken file is reported, not raised.
    ``history``: the run's history where the caller already follows it (not read again)."""
    error = ""
    try:
        config: RunConfig | None = run.read_config()
    except WorkbenchError as problem:
        config, error = None, str(problem)
    stamp = metrics_stamp(run)
    history = history if history is not None else RunHistory.from_records(run.read_events())
    details = RunDetails(run, config, history, error=error, stamp=stamp)
    try:
        details.chosen = resolve_checkpoint(run) if config is not None else None
    except WorkbenchError:
        details.chosen = None
    details.checkpoints = listed_checkpoints(run, summary)
    return details


def listed_checkpoints(run: RunDir, summary: RunSummary | None) -> list[tuple[Path, str]]:
    """The run's checkpoint files with what each holds, as far as its listing (``summary``) says."""
    if summary is None:
        return checkpoint_choices(run, None, None)
    return checkpoint_choices(run, summary.best_epoch if summary.best_value is not None else None, summary.epochs_done)


def metrics_stamp(run: RunDir) -> tuple[float, int]:
    """metrics.jsonl's mtime and size: details read at another stamp are out of date."""
    try:
        stat = run.metrics_path.stat()
    except OSError:
        return (0.0, 0)
    return (stat.st_mtime, stat.st_size)
