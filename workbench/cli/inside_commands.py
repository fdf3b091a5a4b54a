"""``workbench inside``: a look inside a run's model, as the app's inside view shows it.

Named after what it shows (the model's inside, from the run's inside.jsonl) and the app's key
for it (``i`` on the Runs screen); ``inspect`` would read as a look at the run's settings.
Every table is worded by :mod:`workbench.outputs.inside`, the same functions the app draws with.
"""

from __future__ import annotations

import argparse
import json

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from workbench.errors import WorkbenchError
from workbench.outputs.inside import (
    ACTIVATION_COLUMNS,
    ACTIVATION_HISTORY_COLUMNS,
    TENSOR_COLUMNS,
    TENSOR_HISTORY_COLUMNS,
    InsideEpoch,
    activation_history_rows,
    activation_rows,
    epoch_record,
    findings,
    largest_grad_norm,
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
    if args.layer:
        for renderable in layer_view(records, args.layer, out.width):
            out.print(renderable)
        return 0
    headline = Text.assemble(("Inside ", "bold"), (run.id, "bold"), f" · epoch {record.epoch} of {records[-1].epoch}")
    console.print(headline, soft_wrap=True)
    console.print(probe_text(record), soft_wrap=True)
    width = out.width
    out.print()
    out.print(_table(TENSOR_COLUMNS, tensor_rows(record), "Weights and gradients", width))
    out.print()
    out.print(_table(ACTIVATION_COLUMNS, activation_rows(record), "Outputs on the probe batch", width))
    out.print()
    for finding in findings(record, largest_grad_norm(r for r in records if r.epoch < record.epoch)):
        console.print(Text(f"! {finding.message}", style="yellow"), soft_wrap=True)
    if record.filters is not None:
        console.print(filters_view(record, console.is_terminal))
    return 0


def layer_view(records: list[InsideEpoch], layer: str, width: int) -> list[RenderableType]:
    """A layer's tensors and outputs at every epoch; a name no record has is refused in one line."""
    last = records[-1].layer(layer)
    if last is None:
        names = ", ".join(found.name for found in records[-1].layers)
        raise WorkbenchError(f"--layer {layer}: no such layer in this run's records; its layers: {names}")
    shown: list[RenderableType] = [Text(f"{layer} ({last.type})", style="bold")]
    for tensor in last.tensors:
        rows = tensor_history_rows(records, layer, tensor.name)
        shown.append(_table(TENSOR_HISTORY_COLUMNS, rows, f"{layer}.{tensor.name}", width))
    rows = activation_history_rows(records, layer)
    if rows:
        shown.append(_table(ACTIVATION_HISTORY_COLUMNS, rows, "Outputs on the probe batch", width))
    return shown


def filters_view(record: InsideEpoch, terminal: bool) -> RenderableType:
    """The first conv layer's filters as pictures in a terminal (a line saying so in a pipe)."""
    filters = record.filters
    assert filters is not None
    title = f"{filters.layer}: the first {filters.count} of {filters.total} filters, {filters.height}x{filters.width}"
    if not terminal:
        return f"{title} (drawn in a terminal and in the app)"
    from rich.console import Group

    from workbench.render.filters import filter_grid

    return Group(Text(title, style="bold"), filter_grid(filters))


#: Columns left out, first to last, of a table wider than the terminal (80 columns cut every
#: figure short): the shapes, then the gradients' sparklines.
NARROW_DROPS = ("shape", "gradients")


def _table(columns: tuple[str, ...], rows: list[tuple[str, ...]], title: str, width: int) -> Table:
    kept = list(range(len(columns)))
    for drop in NARROW_DROPS:
        if _needs(columns, rows, kept) <= width:
            break
        kept = [i for i in kept if columns[i] != drop]
    # No rules between the columns: one space apart, the weights table fits 80 columns with its sparklines.
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), title=title, title_justify="left", title_style="bold")
    for i in kept:
        numeric = columns[i] not in ("tensor", "layer", "type", "shape", "weights", "gradients")
        table.add_column(columns[i], no_wrap=True, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(row[i] for i in kept))
    return table


def _needs(columns: tuple[str, ...], rows: list[tuple[str, ...]], kept: list[int]) -> int:
    """Cells the table takes with the columns ``kept``: each at its widest, one space after it."""
    return sum(max(len(columns[i]), *(len(row[i]) for row in rows)) + 1 for i in kept)
