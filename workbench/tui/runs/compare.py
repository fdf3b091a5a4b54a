"""Two runs side by side: their curves overlaid, their results, and how their experiments differ.

Pushed over the Runs screen (``v``). Each run gets one colour on both charts (loss, and the
task's metric); the lines are training, the dots validation. Below, every setting whose value
differs between the two experiments, as dotted paths (``optimizer.lr``, ``model.layers.3.p``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Resize
from textual.widgets import Static

from workbench.errors import WorkbenchError, describe_error
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory
from workbench.runs.listing import RunSummary, best_text, test_text
from workbench.schema import config as config_io
from workbench.schema.config import RunConfig
from workbench.tui.messages import ComparisonRead
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.widgets.charts import RUN_COLOURS, ChartDeck, compare_charts
from workbench.tui.widgets.plain import plain_cells

WIDE_COLUMNS = 120
#: How the runs are named in the legends (their ids are written out above the charts).
LETTERS = "ABCD"
#: Differences listed at most (a different model can differ in many layer settings).
MAX_DIFFERENCES = 30


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{"optimizer": {"lr": 0.1}}`` -> ``{"optimizer.lr": 0.1}``; list items by index."""
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = ((str(i), v) for i, v in enumerate(data))
    else:
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in items:
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def config_differences(a: RunConfig, b: RunConfig) -> list[tuple[str, Any, Any]]:
    """(setting, value in a, value in b) for every setting that differs; ``-`` where one lacks it."""
    left, right = flatten(config_io.to_dict(a)), flatten(config_io.to_dict(b))
    return [
        (key, left.get(key, "-"), right.get(key, "-"))
        for key in sorted(left.keys() | right.keys())
        if left.get(key) != right.get(key)
    ]


class CompareScreen(WorkbenchScreen):
    MODE = "runs"
    HINT = "g shows the other chart · escape goes back to the runs"

    BINDINGS = [Binding("escape", "back", "Back"), Binding("g", "next_chart", "Next chart")]

    DEFAULT_CSS = """
    CompareScreen #compare-runs { height: auto; padding: 0 1; }
    CompareScreen #compare-charts { height: 1fr; min-height: 8; }
    CompareScreen #compare-diff { height: auto; max-height: 8; padding: 0 1; overflow-y: auto; }
    """

    def __init__(self, summaries: list[RunSummary]) -> None:
        super().__init__()
        self.summaries = summaries
        self.histories: list[RunHistory] = []

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            yield Static(self._runs_text(), id="compare-runs", markup=False)
            yield ChartDeck(("loss", "metric"), id="compare-charts")
            yield Static("reading the runs…", id="compare-diff", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self._read()

    def on_resize(self, event: Resize) -> None:
        self.query_one(ChartDeck).set_class(event.size.width >= WIDE_COLUMNS, "-all")

    def action_back(self) -> None:
        self.dismiss()

    def action_next_chart(self) -> None:
        self.query_one(ChartDeck).cycle()

    def _runs_text(self) -> Text:
        text = Text()
        for index, summary in enumerate(self.summaries):
            colour = RUN_COLOURS[index % len(RUN_COLOURS)]
            if index:
                text.append("\n")
            text.append(f"■ {LETTERS[index]} {summary.id}", style=f"bold {colour}")
            text.append(
                f"  {summary.state} · {summary.epochs_done}/{summary.epochs} epochs · best {best_text(summary)} · test {test_text(summary)}"
            )
        return text

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _read(self) -> None:
        runs = [RunDir(Path(s.path)) for s in self.summaries]
        histories = [RunHistory.from_records(run.read_events()) for run in runs]
        try:
            differences: list[tuple[str, Any, Any]] | str = config_differences(runs[0].read_config(), runs[1].read_config())
        except (WorkbenchError, OSError) as error:  # a config that cannot be read is said, not raised
            differences = describe_error(error)
        self.post_message(ComparisonRead(histories, differences))

    def on_comparison_read(self, message: ComparisonRead) -> None:
        self._show(message.histories, message.differences)

    def _show(self, histories: list[RunHistory], differences: list[tuple[str, Any, Any]] | str) -> None:
        self.histories = histories
        labels = [LETTERS[i] for i in range(len(self.summaries))]
        self.query_one(ChartDeck).draw(compare_charts(histories, labels))
        self.query_one("#compare-diff", Static).update(differences_table(differences))


def differences_table(differences: list[tuple[str, Any, Any]] | str) -> Table | Text:
    if isinstance(differences, str):
        return Text.styled(differences, "red")
    if not differences:
        return Text("The two experiments are the same (only the runs differ).", style="dim")
    table = Table(box=None, padding=(0, 2, 0, 0), pad_edge=False, title="What differs", title_justify="left", title_style="bold")
    table.add_column(header="setting", style="bold", no_wrap=True)
    table.add_column(header=LETTERS[0], style=RUN_COLOURS[0], overflow="ellipsis")
    table.add_column(header=LETTERS[1], style=RUN_COLOURS[1], overflow="ellipsis")
    for key, left, right in differences[:MAX_DIFFERENCES]:
        table.add_row(*plain_cells(key, str(left), str(right)))
    if len(differences) > MAX_DIFFERENCES:
        table.add_row(f"… {len(differences) - MAX_DIFFERENCES} more", "", "")
    return table
