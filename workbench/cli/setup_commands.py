"""``workbench presets`` and ``workbench describe``: what can be trained, and what exactly an
experiment is, before anything trains."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from workbench.formatting import count, shape, short_count


def register(sub: argparse._SubParsersAction) -> None:
    presets = sub.add_parser("presets", help="list the ready experiments")
    presets.add_argument("--json", action="store_true", help="print JSON instead of a table")
    presets.set_defaults(handler=list_presets)

    describe = sub.add_parser(
        "describe",
        help="show an experiment: dataset, model summary, optimizer, LR schedule "
        "(the LR per epoch comes from torch's own schedulers: the one part that loads torch, a few seconds)",
    )
    describe.add_argument("experiment", help="preset name or TOML file")
    add_override_argument(describe)
    describe.add_argument("--json", action="store_true", help="print JSON instead of tables")
    describe.set_defaults(handler=describe_experiment)


def add_override_argument(parser: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE``, shared by every command that takes an experiment."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field, e.g. --set optimizer.lr=0.05 --set model.layers.3.out_features=64",
    )


def list_presets(args: argparse.Namespace, console: Console) -> int:
    from workbench.experiment.presets import preset_rows

    rows = preset_rows()
    if args.json:
        console.print_json(json.dumps(rows))
        return 0
    console.print(presets_table(rows, console.width))
    return 0


#: What ``workbench presets`` leaves out when its table is wider than the terminal: the task
#: column (the dataset says most of it) and the parameters' digits (``11.2M``).
NARROW_PRESETS = ("task", "params")


def presets_table(rows: list[dict[str, Any]], width: int) -> Table:
    """The presets' table, fitted to ``width`` columns without cutting or breaking a word.

    At 80 columns the full table (95 wide) wrapped the model column over five lines and cut
    "resnet18" to "resne…"; there, the task column is left out and the parameters are short."""
    full = [_preset_cells(row, exact=True) for row in rows]
    columns = ["name", "dataset", "task", "model", "params", "data"]
    cells = full
    if _table_width(columns, full) > width:
        columns.remove("task")
        cells = [_preset_cells(row, exact=False) for row in rows]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for column in columns:
        table.add_column(column, justify="right" if column == "params" else "left", no_wrap=column != "model")
    for row, cell in zip(rows, cells, strict=True):
        table.add_row(*(cell[column] for column in columns))
        if row["error"]:
            table.add_row("", Text(row["error"], style="red"), *([""] * (len(columns) - 2)))
    return table


def _preset_cells(row: dict[str, Any], *, exact: bool) -> dict[str, str]:
    name = row["name"] + (" (user, shadows shipped)" if row["shadows"] else " (user)" if row["source"] == "user" else "")
    params = "-" if row["params"] is None else count(row["params"]) if exact else short_count(row["params"])
    return {
        "name": name,
        "dataset": row["dataset"],
        "task": f"{row['outputs']} classes" if row["task"] == "classification" else row["task"],
        "model": row["model"],
        "params": params,
        "data": row["availability"].removeprefix("download "),
    }


def _table_width(columns: list[str], cells: list[dict[str, str]]) -> int:
    """The table's width: each column as wide as its widest cell or heading, two spaces apart."""
    widths = [max([len(column), *(len(cell[column]) for cell in cells)]) for column in columns]
    return sum(widths) + 2 * (len(columns) - 1)


def describe_experiment(args: argparse.Namespace, console: Console) -> int:
    from workbench.experiment.describe import describe_experiment as describe
    from workbench.experiment.presets import load_experiment

    experiment = load_experiment(args.experiment, args.overrides)
    facts = describe(experiment)
    if args.json:
        console.print_json(json.dumps(facts))
        return 0
    _print_description(facts, console)
    return 0


def _print_description(facts: dict[str, Any], console: Console) -> None:
    data = facts["dataset"]
    console.print(Text.assemble((facts["name"], "bold"), f"  {facts['description']}" if facts["description"] else ""))
    console.print()
    splits = data["splits"]
    where = "bundled" if data["offline"] else ("cached" if data["cached"] else f"download {data['download_mb']:g} MB")
    console.print(_heading("Dataset", f"  {data['name']} ({data['title']}), {data['task']}, input {shape(data['input_shape'])}"))
    if data["task"] == "classification":
        names = ", ".join(data["class_names"][:12]) + (" ..." if len(data["class_names"]) > 12 else "")
        console.print(f"  classes  {len(data['class_names'])}: {names}")
    else:
        console.print(f"  targets  {data['num_outputs']}")
    console.print(f"  samples  train {splits['train']:,}  val {splits['val']:,}  test {splits['test']:,}")
    if data["path"]:  # the user's own file or folder: neither bundled nor downloaded
        console.print(f"  source   {data['source']} at {data['path']}", markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(f"  source   {data['source']} ({where})")
    console.print(f"  licence  {data['licence']}")
    console.print()

    model = facts["model"]
    tokens = f" token ids below {model['vocab_size']}" if model["vocab_size"] else ""
    table = Table(title=f"Model  (input {shape(model['input_shape'])}{tokens})", title_justify="left")
    grouped = any(layer["group"] for layer in model["layers"])  # a flat model's table stays as it was
    table.add_column("#", justify="right")
    if grouped:
        table.add_column("group")
    table.add_column("name")
    table.add_column("type")
    table.add_column("output shape")
    table.add_column("params", justify="right")
    for layer in model["layers"]:
        group = [layer["group"]] if grouped else []
        cells = (layer["name"], layer["type"], shape(layer["output_shape"]), count(layer["params"]))
        table.add_row(str(layer["index"]), *group, *cells)
    table.add_section()
    table.add_row("", *([""] if grouped else []), "", "total", "", count(model["total_params"]))
    console.print(table)
    frozen = model["trainable_params"] != model["total_params"]
    console.print(f"Total params: {model['total_params']:,}" + (f" ({model['trainable_params']:,} trainable)" if frozen else ""))
    console.print(_heading("Memory", f"  {facts['memory']['text']}"))
    console.print()

    console.print(_heading("Loss", f"       {_knobs(facts['loss'])}"))
    console.print(_heading("Optimizer", f"  {_knobs(facts['optimizer'])}"))
    schedule = facts["schedule"]
    lrs = schedule["lr_at_epochs"]
    shown = {k: v for k, v in schedule.items() if k not in ("lr_at_epochs", "note", "steps_per_epoch")}
    console.print(_heading("Schedule", f"   {_knobs(shown)}  ({schedule['steps_per_epoch']} steps per epoch)"))
    console.print(
        "  LR at epoch start (torch's schedulers): "
        + "  ".join(f"{i + 1}: {lr:.4g}" for i, lr in enumerate(lrs[:-1]))
        + f"  end: {lrs[-1]:.4g}"
    )
    if schedule["note"]:
        console.print(f"  note: {schedule['note']}")
    train = facts["train"]
    console.print(
        _heading(
            "Train",
            f"      epochs {train['epochs']}, seed {train['seed']}, device {train['device']}, precision {train['precision']}",
        )
    )


def _heading(label: str, rest: str) -> Text:
    """A bold label and plain text: the consoles read no markup, since the rest is user text."""
    return Text.assemble((label, "bold"), rest)


def _knobs(values: dict[str, Any]) -> str:
    name = values.get("name", "")
    rest = ", ".join(f"{k}={v}" for k, v in values.items() if k != "name")
    return f"{name} ({rest})" if rest else name
