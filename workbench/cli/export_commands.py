"""``workbench export``: a run's metrics, or its trained model, out to the tools people already use.

Metrics (``--format csv``, the default): CSV on stdout (``| column -s, -t``, ``> run.csv``), or
to a file written atomically with ``--out``; ``--tensorboard`` writes TensorBoard event files
instead, so runs trained without the TensorBoard sink can be viewed there too. The rows and
columns are :mod:`workbench.outputs.export`'s; the event files :mod:`workbench.outputs.tensorboard`'s.
A run in progress exports what it has recorded so far.

The model (``--format onnx|pt2|safetensors|script``): a checkpoint's model as a file, written
and checked against the model by :mod:`workbench.engine.model_export`; the command says where it
went and how far the file's outputs are from the model's on test samples. One command with a
format rather than a second command: "take this run out of Workbench" is one idea, and RUN,
``--out`` and ``--json`` mean the same for every format.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rich.console import Console

from workbench.cli.code_trust import add_trust_argument, use_run_code_here
from workbench.errors import WorkbenchError

RUN_HELP = "run id, a unique prefix of one, 'latest', or a run folder"


#: What ``--format`` takes: the metrics as CSV, or one of the model formats.
METRIC_FORMATS = ("csv",)
MODEL_FORMATS = ("onnx", "pt2", "safetensors", "script")


def register(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser(
        "export",
        help="write a run's metrics (CSV, TensorBoard) or its trained model (ONNX, torch.export, safetensors, PyTorch source)",
    )
    export.add_argument("run", metavar="RUN", help=RUN_HELP)
    export.add_argument(
        "--format",
        choices=METRIC_FORMATS + MODEL_FORMATS,
        default="csv",
        help="csv: the metrics (default); onnx, pt2 (torch.export), safetensors (the weights) or script "
        "(the model's PyTorch source and its weights, needing only torch): the model, checked against "
        'Workbench\'s on test samples. onnx and safetensors need the export extra: pip install "workbench[export]"',
    )
    export.add_argument(
        "--checkpoint",
        help="model formats: best, last, an epoch (5 or epoch-5), or a file (default: the one the run's test used)",
    )
    export.add_argument("--steps", action="store_true", help="csv: one row per training report instead of one per epoch")
    export.add_argument(
        "--out",
        metavar="PATH",
        help="csv: write to PATH (atomically) instead of stdout; model formats: the file to write "
        "(default: export/<checkpoint>.<format's extension> in the run's folder)",
    )
    export.add_argument("--json", action="store_true", help="model formats: print what was written and checked as JSON")
    add_trust_argument(export)
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
    from workbench.cli.remote_commands import run_on_host
    from workbench.hosts.ids import split_run_ref
    from workbench.outputs.export import metrics_table, write_csv
    from workbench.runs.store import find_run

    host, _ = split_run_ref(args.run)
    if host is not None:  # its metrics as CSV come from the host; a file written here needs the run here
        written = (
            ("--format", args.format in MODEL_FORMATS),
            ("--out", args.out is not None),
            ("--tensorboard", args.tensorboard is not None),
        )
        writes = [name for name, given in written if given]
        if writes:
            raise WorkbenchError(
                f"export {writes[0]} writes files here and {args.run} is a run of host {host}: "
                f"pull it first (workbench pull {args.run}), then export it"
            )
        run_on_host(args, console, "export", [], ["--steps"])
        return 0
    if args.format in MODEL_FORMATS:
        return export_model_command(args, console)
    if args.checkpoint or args.json:
        raise WorkbenchError(f"export: --{'checkpoint' if args.checkpoint else 'json'} is for the model formats; add --format")
    run = find_run(args.run)
    if args.tensorboard is not None:
        if args.steps or args.out:
            raise WorkbenchError("export: --tensorboard writes every epoch and step to its folder; drop --steps and --out")
        from workbench.outputs.tensorboard import export_tensorboard

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


def export_model_command(args: argparse.Namespace, console: Console) -> int:
    """Write the model of a run's checkpoint as ``--format`` and report the check against it."""
    if args.steps or args.tensorboard is not None:
        raise WorkbenchError(f"export: --{'steps' if args.steps else 'tensorboard'} is for the metrics; drop it or --format")
    from workbench.engine.model_export import FORMATS, export_checkpoint, require_extra
    from workbench.runs.checkpoints import resolve_checkpoint
    from workbench.runs.store import find_run

    require_extra(args.format)  # before the run is even looked at: the fix is an install
    run = find_run(args.run)
    checkpoint = resolve_checkpoint(run, args.checkpoint)
    use_run_code_here(run, args.trust_code)
    default = run.export_dir / f"{checkpoint.stem}{FORMATS[args.format]}"
    out = Path(args.out).expanduser().resolve() if args.out else default
    result = export_checkpoint(checkpoint, args.format, out)
    if args.json:
        console.print_json(json.dumps({"run": run.id, "checkpoint": str(checkpoint), **result.to_dict()}))
        return 0
    written = str(result.files[0]) + "".join(f" and its weights {f}" for f in result.files[1:])
    _say(console, f"wrote {run.id} ({checkpoint.stem}) as {args.format} to {written} in {result.export_s:.2f} s")
    agree = (
        f", the same predicted class for {result.same_predictions} of {result.samples}"
        if result.same_predictions is not None
        else ""
    )
    _say(console, f"checked on {result.samples} test samples: max abs difference from the model {result.max_abs_diff:.2g}{agree}")
    return 0


def _say(console: Console, line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)
