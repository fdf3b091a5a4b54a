"""``workbench export``: a run's metrics out to the tools people already use.

CSV on stdout by default (``| column -s, -t``, ``> run.csv``), or to a file written atomically
with ``--out``; ``--tensorboard`` writes TensorBoard event files instead, so runs trained
without the TensorBoard sink can be viewed there too. The rows and columns are
:mod:`workbench.runs.export`'s; the event files :mod:`workbench.runs.tensorboard`'s. A run in
progress exports what it has recorded so far.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console

from workbench.errors import WorkbenchError

RUN_HELP = "run id, a unique prefix of one, 'latest', or a run folder"


def register(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser("export", help="write a run's metrics as CSV (to stdout by default) or TensorBoard event files")
    export.add_argument("run", metavar="RUN", help=RUN_HELP)
    export.add_argument("--steps", action="store_true", help="one row per training report instead of one per epoch")
    export.add_argument("--out", metavar="FILE", help="write the CSV to FILE (atomically) instead of stdout")
    add_tensorboard_argument(
        export, "write TensorBoard event files instead of CSV: to DIR/<run id>, or without DIR to tb/ in the run's folder"
    )
    export.set_defaults(handler=export_command)


def add_tensorboard_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--tensorboard [DIR]``: DIR is optional (the run's own ``tb/`` folder without it)."""
    parser.add_argument("--tensorboard", metavar="DIR", nargs="?", const="", default=None, help=help_text)


def tensorboard_folder(value: str) -> Path | None:
    """The DIR of ``--tensorboard`` (None: the run's own folder), absolute, so that a training
    process started elsewhere writes where the user meant."""
    return Path(value).expanduser().resolve() if value else None


def export_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.runs.export import metrics_table, write_csv
    from workbench.runs.store import find_run

    run = find_run(args.run)
    if args.tensorboard is not None:
        if args.steps or args.out:
            raise WorkbenchError("export: --tensorboard writes every epoch and step to its folder; drop --steps and --out")
        from workbench.runs.tensorboard import export_tensorboard

        folder = export_tensorboard(run, tensorboard_folder(args.tensorboard))
        _say(console, f"wrote TensorBoard event files of {run.id} to {folder}; view: tensorboard --logdir {folder.parent}")
        return 0
    table = metrics_table(run, steps=args.steps)
    if args.out:
        path = write_csv(table, Path(args.out)).resolve()
        _say(console, f"wrote {len(table.rows)} {'steps' if args.steps else 'epochs'} of {run.id} to {path}")
        return 0
    try:
        console.file.write(table.csv_text())
        console.file.flush()
    except BrokenPipeError:
        # `| head`: the reader has what it wanted. Python would complain again when it flushes
        # stdout at exit, so stdout becomes /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _say(console: Console, line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)
