"""A sweep's table: one row per point that ran, its hyperparameters as columns, then its metrics,
sorted by a chosen metric, best first. ``workbench sweep show`` prints it and the app's sweep
view shows it; both render what :func:`sweep_table` computes, on top of
:func:`workbench.runs.comparison.compare_runs` (the axes are the settings that differ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from workbench.errors import WorkbenchError
from workbench.formatting import duration
from workbench.runs.comparison import Comparison, compare_runs, format_setting
from workbench.runs.folder import RunDir
from workbench.runs.listing import RunSummary, state_label
from workbench.runs.status import RunStatus
from workbench.scheduling import queue
from workbench.scheduling.sweep import SweepDir, SweepProgress, sweep_progress
from workbench.scheduling.sweep_study import read_trials
from workbench.schema.monitor import higher_is_better
from workbench.schema.params import format_value
from workbench.schema.sweep import Axis

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
    spec_axes: tuple[Axis, ...] = ()  # the axes as the sweep's file gives them (their kinds)

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
    numbers |= {entry: trial + 1 for entry, trial in read_trials(sweep.path).items() if isinstance(trial, int)}
    points = [numbers.get(status.queue_entry) or i + 1 for i, (_, status, _) in enumerate(progress.runs)]
    try:
        spec = sweep.read_spec()[1]
    except WorkbenchError:
        spec = None
    return SweepTable(progress, comparison, axes, metrics, sort, order, points, best_index, spec.axes if spec else ())


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


# ----------------------------------------------------------------------------- the study's trials


@dataclass(frozen=True)
class TrialTable:
    """Every trial of a sweep's study, best first: what each machine ran and how it ended."""

    header: list[str]
    rows: list[list[str]]
    text: str  # ``6 trials: 4 complete, 2 pruned; sampler tpe, pruner halving``


def trial_table(sweep: SweepDir) -> TrialTable | None:
    """The table of the sweep's trials (None for a sweep without a study: made before studies).
    A machine is its host name, with the data folder when one host ran trials from several."""
    from workbench.scheduling.sweep_study import storage_errors, trial_rows

    if not (sweep.path / "study.log").exists() and not sweep.storage:
        return None
    _, spec = sweep.read_spec()
    if spec is None:
        return None
    try:
        trials = trial_rows(sweep.path, spec, sweep.storage)
    except storage_errors() as error:
        return TrialTable([], [], f"cannot be read: {error}")
    homes: dict[str, set[str]] = {}
    for trial in trials:
        homes.setdefault(trial.host, set()).add(trial.home)
    higher = higher_is_better(str(sweep.read_meta().get("monitor", "val_loss")))
    done = sorted((t for t in trials if t.value is not None), key=lambda t: t.value or 0.0, reverse=higher)
    ordered = done + [t for t in trials if t.value is None]
    axes = [axis.setting for axis in spec.axes]
    rows = []
    for trial in ordered:
        machine = trial.host if len(homes.get(trial.host, ())) < 2 else f"{trial.host}:{trial.home}"
        values = [format_setting(trial.values[a]) if a in trial.values else "-" for a in axes]
        rows.append(
            [
                str(trial.number + 1),
                trial.state,
                _metric_text(trial.value),
                *values,
                str(trial.steps),
                machine or "-",
                trial.run or "-",
            ]
        )
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.state] = counts.get(trial.state, 0) + 1
    said = ", ".join(f"{n} {state}" for state, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    pruner = spec.pruner_name or "none"
    text = f"{len(trials)} trials: {said or 'none yet'}; sampler {spec.sampler_name}, pruner {pruner}"
    return TrialTable(["#", "state", "value", *axes, "epochs", "host", "run"], rows, text)


# ----------------------------------------------------------------------------- the search, drawn


@dataclass(frozen=True)
class SearchPlot:
    """One chart of a sweep's search, as plain data (the app draws it; ``x`` already on the
    chart's scale: an axis sampled log-uniform is drawn on log10 of its values)."""

    name: str  # "search" (the metric against the point's number) or the axis's setting
    metric: str  # the monitored metric, the y axis
    xs: list[float]
    ys: list[float]
    pruned: list[bool]  # each point: stopped by the pruner (its value from fewer epochs)
    best_xs: list[float]  # the best so far, by point number (the search chart alone)
    best_ys: list[float]
    ticks: list[tuple[float, str]]  # the x axis's marks and their labels


def search_plots(table: SweepTable) -> list[SearchPlot]:
    """The sweep's search drawn: the monitored metric of each point that has one against its
    number, with the best so far as a line, then against each axis's value."""
    from workbench.runs.status import PRUNED

    monitor = next((run.summary.monitor for run in table.comparison.runs if run.summary.monitor), "")
    if not monitor:
        return []
    pick = max if higher_is_better(monitor) else min
    done: list[tuple[int, float, bool, dict[str, Any]]] = []
    for index, run in enumerate(table.comparison.runs):
        value = run.summary.best_value
        if value is not None and math.isfinite(value):
            done.append((table.points[index], float(value), run.summary.state == PRUNED, run.settings))
    done.sort(key=lambda point: point[0])
    numbers = [float(number) for number, _, _, _ in done]
    values = [value for _, value, _, _ in done]
    best = [pick(values[: k + 1]) for k in range(len(values))]
    top = int(max(numbers, default=1.0))
    step = max(1, math.ceil(top / 8))
    pruned = [was_pruned for _, _, was_pruned, _ in done]
    ticks = [(float(n), str(n)) for n in range(0, top + 1, step)]
    plots = [SearchPlot("search", monitor, numbers, values, pruned, numbers, best, ticks)]
    logs = {axis.setting for axis in table.spec_axes if axis.kind == "log-uniform"}
    for setting in table.axes:
        points = [(s[setting], y, p) for _, y, p, s in done if isinstance(s.get(setting), int | float)]
        log = setting in logs or _spans_decades([float(v) for v, _, _ in points])
        xs = [math.log10(v) if log else float(v) for v, _, _ in points]
        ys, marks = [y for _, y, _ in points], [p for _, _, p in points]
        plots.append(SearchPlot(setting, monitor, xs, ys, marks, [], [], _axis_ticks(xs, log)))
    return plots


def _spans_decades(values: list[float]) -> bool:
    """Listed values a hundredfold apart or more (0.001,0.01,0.1) are drawn on a log axis."""
    return bool(values) and min(values) > 0 and max(values) / min(values) >= 100


def _axis_ticks(xs: list[float], log: bool) -> list[tuple[float, str]]:
    """Marks at whole decades on a log axis, else at the lowest, middle and highest value."""
    if not xs:
        return []
    low, high = min(xs), max(xs)
    if log:
        return [(float(d), format_value(10.0**d)) for d in range(math.floor(low), math.ceil(high) + 1)]
    marks = sorted({low, (low + high) / 2, high}) if high > low else [low]
    return [(m, format_value(int(m) if m.is_integer() else float(f"{m:.3g}"))) for m in marks]
