"""A sweep's view: its points in the compare view, the axes as columns, best point first.

Pushed over the Runs screen (``S`` on any run of a sweep). It is the compare view
(:class:`~workbench.tui.runs.compare.CompareScreen`: curves overlaid, sortable with ``o``, what
differs) over the sweep's runs, opened sorted by the monitored metric with the best point on
top, the sweep's axes as the table's columns; ``b`` loads the best point's experiment into the
setup screens. What it shows is :func:`workbench.scheduling.sweep_table.sweep_table`, as
``workbench sweep show`` prints it.
"""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

from workbench.errors import WorkbenchError
from workbench.runs.folder import RunDir
from workbench.scheduling.sweep_table import SweepTable
from workbench.schema.monitor import higher_is_better
from workbench.tui.messages import ComparisonRead
from workbench.tui.runs.compare import CompareScreen


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

    def on_mount(self) -> None:
        super().on_mount()
        progress = self.table.progress
        best = self.table.best
        said = f"best {self.table.best_text()} · b loads it" if best is not None else "no point has a result yet"
        self.set_hint(f"{progress.text()} · {said}")

    def on_comparison_read(self, message: ComparisonRead) -> None:
        super().on_comparison_read(message)
        self.columns = [axis for axis in self.table.axes if axis in message.comparison.settings]
        self._fill_runs()

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
