"""``workbench inside``: a look inside a run's model, as the app's inside view shows it.

Named after what it shows (the model's inside, from the run's inside.jsonl) and the app's key
for it (``i`` on the Runs screen); ``inspect`` would read as a look at the run's settings.
Every table is worded by :mod:`workbench.runs.inside`, the same functions the app draws with.
"""

from __future__ import annotations

import argparse
import json

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from workbench.errors import WorkbenchError
from workbench.runs.inside import (
    ACTIVATION_COLUMNS,
    ACTIVATION_HISTORY_COLUMNS,
    TENSOR_COLUMNS,
    TENSOR_HISTORY_COLUMNS,
    InsideEpoch,
    activation_history_rows,
    activation_rows,
    epoch_record,
    findings,
    probe_text,
    read_inside,
    tensor_history_rows,
    tensor_rows,
)


def register(sub: argparse._SubParsersAction) -> None:
    inside = sub.add_parser(
        "inside", help="a look inside a run's model: weights, gradients and outputs per layer, recorded at each epoch's end"
    )
    inside.add_argument("run", metavar="RUN", help="run id, unique prefix, 'latest' or folder")
    inside.add_argument("--epoch", type=int, metavar="N", help="the epoch to show (default: the last recorded)")
    inside.add_argument("--layer", metavar="NAME", help="one layer at every epoch instead (e.g. conv1)")
    inside.add_argument("--json", action="store_true", help="print the epoch's record as JSON")
    inside.set_defaults(handler=inside_command)


def inside_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.cli.run_commands import tables_console
    from workbench.runs.store import find_run

    run = find_run(args.run)
    records = read_inside(run)
    record = epoch_record(records, args.epoch)
    if args.json:
        console.print_json(json.dumps(record.to_dict(), allow_nan=True))
        return 0
    out = tables_console(console)
    boxed = console.is_terminal
    if args.layer:
        for renderable in layer_view(records, args.layer, boxed=boxed):
            out.print(renderable)
        return 0
    headline = Text.assemble(("Inside ", "bold"), (run.id, "bold"), f" · epoch {record.epoch} of {records[-1].epoch}")
    console.print(headline, soft_wrap=True)
    console.print(probe_text(record), soft_wrap=True)
    out.print(_table(TENSOR_COLUMNS, tensor_rows(record), "Weights and gradients", boxed))
    out.print(_table(ACTIVATION_COLUMNS, activation_rows(record), "Outputs on the probe batch", boxed))
    previous = next((r for r in reversed(records) if r.epoch < record.epoch), None)
    for finding in findings(record, previous):
        console.print(Text(f"! {finding.message}", style="yellow"), soft_wrap=True)
    if record.filters is not None:
        console.print(filters_view(record, console.is_terminal))
    return 0


def layer_view(records: list[InsideEpoch], layer: str, *, boxed: bool) -> list[RenderableType]:
    """A layer's tensors and outputs at every epoch; a name no record has is refused in one line."""
    last = records[-1].layer(layer)
    if last is None:
        names = ", ".join(found.name for found in records[-1].layers)
        raise WorkbenchError(f"--layer {layer}: no such layer in this run's records; its layers: {names}")
    shown: list[RenderableType] = [Text(f"{layer} ({last.type})", style="bold")]
    for tensor in last.tensors:
        rows = tensor_history_rows(records, layer, tensor.name)
        shown.append(_table(TENSOR_HISTORY_COLUMNS, rows, f"{layer}.{tensor.name}", boxed))
    rows = activation_history_rows(records, layer)
    if rows:
        shown.append(_table(ACTIVATION_HISTORY_COLUMNS, rows, "Outputs on the probe batch", boxed))
    return shown


def filters_view(record: InsideEpoch, terminal: bool) -> RenderableType:
    """The first conv layer's filters as pictures in a terminal (a line saying so in a pipe)."""
    filters = record.filters
    assert filters is not None
    title = f"{filters.layer}: the first {filters.count} of {filters.total} filters, {filters.height}x{filters.width}"
    if not terminal:
        return f"{title} (drawn in a terminal and in the app)"
    from rich.console import Group

    from workbench.tui.widgets.filters import filter_grid

    return Group(Text(title, style="bold"), filter_grid(filters))


def _table(columns: tuple[str, ...], rows: list[tuple[str, ...]], title: str, boxed: bool) -> Table:
    table = Table(box=box.SIMPLE_HEAD if boxed else None, pad_edge=False, title=title, title_justify="left")
    for column in columns:
        numeric = column not in ("tensor", "layer", "type", "shape", "weights", "gradients")
        table.add_column(column, no_wrap=True, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*row)
    return table
