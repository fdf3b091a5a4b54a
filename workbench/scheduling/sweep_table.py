"""A sweep's table: one row per point that ran, its hyperparameters as columns, then its metrics,
sorted by a chosen metric, best first. ``workbench sweep show`` prints it and the app's sweep
view shows it; both render what :func:`sweep_table` computes, on top of
:func:`workbench.runs.comparison.compare_runs` (the axes are the settings that differ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from workbench.errors import WorkbenchError
from workbench.formatting import duration
from workbench.runs.comparison import Comparison, compare_runs, format_setting
from workbench.runs.folder import RunDir
from workbench.runs.listing import RunSummary, state_label
from workbench.runs.status import RunStatus
from workbench.scheduling import queue
from workbench.scheduling.sweep import SweepDir, SweepProgress, sweep_progress
from workbench.schema.monitor import higher_is_better

#: Sorting by this means the metric each point monitored (its best value).
BEST = "best"
RESULTS = ("state", "epochs", "time")


@dataclass(frozen=True)
class SweepTable:
    progress: SweepProgress
    comparison: Comparison
    axes: list[str]  # the settings the sweep varies, as columns
    metrics: list[str]  # metric columns: the monitored one first, then the test figures
    sort: str
    order: list[int]  # indices into comparison.runs, best first
    points: list[int]  # each run's point number (as comparison.runs)
    best_index: int | None  # the best run by the monitored metric

    @property
    def sorted_by_metric(self) -> bool:
        """True when the order is best first (a metric), not by a setting's value."""
        return self.sort in self.metrics or self.sort == BEST

    @property
    def best(self) -> RunSummary | None:
        """The best point by the monitored metric, whatever the order (None: no value yet)."""
        return None if self.best_index is None else self.comparison.runs[self.best_index].summary

    def best_text(self) -> str:
        """``val_loss 0.0812`` of the best point, or "-"."""
        best = self.best
        return f"{best.monitor} {_metric_text(best.best_value)}" if best is not None else "-"

    def header(self) -> list[str]:
        return ["#", "run", *self.axes, *RESULTS, *self.metrics]

    def rows(self) -> list[list[str]]:
        """The cells of each run, in the table's order."""
        rows = []
        for index in self.order:
            run = self.comparison.runs[index]
            summary = run.summary
            cells = [str(self.points[index]), summary.id]
            cells += [format_setting(run.settings.get(axis, "-")) for axis in self.axes]
            cells += [state_label(summary), f"{summary.epochs_done}/{summary.epochs}", duration(summary.train_seconds)]
            cells += [_metric_text(_metric_value(metric, summary)) for metric in self.metrics]
            rows.append(cells)
        return rows


def sweep_table(
    sweep: SweepDir,
    sort: str | None = None,
    *,
    reverse: bool = False,
    listing: queue.QueueListing | None = None,
    runs: list[tuple[RunDir, RunStatus]] | None = None,
) -> SweepTable:
    """The table of ``sweep`` sorted by ``sort``: a metric (the monitored one by default, or
    test_acc, test_loss...), a hyperparameter, or state/epochs/time; best (or lowest) first.
    ``listing``, ``runs``: the queue and every run's status, read once for several sweeps."""
    progress = sweep_progress(sweep, listing, runs)
    folders = [run for run, _, _ in progress.runs]
    comparison = compare_runs(folders) if folders else Comparison((), ())
    axes = _axes(sweep, comparison)
    monitors = sorted({run.summary.monitor for run in comparison.runs if run.summary.monitor})
    tests = sorted({f"test_{name}" for run in comparison.runs for name in run.summary.test})
    metrics = [*monitors, *tests]
    by_monitor = _by_metric(comparison, monitors[0] if monitors else BEST, False)
    best_index = by_monitor[0] if by_monitor and comparison.runs[by_monitor[0]].summary.best_value is not None else None
    sort = sort or (monitors[0] if monitors else BEST)
    if sort in metrics or sort == BEST:
        order = _by_metric(comparison, sort, reverse)
    elif sort in RESULTS or sort in axes or sort in comparison.settings:
        order = comparison.order(sort, reverse=reverse)
    else:
        shown = ", ".join([*metrics, *axes, *RESULTS]) or "none yet"
        raise WorkbenchError(f"--sort {sort}: no such metric or setting in this sweep; use one of {shown}")
    numbers = {p.get("entry"): p.get("number") for p in sweep.read_meta().get("points", []) if isinstance(p, dict)}
    points = [numbers.get(status.queue_entry) or i + 1 for i, (_, status, _) in enumerate(progress.runs)]
    return SweepTable(progress, comparison, axes, metrics, sort, order, points, best_index)


def _axes(sweep: SweepDir, comparison: Comparison) -> list[str]:
    """The sweep's axes as the sweep file names them, else the settings that differ."""
    named = [text.partition("=")[0] for text in sweep.read_meta().get("axes", []) if isinstance(text, str)]
    return named or [d.setting for d in comparison.differences]


def _by_metric(comparison: Comparison, metric: str, reverse: bool) -> list[int]:
    """Best first in the metric's own direction (lowest loss, highest accuracy); points with no
    value yet last, in point order."""
    values = [_metric_value(metric, run.summary) for run in comparison.runs]
    have = [i for i, v in enumerate(values) if v is not None]
    higher = higher_is_better(_monitor_of(metric, comparison))
    ordered = sorted(have, key=lambda i: values[i], reverse=higher != reverse)  # type: ignore[arg-type,return-value]
    return ordered + [i for i, v in enumerate(values) if v is None]


def _monitor_of(metric: str, comparison: Comparison) -> str:
    if metric == BEST:
        return next((run.summary.monitor for run in comparison.runs if run.summary.monitor), "val_loss")
    return metric


def _metric_value(metric: str, summary: RunSummary) -> float | None:
    if metric.startswith("test_"):
        value = summary.test.get(metric[len("test_") :])
    else:
        value = summary.best_value if metric in (BEST, summary.monitor) else None
    return value if value is not None and not math.isnan(value) else None


def _metric_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
