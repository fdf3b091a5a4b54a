"""A sweep's view: its points in the compare view, the axes as columns, best point first, and
its search drawn.

Pushed over the Runs screen (``S`` on any run of a sweep). It is the compare view
(:class:`~workbench.tui.runs.compare.CompareScreen`: curves overlaid, sortable with ``o``, what
differs) over the sweep's runs, opened sorted by the monitored metric with the best point on
top, the sweep's axes as the table's columns, a pruned point's state saying so; ``b`` loads the
best point's experiment into the setup screens. Its first chart is the search: the monitored
metric of each point against its number, the best so far as a line, pruned points in their own
colour; ``g`` goes on to the metric against each axis's value, then the loss and metric curves.
It reads the sweep again every few seconds, so points show as they end. What it shows is
:func:`workbench.scheduling.sweep_table.sweep_table` and :func:`search_plots`, as ``workbench
sweep show`` prints it.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.binding import Binding

from workbench.errors import WorkbenchError
from workbench.runs.comparison import run_labels
from workbench.runs.folder import RunDir
from workbench.runs.history import metric_label
from workbench.scheduling.sweep_table import SearchPlot, SweepTable, search_plots
from workbench.schema.monitor import higher_is_better
from workbench.tui.messages import ComparisonRead, SweepTableRead
from workbench.tui.runs.compare import CompareScreen
from workbench.tui.widgets.charts import MARKER, RUN_COLOURS, ChartDeck, ChartSpec, Legend, Series

#: How often the view reads the sweep again (its points end while it is open).
REREAD_S = 3.0
#: Points, the best so far, and pruned points (yellow, as a stopped run's state).
POINT_COLOUR, BEST_COLOUR, PRUNED_COLOUR = RUN_COLOURS[0], RUN_COLOURS[1], RUN_COLOURS[2]


class SweepScreen(CompareScreen):
    SETTINGS_FIRST = True
    HINT = "b loads the best point · o sorts · g other chart · tab what differs · esc back"

    BINDINGS = [Binding("b", "load_best", "Load best", tooltip="Load the best point's experiment into the setup screens")]

    def __init__(self, table: SweepTable) -> None:
        super().__init__([table.comparison.runs[i].summary for i in table.order])
        self.table = table
        best = table.best
        if best is not None:  # best first: the monitored value, in its direction
            self.sort_column = "best"
            self.reverse = higher_is_better(best.monitor)

    def chart_names(self) -> tuple[str, ...]:
        return ("search", *(f"axis{i}" for i in range(len(self.table.axes))), "loss", "metric")

    def on_mount(self) -> None:
        super().on_mount()
        self._say_progress()
        self.set_interval(REREAD_S, self._reread)

    def _say_progress(self) -> None:
        progress = self.table.progress
        best = self.table.best
        said = f"best {self.table.best_text()} · b loads it" if best is not None else "no point has a result yet"
        self.set_hint(f"{progress.text()} · {said}")

    def on_comparison_read(self, message: ComparisonRead) -> None:
        super().on_comparison_read(message)
        self.columns = [axis for axis in self.table.axes if axis in message.comparison.settings]
        self._fill_runs()
        plots = search_plots(self.table)
        names = self.chart_names()
        self.query_one(ChartDeck).draw({names[i]: search_chart(plot) for i, plot in enumerate(plots) if i < len(names) - 2})

    # ------------------------------------------------------------------ points as they end

    @work(thread=True, exclusive=True, group="sweep-reread", exit_on_error=False)
    def _reread(self) -> None:
        from workbench.scheduling.sweep_table import sweep_table

        table = sweep_table(self.table.progress.sweep)
        if _facts(table) != _facts(self.table):
            self.post_message(SweepTableRead(table))

    def on_sweep_table_read(self, message: SweepTableRead) -> None:
        message.stop()
        self.table = message.table
        self.summaries = [message.table.comparison.runs[i].summary for i in message.table.order]
        self.labels = run_labels(len(self.summaries))
        self._say_progress()
        self._read()

    def action_load_best(self) -> None:
        best = self.table.best
        if best is None:
            self.notify("No point of this sweep has a result yet", severity="warning", timeout=4)
            return
        try:
            config = RunDir(Path(best.path)).read_config()
        except WorkbenchError as error:
            self.notify(str(error), severity="error", timeout=6)
            return
        self.dismiss()
        self.app.open_experiment(config, f"the best point of sweep {self.table.progress.sweep.id} (run {best.id})")


def _facts(table: SweepTable) -> list[tuple[str, str, float | None, int]]:
    """What a new reading changes in the view: each run, its state, best value and epochs."""
    return [(r.summary.id, r.summary.state, r.summary.best_value, r.summary.epochs_done) for r in table.comparison.runs]


def search_chart(plot: SearchPlot) -> ChartSpec:
    """A chart of the search: points as dots (pruned ones in their colour), the best so far as a line."""
    kept = [i for i, pruned in enumerate(plot.pruned) if not pruned]
    cut = [i for i, pruned in enumerate(plot.pruned) if pruned]
    series = [
        Series([plot.xs[i] for i in kept], [plot.ys[i] for i in kept], POINT_COLOUR, dots=True, line=False),
        Series([plot.xs[i] for i in cut], [plot.ys[i] for i in cut], PRUNED_COLOUR, dots=True, line=False),
    ]
    legend = [Legend(MARKER, "point", POINT_COLOUR)]
    if cut:
        legend.append(Legend(MARKER, "pruned", PRUNED_COLOUR))
    if plot.best_xs:
        series.append(Series(plot.best_xs, plot.best_ys, BEST_COLOUR))
        legend.append(Legend("━", "best so far", BEST_COLOUR, short="best"))
    metric = metric_label(plot.metric.partition("_")[2] or plot.metric)
    name = f"{plot.metric} by point" if plot.name == "search" else f"{plot.metric} by {plot.name}"
    return ChartSpec(
        name,
        tuple(legend),
        [s for s in series if s.xs],
        y_floor=0.0,
        y_ceiling=1.0 if metric == "accuracy" else None,
        log_y="loss" in plot.metric,
        x_ticks=tuple(plot.ticks),
    )
