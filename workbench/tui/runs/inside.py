"""The inside view: what one run's model looked like at each epoch's end, layer by layer.

Pushed over the Runs screen (``i``). On the left the model's layers; on the right the chosen
layer's weight and gradient statistics at every epoch, the histograms of its weights and
gradients at one epoch (``←`` ``→`` choose it), its outputs on the probe batch at every epoch,
and for the first conv layer its filters as pictures. Warnings of that epoch (a dead ReLU,
exploding or vanishing gradients) are said at the top and marked in the list.

Everything comes from the run's inside.jsonl, read in a thread worker and worded by
:mod:`workbench.outputs.inside`, as ``workbench inside`` words it; the file is looked at again
every two seconds, so a run in progress adds its epochs as they end.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from workbench.formatting import counted
from workbench.outputs.inside import (
    ACTIVATION_HISTORY_COLUMNS,
    STAT_COLUMNS,
    Finding,
    InsideEpoch,
    LayerRecord,
    TensorStats,
    activation_history_rows,
    findings,
    histogram_rows,
    largest_grad_norm,
    number,
    probe_text,
    read_inside,
    tensor_history_rows,
)
from workbench.render.filters import filter_pictures, filter_tiles
from workbench.runs.folder import RunDir
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.widgets.picture import PictureGrid

#: Seconds between two looks at inside.jsonl while the view is shown.
POLL_INTERVAL_S = 2.0
#: Rows of a histogram.
HISTOGRAM_HEIGHT = 4
#: Epochs a table shows at once: the shown epoch and those before it.
TABLE_EPOCHS = 6


class InsideScreen(WorkbenchScreen):
    """Pushed over the Runs screen for one run."""

    MODE = "runs"
    MAIN_WIDGET = "#inside-layers"
    HINT = "↑↓ choose a layer · ← → the epoch of the histograms and filters · tab scrolls the details · escape back"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("left", "epoch(-1)", "Epoch before", tooltip="Show the histograms and filters of the epoch before"),
        Binding("right", "epoch(1)", "Epoch after", tooltip="Show the histograms and filters of the epoch after"),
    ]

    DEFAULT_CSS = """
    InsideScreen #inside-title { height: 2; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    InsideScreen #inside-warnings { height: auto; color: $warning; }
    InsideScreen #inside-main { height: 1fr; }
    InsideScreen #inside-layers { width: 15; height: 1fr; border: none; border-right: solid $panel-lighten-2; padding: 0; scrollbar-size-vertical: 1; }
    InsideScreen #inside-layers:focus { border: none; border-right: solid $panel-lighten-2; background-tint: $foreground 5%; }
    InsideScreen #inside-detail { width: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    InsideScreen #inside-filters-title { margin-top: 1; }
    """

    def __init__(self, run: RunDir) -> None:
        super().__init__()
        self.run = run
        #: The run's records, one per epoch, oldest first (None until read).
        self.records: list[InsideEpoch] | None = None
        #: Which record the histograms and filters show (an index into ``records``).
        self.epoch_index = -1
        self.layer_name = ""
        self._stamp: tuple[float, int] | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            yield Static(Text(f"Inside {self.run.id} · reading…", style="dim"), id="inside-title", markup=False)
            with Horizontal(id="inside-main"):
                yield OptionList(id="inside-layers", markup=False)
                with VerticalScroll(id="inside-detail"):
                    yield Static(id="inside-warnings", classes="hidden", markup=False)
                    yield Static(id="inside-layer", markup=False)
                    yield Static(id="inside-filters-title", classes="hidden", markup=False)
                    yield PictureGrid(id="inside-filters")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#inside-layers", OptionList).focus()
        self.set_interval(POLL_INTERVAL_S, self._poll)
        self._poll()

    def action_back(self) -> None:
        self.dismiss()

    def action_epoch(self, step: int) -> None:
        if not self.records:
            return
        index = self.epoch_index % len(self.records) + step
        self.epoch_index = max(0, min(len(self.records) - 1, index))
        self._show()

    # ------------------------------------------------------------------ reading

    def _poll(self) -> None:
        try:
            stat = self.run.inside_path.stat()
            stamp = (stat.st_mtime, stat.st_size)
        except OSError:
            stamp = (0.0, 0)
        if stamp != self._stamp or self.records is None:
            self._stamp = stamp
            self._read()

    @work(thread=True, exclusive=True, group="inside-read", exit_on_error=False)
    def _read(self) -> None:
        records = read_inside(self.run)
        self.app.call_from_thread(self._records_read, records)

    def _records_read(self, records: list[InsideEpoch]) -> None:
        at_last = self.records is None or self.epoch_index in (-1, len(self.records) - 1)
        self.records = records
        self.epoch_index = len(records) - 1 if at_last else min(self.epoch_index, len(records) - 1)
        self._fill_layers()
        self._show()

    def worker_failed(self, group: str, error: BaseException) -> None:
        if group == "inside-read":
            self.query_one("#inside-title", Static).update(Text(f"inside.jsonl could not be read: {error}", style="bold red"))
        else:
            super().worker_failed(group, error)

    # ------------------------------------------------------------------ drawing

    @property
    def record(self) -> InsideEpoch | None:
        return self.records[self.epoch_index] if self.records else None

    def _findings(self) -> list[Finding]:
        record = self.record
        if record is None or self.records is None:
            return []
        return findings(record, largest_grad_norm(self.records[: self.epoch_index]))

    def _fill_layers(self) -> None:
        options = self.query_one("#inside-layers", OptionList)
        last = self.records[-1] if self.records else None
        names = [layer.name for layer in last.layers] if last is not None else []
        if [option.id for option in options.options] == names:
            return
        options.clear_options()
        for name in names:
            options.add_option(Option(Text(name), id=name))
        if names:
            options.highlighted = names.index(self.layer_name) if self.layer_name in names else 0
            self.layer_name = names[options.highlighted or 0]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "inside-layers" and event.option.id and event.option.id != self.layer_name:
            self.layer_name = event.option.id
            self._show()

    def _show(self) -> None:
        record, records = self.record, self.records or []
        title = self.query_one("#inside-title", Static)
        if record is None:
            title.update(Text.assemble(("Inside ", "bold"), (self.run.id, "bold")))
            self.query_one("#inside-layer", Static).update(
                Text(
                    "Nothing recorded yet: the trainer looks inside the model as each epoch ends "
                    "(runs trained before Workbench recorded it have nothing to show).",
                    style="dim",
                )
            )
            return
        found = self._findings()
        warnings = self.query_one("#inside-warnings", Static)
        warnings.update("\n".join(f"! {finding.message}" for finding in found))
        warnings.set_class(not found, "hidden")
        title.update(
            Text.assemble(
                ("Inside ", "bold"),
                (self.run.id, "bold"),
                f" · epoch {record.epoch} of {records[-1].epoch} (← →)",
                (f" · {counted(len(found), 'warning')}" if found else "", "yellow"),
                "\n",
                probe_text(record),
            )
        )
        self._mark_layers(found)
        layer = record.layer(self.layer_name)
        self.query_one("#inside-layer", Static).update(
            layer_view(records, record, layer) if layer is not None else Text(f"{self.layer_name}: not in epoch {record.epoch}")
        )
        self._show_filters(record)

    def _mark_layers(self, found: list[Finding]) -> None:
        """A layer a warning names is shown in yellow with a ``!``."""
        options = self.query_one("#inside-layers", OptionList)
        named = {f.layer for f in found if f.layer}
        for index, option in enumerate(options.options):
            name = option.id or ""
            prompt = Text(f"{name} !", style="yellow") if name in named else Text(name)
            if str(option.prompt) != str(prompt):
                options.replace_option_prompt_at_index(index, prompt)

    def _show_filters(self, record: InsideEpoch) -> None:
        filters = record.filters
        shown = filters is not None and filters.layer == self.layer_name
        title = self.query_one("#inside-filters-title", Static)
        title.set_class(not shown, "hidden")
        grid = self.query_one("#inside-filters", PictureGrid)
        if filters is None or not shown:
            grid.set_pictures([])
            return
        title.update(
            Text(
                f"Filters at epoch {record.epoch}: the first {filters.count} of {filters.total}, each stretched to black-white",
                style="bold",
            )
        )
        grid.tile_width, grid.tile_height = filter_tiles(filters)
        grid.set_pictures(filter_pictures(filters))


def layer_view(records: list[InsideEpoch], record: InsideEpoch, layer: LayerRecord) -> RenderableType:
    """One layer: each tensor's statistics at every epoch (the shown epoch highlighted) and
    its weights' and gradients' histograms at the shown epoch, then its outputs at every epoch."""
    parts: list[RenderableType] = [Text.assemble((layer.name, "bold cyan"), f" ({layer.type})")]
    if not layer.tensors and layer.activation is None:
        parts.append(Text("nothing recorded for this layer", style="dim"))
    for tensor in layer.tensors:
        rows = [row[: 1 + len(STAT_COLUMNS)] for row in tensor_history_rows(records, layer.name, tensor.name)]
        parts.append(_table(("epoch", *STAT_COLUMNS), rows, f"{tensor.name} {'x'.join(map(str, tensor.shape))}", record.epoch))
        histograms = Table.grid(padding=(0, 2))
        histograms.add_row(
            histogram(tensor.weight, f"{tensor.name} at epoch {record.epoch}"),
            histogram(tensor.grad, "its gradient") if tensor.grad is not None else Text("no gradient", style="dim"),
        )
        parts.append(histograms)
    rows = activation_history_rows(records, layer.name)
    if rows:
        parts.append(_table(ACTIVATION_HISTORY_COLUMNS, rows, "outputs on the probe batch", record.epoch))
    return Group(*parts)


def histogram(stats: TensorStats, title: str) -> Text:
    """A histogram drawn with block characters, its range under it: ``-0.365  0  0.365``."""
    width = len(stats.hist)
    text = Text(title[:width], style="bold", no_wrap=True, overflow="crop")
    for row in histogram_rows(stats.hist, HISTOGRAM_HEIGHT):
        text.append("\n" + row, style="cyan")
    low, high = (number(-stats.absmax), number(stats.absmax)) if stats.absmax > 0 else ("", "all zero")
    middle = max(1, width - len(low) - len(high))
    text.append("\n" + low + "0".center(middle) + high, style="dim")
    return text


def _table(columns: tuple[str, ...], rows: list[tuple[str, ...]], title: str, epoch: int) -> Table:
    """Rows of epochs, at most :data:`TABLE_EPOCHS` of them: the first ones, or those up to the shown one."""
    epochs = [row[0] for row in rows]
    shown = epochs.index(str(epoch)) + 1 if str(epoch) in epochs else len(rows)
    end = min(len(rows), max(shown, TABLE_EPOCHS))
    window = rows[max(0, end - TABLE_EPOCHS) : end]
    if len(window) < len(rows):
        title += f" · epochs {window[0][0]}-{window[-1][0]} of {rows[-1][0]}"
    # No rules between the columns, one space apart: eight columns of figures fit beside the layers at 80.
    table = Table(box=None, pad_edge=False, title=title, title_justify="left", title_style="bold", padding=(0, 1, 0, 0))
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    for row in window:
        table.add_row(*row, style="reverse" if row[0] == str(epoch) else "")
    return table
