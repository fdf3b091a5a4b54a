"""Any number of runs side by side: a table of runs, their curves overlaid, and what differs.

Pushed over the Runs screen (``v`` on the marked runs). Each run has a letter and a colour,
the same in the table, the legends and the differences:

- the runs table (the "parallel comparison" of W&B): one row per run with its results and a
  column per chosen setting (the differing ones at first; ``h`` chooses), sorted by any column
  (``o`` moves to the next, ``O`` reverses);
- the loss and metric charts (``g``), lines for training, dots for validation;
- every setting that differs, the most telling first (dataset, model, optimizer, schedule,
  epochs, then the rest), scrollable.

What is shown is computed below the line (:mod:`workbench.runs.comparison`), the same as
``workbench compare`` prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Resize
from textual.widgets import DataTable, Static

from workbench.formatting import counted
from workbench.runs.comparison import BEST_FIRST, LAST, RESULT_COLUMNS, Comparison, compare_runs, format_setting, run_labels
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory
from workbench.runs.listing import STATE_STYLES, RunSummary
from workbench.tui.messages import ComparisonRead
from workbench.tui.screens.charts_screen import ChartsScreen
from workbench.tui.widgets.charts import CHART_BINDINGS, RUN_COLOURS, ChartDeck, compare_charts
from workbench.tui.widgets.plain import plain_cells

WIDE_COLUMNS = 120
#: A setting's text is cut to this many characters in the tables (several runs share 80 columns).
CELL_WIDTH = 18
#: Settings shown as columns of the runs table at first (the most telling differences, not
#: counting each layer's own settings).
FIRST_SETTING_COLUMNS = 8


def run_colour(index: int) -> str:
    return RUN_COLOURS[index % len(RUN_COLOURS)]


class CompareScreen(ChartsScreen):
    MODE = "runs"
    MAIN_WIDGET = "#compare-runs"
    HINT = "o sorts · h columns · g other chart · l log · [ ] smoothing · tab what differs · esc back"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("o", "sort", "Sort", tooltip="Sort the runs by the next column"),
        Binding("O", "reverse", "Reverse", show=False, tooltip="Reverse the order of the sort"),
        Binding("h", "choose_columns", "Columns", tooltip="Choose the settings shown as columns"),
        Binding("g", "next_chart", "Next chart", tooltip="Show the other chart: loss or the metric"),
        *CHART_BINDINGS,
    ]

    DEFAULT_CSS = """
    CompareScreen #compare-runs { height: auto; max-height: 7; scrollbar-size: 1 1; }
    CompareScreen #compare-charts { height: 1fr; min-height: 7; }
    CompareScreen #compare-diff { height: 8; scrollbar-size: 1 1; border-top: solid $panel-lighten-2; border-title-color: $text; }
    CompareScreen #compare-note { height: auto; padding: 0 1; }
    CompareScreen.-tall #compare-diff { height: 1fr; }
    """

    #: The chosen settings before the results (a sweep's axes are what its table is about).
    SETTINGS_FIRST: ClassVar[bool] = False

    def __init__(self, summaries: list[RunSummary]) -> None:
        super().__init__()
        self.summaries = summaries
        self.labels = run_labels(len(summaries))
        self.histories: list[RunHistory] = []
        self.comparison: Comparison | None = None
        self.columns: list[str] = []  # the settings shown in the runs table
        self.sort_column = ""  # "" keeps the order the runs were marked in
        self.reverse = False

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            yield DataTable(id="compare-runs", cursor_type="row", zebra_stripes=False)
            yield ChartDeck(self.chart_names(), id="compare-charts")
            yield Static("reading the runs…", id="compare-note", markup=False)
            yield DataTable(id="compare-diff", cursor_type="row", zebra_stripes=False)

    def chart_names(self) -> tuple[str, ...]:
        """The charts ``g`` goes through, the first shown first."""
        return ("loss", "metric")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#compare-diff").border_title = "What differs"
        self.focus_main_widget()
        self._read()

    def on_resize(self, event: Resize) -> None:
        self.query_one(ChartDeck).set_class(event.size.width >= WIDE_COLUMNS, "-all")
        self.set_class(event.size.height >= 40, "-tall")

    # ------------------------------------------------------------------ reading

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _read(self) -> None:
        runs = [RunDir(Path(s.path)) for s in self.summaries]
        histories = [RunHistory.from_records(run.read_events()) for run in runs]
        self.post_message(ComparisonRead(histories, compare_runs(runs)))

    def on_comparison_read(self, message: ComparisonRead) -> None:
        self.histories, self.comparison = message.histories, message.comparison
        # Each layer's settings are in the differences; as columns they would crowd out the rest.
        shown = [d.setting for d in message.comparison.differences if d.setting not in LAST and ".layers." not in d.setting]
        self.columns = shown[:FIRST_SETTING_COLUMNS]
        self.query_one(ChartDeck).draw(compare_charts(message.histories, self.labels))
        self._fill_runs()
        self._fill_differences()

    # ------------------------------------------------------------------ drawing

    def _order(self) -> list[int]:
        assert self.comparison is not None
        if not self.sort_column:
            indices = list(range(len(self.comparison.runs)))
            return indices[::-1] if self.reverse else indices
        return self.comparison.order(self.sort_column, reverse=self.reverse)

    def _fill_runs(self) -> None:
        comparison = self.comparison
        if comparison is None:
            return
        table = self.query_one("#compare-runs", DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        columns = (*self.columns, *RESULT_COLUMNS) if self.SETTINGS_FIRST else (*RESULT_COLUMNS, *self.columns)
        for column in ("run", *columns):
            table.add_column(self._header(column), key=column)
        cells = {column: comparison.cells(column, CELL_WIDTH) for column in columns}
        names = [run.summary.name for run in comparison.runs]
        for index in self._order():
            run = comparison.runs[index]
            # Runs of one preset share its name: then their ids tell them apart (gpu1:RUN for a host's).
            shown = run.summary.name if run.summary.name and names.count(run.summary.name) == 1 else run.summary.ref
            label = Text.styled(f"■ {self.labels[index]} {shown}", run_colour(index))
            row = [
                Text.styled(cells[c][index], STATE_STYLES.get(cells[c][index], "")) if c == "state" else cells[c][index]
                for c in columns
            ]
            table.add_row(label, *plain_cells(*row), key=run.summary.ref)
        table.move_cursor(row=min(keep, table.row_count - 1), animate=False)
        errors = [f"{r.summary.ref}: {r.error}" for r in comparison.runs if r.error]
        self.query_one("#compare-note", Static).update(Text.styled("\n".join(errors), "red"))
        self.query_one("#compare-note").set_class(not errors, "hidden")

    def _header(self, column: str) -> Text:
        descending = self.reverse != (column in BEST_FIRST)
        arrow = (" ↓" if descending else " ↑") if column == self.sort_column else ""
        return Text(f"{column}{arrow}", style="bold" if arrow else "")

    def _fill_differences(self) -> None:
        comparison = self.comparison
        if comparison is None:
            return
        table = self.query_one("#compare-diff", DataTable)
        table.clear(columns=True)
        order = self._order()
        table.add_column("setting", key="setting")
        for index in order:
            table.add_column(Text.styled(self.labels[index], f"bold {run_colour(index)}"), key=str(index))
        if not comparison.differences:
            table.add_row(Text("The experiments are the same (only the runs differ)", style="dim"), *([""] * len(order)))
        for difference in comparison.differences:
            table.add_row(*plain_cells(difference.setting, *(format_setting(difference.values[i], CELL_WIDTH) for i in order)))
        count = len(comparison.differences)
        table.border_title = f"What differs ({counted(count, 'setting')})"

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.dismiss()

    def action_sort(self) -> None:
        """Sort by the next column: the run's order, its results, then the shown settings."""
        columns = ["", *RESULT_COLUMNS, *self.columns]
        position = columns.index(self.sort_column) if self.sort_column in columns else 0
        self.sort_column = columns[(position + 1) % len(columns)]
        self.reverse = False
        self._redraw_order()

    def action_reverse(self) -> None:
        self.reverse = not self.reverse
        self._redraw_order()

    def _redraw_order(self) -> None:
        self._fill_runs()
        self._fill_differences()
        what = self.sort_column or "the order they were marked in"
        self.set_hint(f"runs sorted by {what}{', reversed' if self.reverse else ''} · o next column · O reverse")

    def action_choose_columns(self) -> None:
        from workbench.tui.runs.dialogs import ColumnsScreen

        if self.comparison is None:
            return
        differing = {d.setting for d in self.comparison.differences}
        self.app.push_screen(ColumnsScreen(self.comparison.settings, self.columns, differing), self._columns_chosen)

    def _columns_chosen(self, columns: list[str] | None) -> None:
        if columns is None:
            return
        self.columns = columns
        if self.sort_column and self.sort_column not in (*RESULT_COLUMNS, *columns):
            self.sort_column = ""
        self._fill_runs()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("sort", "reverse", "choose_columns") and self.comparison is None:
            return None
        return super().check_action(action, parameters)
