"""The queue's overhead: a 2x2 sweep on digits-mlp through the queue against its four runs headless.

Each round times, interleaved (so machine noise hits both alike):

- the sweep: ``workbench train digits-mlp --sweep optimizer.lr=0.01,0.1 --sweep
  data.batch_size=32,64 --parallel 1``, from the command's start until its feeder has stamped the
  sweep ended (read from the sweep's folder, polled every 20 ms);
- the same four points as four ``workbench train digits-mlp --set ...`` one after another, the
  sum of their wall times.

The ratio of the two is the queue's overhead (the feeder's start, its half-second look for a
free slot, detached launches); both pay the same four training processes. A first, untimed run
fills the dataset cache, as any user's first run does.

    python -m benchmarks.sweep_overhead [--rounds 3] [--epochs 3]
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
from pathlib import Path

from benchmarks.startup import describe, environment, timed

ROOT = Path(__file__).resolve().parents[1]
POINTS = [(lr, batch) for lr in ("0.01", "0.1") for batch in ("32", "64")]


def sweep_seconds(env: dict[str, str], epochs: int) -> float:
    """Wall seconds from `workbench train --sweep` to the sweep stamped ended."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "train", "digits-mlp", "--epochs", str(epochs), "--parallel", "1",
         "--sweep", "optimizer.lr=0.01,0.1", "--sweep", "data.batch_size=32,64"],
        env=env, cwd=env["WORKBENCH_HOME"], check=True, capture_output=True, text=True,
    )  # fmt: skip
    meta = Path(env["WORKBENCH_HOME"]) / "data" / "sweeps" / done.stdout.strip() / "sweep.json"
    while json.loads(meta.read_text()).get("ended_ts") is None:
        time.sleep(0.02)
    return time.perf_counter() - start


def headless_seconds(env: dict[str, str], epochs: int) -> float:
    """The sum of the four points trained one after another by `workbench train`."""
    return sum(
        timed(
            [
                sys.executable,
                "-m",
                "workbench",
                "train",
                "digits-mlp",
                "--epochs",
                str(epochs),
                "--set",
                f"optimizer.lr={lr}",
                "--set",
                f"data.batch_size={batch}",
            ],
            env,
        )  # fmt: skip
        for lr, batch in POINTS
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    env = environment(ROOT, tempfile.mkdtemp(prefix="wb-sweep-"))
    timed([sys.executable, "-m", "workbench", "train", "digits-mlp", "--epochs", "1"], env)  # fills the cache
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    times: dict[str, list[float]] = {"2x2 sweep (queue)": [], "4 runs headless": []}
    for _ in range(args.rounds):
        times["2x2 sweep (queue)"].append(sweep_seconds(env, args.epochs))
        times["4 runs headless"].append(headless_seconds(env, args.epochs))
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, measured in times.items():
        print(describe(name, measured))
    ratios = [s / h for s, h in zip(times["2x2 sweep (queue)"], times["4 runs headless"], strict=True)]
    extra = [s - h for s, h in zip(times["2x2 sweep (queue)"], times["4 runs headless"], strict=True)]
    print(
        f"sweep / headless: median {statistics.median(ratios):.3f} (spread {min(ratios):.3f}-{max(ratios):.3f}); "
        f"overhead {statistics.median(extra):+.2f} s per sweep, {statistics.median(extra) / len(POINTS):+.2f} s per point"
    )


if __name__ == "__main__":
    main()
