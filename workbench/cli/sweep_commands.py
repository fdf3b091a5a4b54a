"""Sweeps from the shell: ``workbench train BASE --sweep ...`` and ``workbench sweep list|show|cancel``.

``workbench train`` with ``--sweep`` (or a file with a ``[sweep]`` table) plans every point,
validates each (one invalid point and nothing starts), writes the sweep's folder, queues the
points and returns with the sweep's id: the queue's feeder starts them as slots free up
(:mod:`workbench.runs.feeder`). ``--queue`` puts a single run in the same queue.
``workbench sweep show`` prints the sweep's table, best point first.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from rich.console import Console

from workbench.errors import WorkbenchError
from workbench.schema.sweep import Axis, SweepSpec

SWEEP_HELP = (
    "vary a numeric setting over values (optimizer.lr=0.001,0.003,0.01: a grid with the other axes) or a range to "
    "sample (optimizer.lr=log-uniform:1e-4:1e-1, uniform:LOW:HIGH, choice:V1,V2; with --samples); repeat for more axes. "
    "The points are queued and train as their own runs; the command returns with the sweep's id"
)


def add_sweep_arguments(train: argparse.ArgumentParser) -> None:
    """``workbench train``'s sweep and queue options."""
    group = train.add_argument_group("sweeps and the queue (a file with a [sweep] table is run as its sweep)")
    group.add_argument("--sweep", action="append", default=[], metavar="SETTING=VALUES", help=SWEEP_HELP)
    group.add_argument("--samples", type=int, metavar="N", help="draw N random points from the axes instead of the grid")
    group.add_argument("--sweep-seed", type=int, metavar="S", help="seed of the random points (default 0)")
    group.add_argument("--max-points", type=int, metavar="N", help="allow a sweep of more than 256 points")
    group.add_argument(
        "--halving", metavar="EPOCHS", help="successive halving: at these epochs (e.g. 2,4) stop points in the worst half so far"
    )
    group.add_argument(
        "--parallel", type=int, metavar="K", help="runs the queue trains at once (default: one per GPU, one without)"
    )
    group.add_argument("--queue", action="store_true", help="put this run in the queue: it starts when a slot is free")


def wants_queue(args: argparse.Namespace) -> bool:
    """Whether ``workbench train`` queues (a sweep, or ``--queue``) rather than training now."""
    from workbench.experiment.presets import resolve
    from workbench.schema.sweep import has_sweep_table

    if args.sweep or args.queue:
        return True
    if any(v is not None for v in (args.samples, args.sweep_seed, args.max_points, args.halving)):
        raise WorkbenchError("train: --samples, --sweep-seed, --max-points and --halving go with --sweep (or a [sweep] file)")
    return has_sweep_table(resolve(args.experiment))


def queue_training(args: argparse.Namespace, console: Console) -> int:
    """Queue the sweep (or the one run) ``workbench train`` was given; print its id and return."""
    from workbench.experiment.presets import resolve
    from workbench.experiment.validation import validate
    from workbench.runs import queue
    from workbench.runs.sweep import start_sweep
    from workbench.schema import config as config_io
    from workbench.schema.sweep import parse_axis, read_sweep_file

    if args.tensorboard is not None:
        raise WorkbenchError("train: --tensorboard is for one run; it cannot go with --sweep or --queue yet")
    path = resolve(args.experiment)
    base, spec = read_sweep_file(path)
    overrides = list(args.overrides) + ([f"train.epochs={args.epochs}"] if args.epochs is not None else [])
    if overrides:
        base = config_io.apply_overrides(base, overrides)
    if args.name:
        base.name = args.name
    if args.parallel is not None and args.parallel < 1:
        raise WorkbenchError(f"--parallel {args.parallel}: give 1 or more runs at once")
    if not args.sweep and spec is None:  # --queue: one run waits its turn
        try:
            experiment = validate(base)
        except WorkbenchError as error:
            raise WorkbenchError(f"{path.name}: {error}") from None
        entry = queue.enqueue(experiment, device=args.device or "")
        queue.write_settings(parallel=args.parallel, notify=args.notify)
        queue.ensure_feeder()
        console.print(entry.id, markup=False, highlight=False)
        _say(console, f"queued; see: workbench queue · cancel: workbench queue cancel {entry.id}")
        return 0
    spec = _with_options(spec, args, [parse_axis(text) for text in args.sweep])
    sweep, points = start_sweep(base, spec, notify=args.notify or "", device=args.device or "", parallel=args.parallel)
    if args.json:
        console.print_json(json.dumps({"sweep": sweep.id, "folder": str(sweep.path), "points": [p.values for p in points]}))
        return 0
    console.print(sweep.id, markup=False, highlight=False)
    _say(
        console,
        f"{len(points)} points queued ({sweep.path}); watch: workbench sweep show {sweep.id} · workbench queue · "
        f"cancel: workbench sweep cancel {sweep.id}",
    )
    return 0


def _with_options(spec: SweepSpec | None, args: argparse.Namespace, axes: list[Axis]) -> SweepSpec:
    """The file's sweep (if any) with the command line's axes and options on top."""
    spec = (spec or SweepSpec()).with_axes(axes)
    if args.samples is not None:
        if args.samples < 1:
            raise WorkbenchError(f"--samples {args.samples}: give 1 or more points")
        spec = replace(spec, samples=args.samples)
    if args.sweep_seed is not None:
        spec = replace(spec, seed=args.sweep_seed)
    if args.max_points is not None:
        spec = replace(spec, max_points=args.max_points)
    if args.halving is not None:
        spec = replace(spec, halving=_epochs(args.halving))
    return spec


def _epochs(text: str) -> tuple[int, ...]:
    try:
        epochs = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise WorkbenchError(f"--halving {text}: expected epochs, e.g. 2,4") from None
    if not epochs or epochs[0] < 1:
        raise WorkbenchError(f"--halving {text}: expected epochs of 1 or more, e.g. 2,4")
    return epochs


def _say(console: Console, line: str) -> None:
    if console.is_terminal:
        console.print(line, markup=False, highlight=False, soft_wrap=True, style="dim")


# ----------------------------------------------------------------------------- workbench sweep


def register(sub: argparse._SubParsersAction) -> None:
    sweep = sub.add_parser("sweep", help="list sweeps, show one's table (best point first), cancel its queued points")
    actions = sweep.add_subparsers(dest="sweep_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every sweep: its points, state and best")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(handler=sweep_list_command)
    show = actions.add_parser("show", help="a sweep's table: hyperparameters as columns, then metrics, best first")
    show.add_argument("sweep", metavar="SWEEP", help="sweep id, a unique prefix of one, or 'latest'")
    show.add_argument(
        "--sort", metavar="METRIC", help="order by a metric (default: the monitored one; test_acc, test_loss...) or a setting"
    )
    show.add_argument("--reverse", action="store_true", help="worst first")
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show.set_defaults(handler=sweep_show_command)
    cancel = actions.add_parser("cancel", help="take a sweep's queued points out of the queue (its running ones go on)")
    cancel.add_argument("sweep", metavar="SWEEP", help="sweep id, a unique prefix of one, or 'latest'")
    cancel.set_defaults(handler=sweep_cancel_command)


def sweep_list_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.cli.run_commands import text_table
    from workbench.runs.sweep import all_sweeps, sweep_problem
    from workbench.runs.sweep_table import sweep_table

    rows, data = [], []
    for sweep in all_sweeps():
        problem = sweep_problem(sweep)
        if problem:
            rows.append((sweep.id, "damaged", "-", problem))
            data.append({"id": sweep.id, "state": "damaged", "message": problem})
            continue
        table = sweep_table(sweep)
        best = table.best
        rows.append((sweep.id, table.progress.state, table.best_text(), table.progress.text()))
        data.append(
            {"id": sweep.id, "state": table.progress.state, "best_run": best.id if best else None, "text": table.progress.text()}
        )
    if args.json:
        console.print_json(json.dumps(data))
        return 0
    if not rows:
        console.print("no sweeps yet; start one with: workbench train digits-mlp --sweep optimizer.lr=0.01,0.05", markup=False)
        return 0
    console.print(
        text_table(("sweep", "state", "best", "points"), rows, right=set(), ruled=console.is_terminal), crop=False, soft_wrap=True
    )
    return 0


def sweep_show_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.cli.run_commands import text_table
    from workbench.runs.sweep import find_sweep
    from workbench.runs.sweep_table import sweep_table

    sweep = find_sweep(args.sweep)
    table = sweep_table(sweep, args.sort, reverse=args.reverse)
    if args.json:
        rows = [dict(zip(table.header(), row, strict=True)) for row in table.rows()]
        console.print_json(json.dumps({"sweep": sweep.id, "state": table.progress.state, "sort": table.sort, "rows": rows}))
        return 0
    meta = sweep.read_meta()
    if table.sorted_by_metric:
        direction = "worst first" if args.reverse else "best first"
    else:
        direction = "descending" if args.reverse else "ascending"
    console.print(
        f"sweep {sweep.id}  {table.progress.text()}  axes: {'  '.join(meta.get('axes', []))}  sorted by {table.sort}, {direction}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if table.rows():
        right = {"#", "epochs", "time", *table.metrics}
        console.print(
            text_table(table.header(), table.rows(), right=right, ruled=console.is_terminal), crop=False, soft_wrap=True
        )
    else:
        console.print("no point has started yet; see: workbench queue", markup=False)
    best = table.best
    if best is not None:
        console.print(
            f"best: {best.id}  (open it: workbench {best.path}/config.toml)", markup=False, highlight=False, soft_wrap=True
        )
    return 0


def sweep_cancel_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.runs import queue
    from workbench.runs.sweep import find_sweep

    sweep = find_sweep(args.sweep)
    if not any(entry.sweep == sweep.id for entry in queue.read_queue().entries):
        raise WorkbenchError(f"sweep {sweep.id} has no queued points; stop a running one with workbench stop RUN")
    cancelled = queue.cancel(sweep.id)
    console.print(f"cancelled {len(cancelled)} queued point{'s' if len(cancelled) != 1 else ''} of {sweep.id}", markup=False)
    return 0
