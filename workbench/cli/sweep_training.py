"""``workbench train``'s sweeps and queue: ``--sweep``, ``--samples``, ``--queue``, ``--parallel``...

``workbench train`` with ``--sweep`` (or a file with a ``[sweep]`` table) plans every point,
validates each (one invalid point and nothing starts), writes the sweep's folder, queues the
points and returns with the sweep's id: the queue's feeder starts them as slots free up
(:mod:`workbench.scheduling.feeder`). ``--queue`` puts a single run in the same queue: the
train command (cli/run_commands.py) plans it as any launch. It adds these arguments and hands
sweeps over here.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from rich.console import Console

from workbench.errors import WorkbenchError
from workbench.schema.sweep import PRUNERS, SAMPLERS, Axis, SweepSpec, checked_spec

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
        "--sampler",
        choices=SAMPLERS,
        help="how points are drawn: grid (every value, the default), random (with --samples), or Optuna's tpe, cmaes, gp "
        "(with --samples: each point drawn when a slot frees, learning from those that ended)",
    )
    group.add_argument(
        "--pruner",
        choices=PRUNERS,
        help="stop poor points early from their epoch metrics: halving (successive halving, at --halving epochs), "
        "hyperband, median; a pruned point keeps a checkpoint and shows 'pruned'",
    )
    group.add_argument(
        "--halving",
        metavar="EPOCHS",
        help="successive halving: stop the worst half of the points at the first of these epochs, then at twice it... (e.g. 2,4)",
    )
    group.add_argument(
        "--storage",
        metavar="URL",
        help="keep the sweep's Optuna study in this database (postgresql://..., mysql://...) so that other machines' "
        "queues feed it with `workbench sweep work SWEEP --storage URL` (default: a file in the sweep's folder)",
    )
    group.add_argument(
        "--parallel", type=int, metavar="K", help="runs the queue trains at once (default: one per GPU, one without)"
    )
    group.add_argument("--queue", action="store_true", help="put this run in the queue: it starts when a slot is free")


def wants_sweep(args: argparse.Namespace) -> bool:
    """Whether ``workbench train`` queues a sweep rather than one run; the options that go only
    with a sweep, or not with the queue, refused in one line."""
    from workbench.experiment.presets import resolve
    from workbench.schema.sweep import has_sweep_table

    sweep = bool(args.sweep) or has_sweep_table(resolve(args.experiment))
    if args.tensorboard is not None and (sweep or args.queue):
        raise WorkbenchError("train: --tensorboard is for one run; it cannot go with --sweep or --queue yet")
    options = (args.samples, args.sweep_seed, args.max_points, args.halving, args.sampler, args.pruner, args.storage)
    if not sweep and any(v is not None for v in options):
        raise WorkbenchError(
            "train: --samples, --sweep-seed, --max-points, --sampler, --pruner, --halving and --storage go with --sweep "
            "(or a [sweep] file)"
        )
    return sweep


def queue_sweep(args: argparse.Namespace, console: Console) -> int:
    """Queue the sweep ``workbench train`` was given; print its id and return."""
    from workbench.experiment.presets import resolve
    from workbench.scheduling.sweep import start_sweep
    from workbench.schema import config as config_io
    from workbench.schema.sweep import parse_axis, read_sweep_file

    path = resolve(args.experiment)
    base, spec = read_sweep_file(path)
    overrides = list(args.overrides) + ([f"train.epochs={args.epochs}"] if args.epochs is not None else [])
    if overrides:
        base = config_io.apply_overrides(base, overrides)
    if args.name:
        base.name = args.name
    if args.parallel is not None and args.parallel < 1:
        raise WorkbenchError(f"--parallel {args.parallel}: give 1 or more runs at once")
    spec = _with_options(spec, args, [parse_axis(text) for text in args.sweep])
    sweep, points = start_sweep(
        base, spec, notify=args.notify or "", device=args.device or "", parallel=args.parallel, storage=args.storage or ""
    )
    if args.json:
        console.print_json(
            json.dumps(
                {"sweep": sweep.id, "folder": str(sweep.path), "sampler": spec.sampler_name, "points": [p.values for p in points]}
            )
        )
        return 0
    console.print(sweep.id, markup=False, highlight=False)
    if console.is_terminal:
        count = len(points) or spec.samples
        console.print(
            f"{count} points queued ({sweep.path}); watch: workbench sweep show {sweep.id} · workbench queue · "
            f"cancel: workbench sweep cancel {sweep.id}",
            markup=False,
            highlight=False,
            soft_wrap=True,
            style="dim",
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
    if args.sampler is not None:
        spec = replace(spec, sampler=args.sampler)
    if args.pruner is not None:
        spec = replace(spec, pruner=args.pruner)
    return checked_spec(spec, "train")


def _epochs(text: str) -> tuple[int, ...]:
    try:
        epochs = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise WorkbenchError(f"--halving {text}: expected epochs, e.g. 2,4") from None
    if not epochs or epochs[0] < 1:
        raise WorkbenchError(f"--halving {text}: expected epochs of 1 or more, e.g. 2,4")
    return epochs
