"""``workbench compare``: several runs side by side, as the app's compare view shows them.

Two tables from :func:`workbench.runs.comparison.compare_runs`: the runs with their results
(sortable by any result or setting), then every setting that differs, the most telling first.
"""

from __future__ import annotations

import argparse
import json

from rich import box
from rich.console import Console
from rich.table import Table

from workbench.errors import WorkbenchError
from workbench.runs.comparison import RESULT_COLUMNS, Comparison, compare_runs, format_setting, run_labels


def register(sub: argparse._SubParsersAction) -> None:
    compare = sub.add_parser("compare", help="compare runs: their results and every setting that differs")
    compare.add_argument("runs", metavar="RUN", nargs="+", help="two or more runs: ids, unique prefixes, 'latest' or folders")
    compare.add_argument(
        "--sort", metavar="COLUMN", help=f"order the runs by a result ({', '.join(RESULT_COLUMNS)}) or a setting (optimizer.lr)"
    )
    compare.add_argument("--reverse", action="store_true", help="reverse the order of --sort")
    compare.add_argument("--json", action="store_true", help="print JSON instead of tables")
    compare.set_defaults(handler=compare_command)


def compare_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.cli.run_commands import tables_console
    from workbench.runs.store import find_run

    runs = [find_run(ref) for ref in args.runs]
    if len({run.id for run in runs}) < 2:
        raise WorkbenchError("compare: name at least two different runs")
    comparison = compare_runs(runs)
    order = list(range(len(runs)))
    if args.sort:
        if args.sort not in RESULT_COLUMNS and args.sort not in comparison.settings:
            raise WorkbenchError(f"--sort {args.sort}: no such result or setting in these runs (try state, test, optimizer.lr)")
        order = comparison.order(args.sort, reverse=args.reverse)
    if args.json:
        console.print_json(json.dumps(_as_json(comparison, order), allow_nan=True, default=str))
        return 0
    out = tables_console(console)
    out.print(runs_table(comparison, order, boxed=console.is_terminal))
    out.print(differences_table(comparison, order, boxed=console.is_terminal))
    for run in comparison.runs:
        if run.error:
            console.print(f"{run.summary.id}: {run.error}", style="red", soft_wrap=True)
    return 0


def runs_table(comparison: Comparison, order: list[int], *, boxed: bool) -> Table:
    labels = run_labels(len(comparison.runs))
    table = Table(box=box.SIMPLE_HEAD if boxed else None, pad_edge=False)
    for column in ("", "run", *RESULT_COLUMNS):
        table.add_column(column, no_wrap=True, justify="right" if column in ("epochs", "time") else "left")
    cells = {column: comparison.cells(column) for column in RESULT_COLUMNS}
    for index in order:
        table.add_row(labels[index], comparison.runs[index].summary.id, *(cells[c][index] for c in RESULT_COLUMNS))
    return table


def differences_table(comparison: Comparison, order: list[int], *, boxed: bool) -> Table | str:
    if not comparison.differences:
        return "The experiments are the same (only the runs differ)."
    labels = run_labels(len(comparison.runs))
    table = Table(box=box.SIMPLE_HEAD if boxed else None, pad_edge=False, title="What differs", title_justify="left")
    table.add_column("setting", no_wrap=True)
    for index in order:
        table.add_column(labels[index], no_wrap=True)
    for difference in comparison.differences:
        table.add_row(difference.setting, *(format_setting(difference.values[i]) for i in order))
    return table


def _as_json(comparison: Comparison, order: list[int]) -> dict[str, object]:
    labels = run_labels(len(comparison.runs))
    return {
        "runs": [comparison.runs[i].summary.to_dict() | {"label": labels[i], "error": comparison.runs[i].error} for i in order],
        "differences": [{"setting": d.setting, "values": [d.values[i] for i in order]} for d in comparison.differences],
    }
