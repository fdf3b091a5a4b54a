"""A run's metrics as CSV, for the tools people already use (a spreadsheet, pandas, R, gnuplot).

The rows come from the run's :class:`~workbench.runs.history.RunHistory`, the same history the
app, the compare view and ``workbench logs`` draw, so the CSV says what they say: an epoch that
was trained again after a resume appears once, as it was trained last. It reads whatever
metrics.jsonl holds, so a run in progress exports the epochs done so far.

The epoch table (``workbench export RUN``), one row per epoch done, oldest first:

=================  ==========================================================================
``epoch``          1-based
``time``           when the epoch's end was recorded, ISO 8601 in UTC (empty in older logs)
``elapsed_s``      training time up to the end of the epoch, pauses excluded
``duration_s``     training time of the epoch itself
``lr``             the learning rate the epoch ended with
``samples_per_s``  training speed over the epoch
``train_<m>``      every training metric the run recorded, ``loss`` first (``acc``, ``top5``;
                   ``mae``, ``r2`` for regression)
``val_<m>``        the same on the validation split (no columns without one)
``test_<m>``       the test metrics of a finished run, on the row of the epoch whose weights
                   were tested (best.pt: the best epoch; last.pt: the last), empty elsewhere
=================  ==========================================================================

The step table (``--steps``), one row per training report the run kept (about two a second):
``epoch``, ``step`` (within the epoch), ``global_step``, ``time``, ``loss`` (the mean since the
previous report), ``acc`` (the epoch's running accuracy; empty for regression), ``lr``,
``samples_per_s``.

Numbers are written losslessly (``repr`` of the float), so a value read back is the value
recorded; a cell with nothing to say is empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from workbench.atomic import atomic_write_bytes
from workbench.errors import WorkbenchError
from workbench.runs import events as ev
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory, TimedEvent, timed_events

#: What the Runs screen's export writes, inside the run's folder.
CSV_NAME = "metrics.csv"

EPOCH_COLUMNS = ("epoch", "time", "elapsed_s", "duration_s", "lr", "samples_per_s")
STEP_COLUMNS = ("epoch", "step", "global_step", "time", "loss", "acc", "lr", "samples_per_s")

Cell = int | float | str | None


@dataclass(frozen=True)
class MetricsTable:
    """Rows of one kind (epochs or steps) under their column names."""

    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]

    def csv_text(self) -> str:
        """The table as CSV: a header line, then one line per row (``\\n`` line ends)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(tuple(_cell(value) for value in row) for row in self.rows)
        return out.getvalue()


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float: nothing is lost
    return str(value)


def read_history(run: RunDir) -> tuple[RunHistory, dict[int, float]]:
    """The run's history and, by ``id()`` of each of its events, when the recorder wrote it."""
    events = timed_events(run.read_events())
    return RunHistory.from_events(events), _times(events)


def _times(events: list[TimedEvent]) -> dict[int, float]:
    return {id(event): when for event, when in events if when is not None}


def epoch_table(history: RunHistory, times: dict[int, float] | None = None) -> MetricsTable:
    """One row per epoch done (see the module's table); ``times`` as :func:`read_history` gives."""
    times = times or {}
    train = _metric_names(e.train for e in history.epochs)
    val = _metric_names(e.val for e in history.epochs)
    finished = history.finished
    test = _metric_names([finished.test]) if finished is not None else []
    tested = tested_epoch(finished) if finished is not None else None
    columns = (*EPOCH_COLUMNS, *(f"train_{m}" for m in train), *(f"val_{m}" for m in val), *(f"test_{m}" for m in test))
    rows: list[tuple[Cell, ...]] = []
    elapsed = 0.0
    for epoch in history.epochs:
        elapsed += epoch.duration_s
        tests = finished.test if finished is not None and epoch.epoch == tested else {}
        rows.append(
            (
                epoch.epoch,
                _iso(times.get(id(epoch))),
                elapsed,
                epoch.duration_s,
                epoch.lr,
                epoch.samples_per_s,
                *(epoch.train.get(m) for m in train),
                *(epoch.val.get(m) for m in val),
                *(tests.get(m) for m in test),
            )
        )
    return MetricsTable(columns, rows)


def step_table(history: RunHistory, times: dict[int, float] | None = None) -> MetricsTable:
    """One row per training report the run kept (see the module's table)."""
    times = times or {}
    rows: list[tuple[Cell, ...]] = []
    for point in history.steps:
        report = point.source
        if report is not None:
            rows.append(
                (
                    report.epoch,
                    report.step,
                    report.global_step,
                    _iso(times.get(id(report))),
                    report.loss,
                    report.acc,
                    report.lr,
                    report.samples_per_s,
                )
            )
    return MetricsTable(STEP_COLUMNS, rows)


def tested_epoch(finished: ev.RunFinished) -> int | None:
    """The epoch whose weights the run's test evaluated: best.pt holds the best epoch, last.pt
    the last one done; None when the run was not tested (stopped)."""
    if not finished.test:
        return None
    return finished.best_epoch if Path(finished.checkpoint).name == "best.pt" else finished.epochs_done


def _metric_names(dicts: Iterable[dict[str, float]]) -> list[str]:
    """Every metric name in ``dicts``, ``loss`` first, then in the order they were first recorded."""
    names: dict[str, None] = {}
    for values in dicts:
        names.update(dict.fromkeys(values))
    return sorted(names, key=lambda name: name != "loss")


def _iso(when: float | None) -> str | None:
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds") if when is not None else None


def metrics_table(run: RunDir, *, steps: bool = False) -> MetricsTable:
    """The run's epoch table (or step table); a run with nothing of that kind recorded yet is an error."""
    history, times = read_history(run)
    table = step_table(history, times) if steps else epoch_table(history, times)
    if not table.rows:
        what = "training step" if steps else "finished epoch"
        raise WorkbenchError(f"run {run.id} has no {what} recorded yet ({run.metrics_path}); nothing to export")
    return table


def write_csv(table: MetricsTable, path: Path) -> Path:
    """Write ``table`` to ``path`` atomically (the old file or the new one, never half of it)."""
    path = path.expanduser()
    if path.is_dir():
        raise WorkbenchError(f"{path}: is a folder; give the CSV file's name")
    try:
        atomic_write_bytes(path, table.csv_text().encode("utf-8"))
    except OSError as error:
        raise WorkbenchError(f"{error.filename or path}: cannot write the CSV ({error.strerror or error})") from None
    return path


def export_to_run_folder(run: RunDir) -> Path:
    """Write the run's epoch table to ``metrics.csv`` in its folder (the Runs screen's export)."""
    return write_csv(metrics_table(run), run.path / CSV_NAME)
