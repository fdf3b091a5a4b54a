"""Peak resident memory of ``workbench train`` for a few presets (issue 15, "memory reported").

Each preset trains for one epoch in a process of its own; its peak resident set size comes from
the kernel's accounting of that child (``os.wait4``), so nothing of this script is counted. A
preset whose dataset is not in the cache is named and skipped: the benchmark never downloads.

    python -m benchmarks.peak_memory [PRESET ...] [--epochs 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbench import paths
from workbench.data.registry import is_cached
from workbench.experiment.presets import load_experiment

PRESETS = ("digits-cnn", "mnist-lenet5", "cifar10-tutorial")


def peak_rss_mb(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(peak resident MB, wall seconds) of one process run to its end; a failure stops the benchmark."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed with exit status {os.waitstatus_to_exitcode(status)}")
    return usage.ru_maxrss / 1024, time.perf_counter() - start  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("presets", nargs="*", default=list(PRESETS))
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    # A throw-away home for the runs, its cache the user's (the downloads, the bundled arrays).
    home = Path(tempfile.mkdtemp(prefix="wb-memory-"))
    (home / "cache").symlink_to(paths.cache_dir(), target_is_directory=True)
    env = dict(os.environ, WORKBENCH_HOME=str(home))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for preset in args.presets:
        dataset = load_experiment(preset).data.dataset
        if not is_cached(dataset):
            print(f"{preset:<20} skipped: {dataset} is not in the cache (workbench train {preset} downloads it first)")
            continue
        argv = [sys.executable, "-m", "workbench", "train", preset, "--epochs", str(args.epochs)]
        megabytes, seconds = peak_rss_mb(argv, env)
        print(f"{preset:<20} peak resident {megabytes:7.0f} MB   ({args.epochs} epoch(s), {seconds:.1f} s)")


if __name__ == "__main__":
    main()
