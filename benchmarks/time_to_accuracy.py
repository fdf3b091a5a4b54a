"""Time to accuracy: wall seconds from typing ``workbench train PRESET`` to the accuracy reached.

Each run is a fresh process (its start, imports and data loading count, as a person waits for
them). The run's metrics.jsonl stamps every record with the wall time it was written, so the
first epoch whose validation accuracy reaches the bar is found there, and its time taken from
the moment the process was launched. The run's test accuracy at its end is printed beside it:
the bar is met when both are at or above it.

Bars (issue 15): digits-cnn >= 98% on the CPU; mnist-lenet5 >= 99% on the CPU where MNIST is in
the cache; cifar10-resnet >= 94% where a GPU is available. A preset whose data is not cached, or
that needs a GPU where there is none, is named and skipped: the benchmark never downloads.

``--variant "k=v k=v"`` (repeatable) times the same preset with those overrides too, in the same
rounds (interleaved, each round on its own seed), to tune a preset with a before and after.

    python -m benchmarks.time_to_accuracy [PRESET ...] [--rounds 3] [--variant "data.batch_size=64"]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from workbench import paths
from workbench.data.registry import is_cached
from workbench.experiment.presets import load_experiment
from workbench.runs.history import TIME_KEY

#: (preset, accuracy bar, needs a GPU)
BARS = {"digits-cnn": (0.98, False), "mnist-lenet5": (0.99, False), "cifar10-resnet": (0.94, True)}


@dataclass(frozen=True)
class Reached:
    """One run: when its validation accuracy first reached the bar, and how it ended."""

    crossed_s: float | None  # seconds from launch to the epoch record that first reached the bar
    crossed_epoch: int | None
    wall_s: float  # launch to the process's exit
    test_acc: float
    epochs: int


def timed_run(preset: str, overrides: list[str], bar: float, env: dict[str, str]) -> Reached:
    """``workbench train PRESET --json`` in a process of its own, then its metrics.jsonl read."""
    argv = [sys.executable, "-m", "workbench", "train", preset, "--json"]
    for override in overrides:
        argv += ["--set", override]
    launched = time.time()
    done = subprocess.run(argv, env=env, cwd=env["WORKBENCH_HOME"], capture_output=True, text=True)
    wall = time.time() - launched
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip().splitlines()[-1:]}")
    summary = json.loads(done.stdout)
    records = [json.loads(line) for line in (Path(summary["run_dir"]) / "metrics.jsonl").read_text().splitlines()]
    epochs = [r for r in records if r.get("event") == "EpochEnded"]
    finished = next(r for r in records if r.get("event") == "RunFinished")
    first = next((r for r in epochs if r["val"].get("acc", 0.0) >= bar), None)
    return Reached(
        crossed_s=first[TIME_KEY] - launched if first else None,
        crossed_epoch=first["epoch"] if first else None,
        wall_s=wall,
        test_acc=finished["test"]["acc"],
        epochs=len(epochs),
    )


def skipped(preset: str, needs_gpu: bool) -> str | None:
    """Why ``preset`` cannot be timed here, or None."""
    dataset = load_experiment(preset).data.dataset
    if not is_cached(dataset):
        return f"{dataset} is not in the cache (`workbench train {preset}` downloads it once)"
    if needs_gpu:
        import torch

        if not torch.cuda.is_available():
            return "needs a GPU and this machine has none"
    return None


def describe(name: str, bar: float, runs: list[Reached]) -> str:
    crossed = [r.crossed_s for r in runs if r.crossed_s is not None]
    tests = [r.test_acc for r in runs]
    met = sum(r.crossed_s is not None and r.test_acc >= bar for r in runs)
    when = (
        f"val >= {bar:.0%} after median {statistics.median(crossed):5.1f} s (spread {min(crossed):.1f}-{max(crossed):.1f}, "
        f"epochs {', '.join(str(r.crossed_epoch) for r in runs if r.crossed_epoch)})"
        if crossed
        else f"val never reached {bar:.0%}"
    )
    return (
        f"  {name:<34} {when}; run {statistics.median(r.wall_s for r in runs):5.1f} s to exit, "
        f"test acc {min(tests):.2%}-{max(tests):.2%}; bar met in {met}/{len(runs)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("presets", nargs="*", default=list(BARS))
    parser.add_argument("--rounds", type=int, default=3, help="runs of each variant; round k trains with train.seed=k")
    parser.add_argument("--variant", action="append", default=[], help='overrides to time as well, e.g. "train.epochs=8"')
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="wb-time-to-accuracy-"))
    (home / "cache").symlink_to(paths.cache_dir(), target_is_directory=True)  # the user's downloads, never a new one
    env = dict(os.environ, WORKBENCH_HOME=str(home))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on any machine: byte code cached

    print(f"{os.cpu_count()} cores; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for preset in args.presets:
        bar, needs_gpu = BARS.get(preset, (0.98, False))
        why = skipped(preset, needs_gpu)
        if why is not None:
            print(f"{preset}: skipped, {why}")
            continue
        variants = {"as shipped": [], **{variant: variant.split() for variant in args.variant}}
        runs: dict[str, list[Reached]] = {name: [] for name in variants}
        timed_run(preset, ["train.epochs=1"], bar, env)  # fills the dataset cache and the byte code: not timed
        for round_ in range(args.rounds):
            names = list(variants) if round_ % 2 == 0 else list(reversed(variants))
            for name in names:
                runs[name].append(timed_run(preset, [*variants[name], f"train.seed={round_}"], bar, env))
        print(f"{preset} (bar {bar:.0%}; {args.rounds} runs each, seeds 0-{args.rounds - 1}, interleaved):")
        for name, measured in runs.items():
            print(describe(name, bar, measured))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
