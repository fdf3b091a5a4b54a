"""Commands that do not train, with a thousand runs: `workbench runs` and the app's listing.

Makes ``--runs`` run folders in a temp WORKBENCH_HOME with the real store and recorder (one
recorded run, copied under new ids, each with its own status), then times, interleaved:
``workbench runs`` as a subprocess (target < 0.3 s), ``workbench --version`` (what any command
pays before its own work), and :func:`workbench.runs.listing.list_runs` in this process (what
the Runs screen calls). The first listing, which builds the status index, is timed apart. Then,
``--app-rounds`` times, the real app (headless, 100x30, in a fresh process, once its torch
warm-up is over) from the key ``5`` to the Runs screen's table holding every run (target < 0.5 s).

    python -m benchmarks.many_runs [--runs 1000] [--rounds 7] [--app-rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

RUNS_TARGET_S = 0.3
SCREEN_TARGET_S = 0.5


def make_runs(count: int) -> None:
    """``count`` finished runs in the current WORKBENCH_HOME, each with its own id and time."""
    from tests.tui.runs import recorded_run
    from workbench.paths import runs_dir

    template = recorded_run("template")
    past = time.time() - 3600
    for i in range(count):
        folder = runs_dir() / f"20260101-{i:06d}-copy"
        shutil.copytree(template.path, folder)
        status = json.loads((folder / "status.json").read_text())
        status.update(id=folder.name, name=f"run {i}", created_ts=past + i)
        (folder / "status.json").write_text(json.dumps(status, indent=2))
        os.utime(folder / "status.json", (past, past))  # written an hour ago, as old runs were
    shutil.rmtree(template.path)


def command_output(*argv: str) -> str:
    """The last line this benchmark prints when run as ``python -m benchmarks.many_runs ARGV``."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.many_runs", *argv], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def command(*argv: str) -> Callable[[], object]:
    """``workbench ARGV`` as a process of its own, importing the workbench this process imports
    (from the WORKBENCH_HOME folder: ``python -m`` would put the working folder first on the path)."""
    import workbench

    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(Path(workbench.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])
    )
    argv_ = [sys.executable, "-m", "workbench", *argv]
    return lambda: subprocess.run(argv_, env=env, cwd=os.environ["WORKBENCH_HOME"], check=True, stdout=subprocess.DEVNULL)


async def runs_screen_seconds(count: int) -> float:
    """Seconds from ``5`` to the Runs screen's table listing ``count`` runs, in this process's app."""
    import asyncio

    from textual.widgets import DataTable

    from workbench.tui.app import build_app

    app = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        while any(w.group == "warm-up" for w in app.workers) or not app.devices:
            await asyncio.sleep(0.05)
        start = time.perf_counter()
        await pilot.press("5")
        while not (app.screen.query(DataTable) and app.screen.query_one("#runs", DataTable).row_count == count):
            await asyncio.sleep(0.005)
        return time.perf_counter() - start


def app_side(count: int) -> None:
    import asyncio

    print(json.dumps(asyncio.run(runs_screen_seconds(count))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--app-rounds", type=int, default=3, help="fresh app processes timed opening the Runs screen")
    parser.add_argument("--app-side", action="store_true", help=argparse.SUPPRESS)  # one app, in the runs made already
    args = parser.parse_args()
    if args.app_side:
        app_side(args.runs)
        return

    os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="wb-many-runs-")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    make_runs(args.runs)
    from workbench.runs.listing import list_runs

    first = seconds(list_runs)
    print(f"{args.runs} runs; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    cases: dict[str, Callable[[], object]] = {
        "workbench runs": command("runs"),
        "workbench --version": command("--version"),
        "list_runs() in-process": list_runs,
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, action in cases.items():
            times[name].append(seconds(action))
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'list_runs() first':<24} {first:6.3f} s   (builds the status index)")
    for name, measured in times.items():
        print(f"{name:<24} median {statistics.median(measured):6.3f} s   spread {min(measured):.3f}-{max(measured):.3f} s")
    if args.app_rounds:
        screen = [json.loads(command_output("--app-side", "--runs", str(args.runs))) for _ in range(args.app_rounds)]
        times["Runs screen (key 5)"] = screen
        print(
            f"{'Runs screen (key 5)':<24} median {statistics.median(screen):6.3f} s   spread {min(screen):.3f}-{max(screen):.3f} s"
            f"   (target < {SCREEN_TARGET_S} s)"
        )
    runs_s = statistics.median(times["workbench runs"])
    print(f"workbench runs: {runs_s:.3f} s (target < {RUNS_TARGET_S} s): {'met' if runs_s < RUNS_TARGET_S else 'NOT met'}")


if __name__ == "__main__":
    main()
