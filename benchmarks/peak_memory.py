"""Peak resident memory of ``workbench train`` for a few presets (issue 15, "memory reported").

Each preset trains for one epoch in a process of its own; its peak resident set size comes from
the kernel's accounting of that child (``os.wait4``), so nothing of this script is counted. A
preset whose dataset is not in the cache is named and skipped: the benchmark never downloads.

Then the app attached to a run: a digits-cnn run started with ``--detach``, and the real app
(``workbench attach`` 's, headless through Textual's pilot at 80x24) in a child process of its
own, following the run's live view to its end; that child's peak resident memory is the app's
(its torch warm-up included, as when a person opens it).

    python -m benchmarks.peak_memory [PRESET ...] [--epochs 1] [--app-epochs 20]
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


async def follow_run(run_id: str) -> None:
    """The app attached to ``run_id`` until the run has ended and the app has loaded torch."""
    import asyncio

    from workbench.tui.app import build_app

    app = build_app(attach=run_id)
    async with app.run_test(size=(80, 24)) as pilot:
        while app.runs.shown is None or app.runs.shown.live or any(w.group == "warm-up" for w in app.workers):
            await asyncio.sleep(0.1)
        await pilot.pause()


def app_attached_mb(epochs: int, env: dict[str, str]) -> tuple[float, float]:
    """(peak resident MB, seconds) of the app following a detached digits-cnn run to its end."""
    launched = subprocess.run(
        [sys.executable, "-m", "workbench", "train", "digits-cnn", "--detach", "--epochs", str(epochs)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    run_id = launched.stdout.split()[0]
    return peak_rss_mb([sys.executable, "-m", "benchmarks.peak_memory", "--app-side", run_id], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("presets", nargs="*", default=list(PRESETS))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--app-epochs", type=int, default=20, help="epochs of the run the app follows (0: no app)")
    parser.add_argument("--app-side", metavar="RUN", help=argparse.SUPPRESS)  # the app's child process
    args = parser.parse_args()
    if args.app_side:
        import asyncio

        asyncio.run(follow_run(args.app_side))
        return
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
    if args.app_epochs:
        megabytes, seconds = app_attached_mb(args.app_epochs, env)
        print(
            f"{'app attached':<20} peak resident {megabytes:7.0f} MB   "
            f"(following a {args.app_epochs}-epoch digits-cnn run to its end, {seconds:.1f} s)"
        )
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
