"""Epochs a search needs to find a good point: TPE with pruning, random search and the grid.

digits-mlp with three axes: the learning rate (log-uniform 1e-3..3e-1), the weight decay
(log-uniform 1e-6..1e-2) and the first hidden layer's width (a choice of 32, 64, 128). The grid
is 4 x 3 x 3 = 36 points (lr 0.003, 0.01, 0.03, 0.1; weight decay 1e-5, 1e-4, 1e-3; each
width), each trained ``--epochs`` epochs; its best validation loss is the bar. TPE (with the
sweep's pruner, ``--pruner``) and random search then draw points, seed by seed, until one comes
within 1% of that bar (val loss <= 1.01 x the grid's best); what counts is the epochs they
trained to get there, pruned points' epochs included (a search that never gets there within the
grid's budget of epochs counts what it trained, about that budget, and is marked). The figure is the median over ``--seeds`` seeds, against
the grid's own epochs (36 x epochs).

Points train in this process with the engine's Trainer (one torch thread; the same seed for
every point, so only the search differs); the samplers and pruners are the sweep's own
(:func:`workbench.scheduling.sweep_study.sampler_for` / ``pruner_for``), asked and told as the
queue's feeder does: at each epoch the best val loss so far reported to the trial, the point
stopped when the pruner says so. The sweep has 36 points (``samples``, what TPE's random
start-up is a tenth of), though a search may draw more within the grid's epochs.

At 5 epochs a point the grid's best is an outlier (13% below its second) that no search reaches
in the grid's budget, hence 10 by default. The first rung is 2: after one epoch the points that
end best (lr 0.06-0.09, width 128) are still at a val loss near 1.1, where poorer ones are at 0.3-0.6.

    python -m benchmarks.sweep_search [--epochs 10] [--seeds 5] [--pruner halving --first-rung 2] [--methods tpe+pruner,random]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import tempfile
import time
from dataclasses import dataclass

GRID = {
    "optimizer.lr": (0.003, 0.01, 0.03, 0.1),
    "optimizer.weight_decay": (1e-5, 1e-4, 1e-3),
    "model.layers.1.out_features": (32, 64, 128),
}
AXES = [
    "optimizer.lr=log-uniform:1e-3:3e-1",
    "optimizer.weight_decay=log-uniform:1e-6:1e-2",
    "model.layers.1.out_features=choice:32,64,128",
]
WITHIN = 1.01


@dataclass
class Search:
    epochs: int  # trained until a point came within the bar (or the budget ran out)
    points: int
    pruned: int
    reached: bool
    best: float


def train_point(values: dict[str, float | int], epochs: int, on_epoch: object = None) -> tuple[float, int]:
    """Train digits-mlp at ``values``; (best val loss, epochs trained). ``on_epoch(epoch, val_loss)``
    returning True stops the point (pruned)."""
    from workbench.engine.control import Control
    from workbench.engine.trainer import Trainer
    from workbench.experiment.presets import load_experiment
    from workbench.runs import events as ev
    from workbench.schema.params import format_value

    overrides = [f"train.epochs={epochs}", "train.checkpoint.every=0"] + [f"{k}={format_value(v)}" for k, v in values.items()]
    control = Control()
    losses: dict[int, float] = {}

    def sink(event: ev.Event) -> None:
        if isinstance(event, ev.EpochEnded):
            losses[event.epoch] = event.val["loss"]
            if on_epoch is not None and on_epoch(event.epoch, event.val["loss"]):  # type: ignore[operator]
                control.stop()

    Trainer(load_experiment("digits-mlp", overrides), [sink], control).run()
    return min(losses.values()), len(losses)


def grid(epochs: int) -> tuple[float, int]:
    """The grid's best val loss, and the epochs it had trained when it reached it (in its order)."""
    best, reached = float("inf"), 0
    for number, combo in enumerate(itertools.product(*GRID.values()), start=1):
        loss, _ = train_point(dict(zip(GRID, combo, strict=True)), epochs)
        if loss < best:
            best, reached = loss, number * epochs
    return best, reached


def search(sampler: str, pruner: str, seed: int, epochs: int, bar: float, budget: int, first_rung: int) -> Search:
    """Ask-and-tell as the feeder does, until a point's val loss is within the bar."""
    import optuna
    from optuna.trial import TrialState

    from workbench.scheduling.sweep_study import best_so_far, pruner_for, sampler_for, suggest
    from workbench.schema.sweep import SweepSpec, parse_axis

    spec = SweepSpec(
        tuple(parse_axis(a) for a in AXES), samples=budget, seed=seed, sampler=sampler, pruner=pruner, halving=(first_rung,)
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=sampler_for(spec), pruner=pruner_for(spec))
    integer = {"optimizer.lr": False, "optimizer.weight_decay": False, "model.layers.1.out_features": True}
    spent = points = pruned = 0
    best = float("inf")
    while spent < budget * epochs // 1 and best > bar:
        trial = study.ask()
        values = {axis.setting: suggest(trial, axis, integer[axis.setting]) for axis in spec.axes}

        seen: dict[int, float] = {}

        def report(epoch: int, loss: float, trial: optuna.Trial = trial, seen: dict[int, float] = seen) -> bool:
            seen[epoch] = loss
            trial.report(best_so_far(seen, "val_loss")[epoch], epoch)  # as the feeder reports a point's epochs
            return bool(pruner) and epoch < epochs and trial.should_prune()  # nor does it prune at the last

        loss, trained = train_point(values, epochs, report)
        spent, points, best = spent + trained, points + 1, min(best, loss)
        if trained < epochs:
            pruned += 1
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, loss)
    return Search(spent, points, pruned, best <= bar, best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs per point (default 10)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pruner", default="halving", choices=("median", "halving", "hyperband"))
    parser.add_argument("--first-rung", type=int, default=2, help="the halving pruner's first epoch (default 2: 2, 4, 8...)")
    parser.add_argument(
        "--methods", default="tpe+pruner,tpe,random", help="which searches: tpe+pruner, tpe, random (comma-separated)"
    )
    args = parser.parse_args()
    os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="sweep-search-")
    import torch

    torch.set_num_threads(1)
    train_point({}, 1)  # warm: the dataset's cache, torch's first kernels
    started = time.perf_counter()
    bar_loss, reached = grid(args.epochs)
    grid_epochs = 36 * args.epochs
    print(f"grid: 36 points x {args.epochs} epochs = {grid_epochs} epochs, best val loss {bar_loss:.4f} "
          f"(bar {WITHIN * bar_loss:.4f}) reached after {reached} epochs in its order, "
          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    methods = {"tpe+pruner": ("tpe", args.pruner), "tpe": ("tpe", ""), "random": ("random", "")}
    for method in args.methods.split(","):
        sampler, pruner = methods[method.strip()]
        name = f"{sampler}+{pruner}" if pruner else sampler
        runs = []
        for seed in range(args.seeds):
            found = search(sampler, pruner, seed, args.epochs, WITHIN * bar_loss, 36, args.first_rung)
            runs.append(found)
            print(f"  {name} seed {seed}: {found.epochs} epochs, {found.points} points ({found.pruned} pruned), "
                  f"best {found.best:.4f}{'' if found.reached else ' (never within 1%)'}", flush=True)  # fmt: skip
        median = statistics.median(found.epochs for found in runs)
        print(f"{name}: median {median:.0f} epochs = {median / grid_epochs:.2f} of the grid's; "
              f"{sum(f.reached for f in runs)}/{len(runs)} seeds within 1%", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
