"""The Runs screen listing 3 hosts x 100 runs against the same 300 runs held here, in the app.

benchmarks/remote_listing.py times the listing functions; this times what the user waits for:
from the app's start (on the Runs screen, 80x24, headless) to its table holding every run. The
hosts are WORKBENCH_HOMEs reached over a real sshd on loopback (tests/hosts/loopback.py), their
mirrors filled by real sessions first (as a laptop that has been connected before); the app then
opens its own sessions, as `workbench --remote box1 --remote box2 --remote box3` does. The same
300 runs held in this machine's runs folder, in another home, are the baseline. Median of several
starts each, and the ratio against the 1.5x bar.

    .venv/bin/python -m benchmarks.remote_runs_screen [--hosts 3] [--runs 100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.remote_listing import _copies, _trained_run

RATIO_BAR = 1.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--runs", type=int, default=100, help="runs per host")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="remote-runs-screen-"))
    from tests.hosts.loopback import start_sshd

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  ({os.cpu_count()} cores)")
    template = _trained_run(scratch / "template")
    names = [f"box{i + 1}" for i in range(args.hosts)]
    for index, name in enumerate(names):
        _copies(template, scratch / name / "data" / "runs", args.runs, first=index * args.runs)
    total = args.runs * args.hosts
    _copies(template, scratch / "here" / "data" / "runs", total, first=0)
    sshd = start_sshd(scratch / "sshd")
    try:
        remotes = [sshd.host(name, scratch / name) for name in names]
        os.environ["WORKBENCH_HOME"] = str(scratch / "near")
        _fill_mirrors(remotes)
        # Alternated, so that the machine's load (other work, a session's far side ending) falls on both alike.
        remote_times, local_times = [], []
        for _ in range(args.repeats):
            os.environ["WORKBENCH_HOME"] = str(scratch / "near")
            remote_times.append(asyncio.run(_listed_in(remotes, total)))
            os.environ["WORKBENCH_HOME"] = str(scratch / "here")
            local_times.append(asyncio.run(_listed_in((), total)))
        print(
            "starts here:",
            " ".join(f"{t:.2f}" for t in local_times),
            "s; with the hosts:",
            " ".join(f"{t:.2f}" for t in remote_times),
            "s",
        )
        remote, local = statistics.median(remote_times), statistics.median(local_times)
    finally:
        sshd.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    ratio = remote / local
    print(
        f"Runs screen with {total} runs: here {local:.2f} s, {len(names)} hosts' {total} {remote:.2f} s "
        f"(median of {args.repeats} starts): {ratio:.2f}x (bar {RATIO_BAR}x: {'met' if ratio <= RATIO_BAR else 'MISSED'})"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _fill_mirrors(remotes) -> None:  # type: ignore[no-untyped-def]
    """Real sessions mirror every host's runs once (what an earlier `workbench --remote` left)."""
    from workbench.hosts.session import HostSessions

    started = time.perf_counter()
    sessions = HostSessions.for_remotes(remotes)
    try:
        for session in sessions:
            assert session.wait_listed(120), f"{session.name} was not listed"
    finally:
        sessions.close_all()
    print(f"mirrors filled by the hosts' sessions in {time.perf_counter() - started:.2f} s")


async def _listed_in(remotes, total: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds from the app's start to its Runs screen's table holding ``total`` runs."""
    from workbench.experiment.draft import Draft
    from workbench.experiment.presets import DEFAULT_PRESET, read_experiment
    from workbench.tui.app import WorkbenchApp

    app = WorkbenchApp(Draft(read_experiment(DEFAULT_PRESET), source=DEFAULT_PRESET), start="runs", remotes=remotes)
    started = time.perf_counter()
    async with app.run_test(size=(80, 24)) as pilot:
        while len(getattr(app.screen, "shown", ())) < total:
            await pilot.pause(0.01)
            if time.perf_counter() - started > 120:
                raise RuntimeError(f"the Runs screen listed {len(app.screen.shown)} of {total} runs in 120 s")
        elapsed = time.perf_counter() - started
    return elapsed


if __name__ == "__main__":
    main()
