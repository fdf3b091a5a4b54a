"""The start-up budget: wall time of ``workbench train digits-cnn`` against ``import torch``.

A run cannot start faster than torch imports, so the budget is stated as a ratio of the two,
measured in the same rounds (interleaved, so machine noise hits both alike): target ≤ 2.2 on an
idle 2-core machine. A first, untimed run fills the dataset cache, as any user's first run does.
``--compare DIR`` also times the command from another source tree (an older checkout, say) in
the same rounds, for a before/after on one machine at one time.

    python -m benchmarks.startup [--rounds 5] [--compare DIR] [-- extra train arguments]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 2.2
ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one process, start to exit; a failure stops the benchmark. It runs in its
    WORKBENCH_HOME: ``python -m`` puts the working folder first on the path, which would shadow
    the PYTHONPATH that chooses the source tree."""
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=env["WORKBENCH_HOME"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def environment(source: Path, home: str) -> dict[str, str]:
    """The process's environment: ``source``'s workbench, the benchmark's own WORKBENCH_HOME."""
    env = dict(os.environ, PYTHONPATH=str(source), WORKBENCH_HOME=home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on any machine: byte code cached
    return env


def describe(name: str, times: list[float]) -> str:
    return f"{name:<24} median {statistics.median(times):6.2f} s   spread {min(times):.2f}-{max(times):.2f} s   n={len(times)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compare", type=Path, help="another source tree to time in the same rounds")
    parser.add_argument("train_args", nargs="*", help="more arguments for `workbench train digits-cnn`")
    args = parser.parse_args()

    train = [sys.executable, "-m", "workbench", "train", "digits-cnn", *args.train_args]
    trees = {"workbench train": ROOT} | ({"compared tree": args.compare.resolve()} if args.compare else {})
    envs = {name: environment(tree, tempfile.mkdtemp(prefix="wb-startup-")) for name, tree in trees.items()}
    for env in envs.values():
        timed(train, env)  # the first run of a home: fills the dataset cache (not timed)

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    times: dict[str, list[float]] = {"import torch": [], **{name: [] for name in trees}}
    for _ in range(args.rounds):
        times["import torch"].append(timed([sys.executable, "-c", "import torch"], envs["workbench train"]))
        for name, env in envs.items():
            times[name].append(timed(train, env))
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    torch_s = statistics.median(times["import torch"])
    for name, measured in times.items():
        ratio = "" if name == "import torch" else f"   ratio {statistics.median(measured) / torch_s:.2f}"
        print(describe(name, measured) + ratio)
    ratio = statistics.median(times["workbench train"]) / torch_s
    print(f"start-up ratio {ratio:.2f} (target ≤ {TARGET_RATIO}): {'met' if ratio <= TARGET_RATIO else 'NOT met'}")


if __name__ == "__main__":
    main()
