"""Listing the runs of 3 hosts x 100 runs against the same 300 runs held here.

Each host is a WORKBENCH_HOME reached over a real sshd on loopback (tests/hosts/loopback.py),
holding 100 copies of one trained run (real files, each with its own id and time). Prints how
long the hosts' sessions take to mirror all 300 runs from their first connection, then how long
a listing takes (what the Runs screen lists: :func:`workbench.runs.listing.list_runs` of each
host's mirror, against the same 300 runs in this machine's runs folder), median of several, and
the ratio against the 1.5x bar.

    .venv/bin/python -m benchmarks.remote_listing [--hosts 3] [--runs 100]
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
from pathlib import Path

RATIO_BAR = 1.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--runs", type=int, default=100, help="runs per host")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="remote-listing-"))
    os.environ["WORKBENCH_HOME"] = str(scratch / "near")
    from tests.hosts.loopback import start_sshd

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  ({os.cpu_count()} cores)")
    template = _trained_run(scratch / "template")
    names = [f"box{i + 1}" for i in range(args.hosts)]
    for index, name in enumerate(names):
        _copies(template, scratch / name / "data" / "runs", args.runs, first=index * args.runs)
    from workbench.paths import runs_dir

    _copies(template, runs_dir(), args.runs * args.hosts, first=0)
    sshd = start_sshd(scratch / "sshd")
    try:
        _measure(sshd, scratch, names, args.repeats)
    finally:
        sshd.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def _measure(sshd, scratch: Path, names: list[str], repeats: int) -> None:  # type: ignore[no-untyped-def]
    from workbench.hosts import mirror
    from workbench.hosts.session import HostSessions
    from workbench.runs.listing import list_runs

    remotes = [sshd.host(name, scratch / name) for name in names]
    started = time.perf_counter()
    sessions = HostSessions.for_remotes(remotes)
    try:
        for session in sessions:
            session.wait_listed(120)
        mirrored = time.perf_counter() - started
        total = sum(len(mirror.mirrored_ids(name)) for name in names)
        print(f"first connection: {total} runs of {len(names)} hosts mirrored in {mirrored:.2f} s")

        def hosts_listing() -> int:
            return sum(len(list_runs(mirror.host_runs_dir(name))) for name in names)

        local = _median(lambda: len(list_runs()), repeats)
        remote = _median(hosts_listing, repeats)
        ratio = remote / local
        print(
            f"listing {total} runs: here {local * 1000:.1f} ms, the hosts' mirrors {remote * 1000:.1f} ms "
            f"(median of {repeats}): {ratio:.2f}x (bar {RATIO_BAR}x: {'met' if ratio <= RATIO_BAR else 'MISSED'})"
        )
    finally:
        sessions.close_all()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _median(listing, repeats: int) -> float:  # type: ignore[no-untyped-def]
    listing()  # the first builds each folder's index, as the app's first listing does
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        listing()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _trained_run(home: Path) -> Path:
    env = {**os.environ, "WORKBENCH_HOME": str(home), "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [sys.executable, "-m", "workbench", "train", "digits-mlp", "--epochs", "2"], env=env, check=True, capture_output=True
    )
    (run,) = [p for p in (home / "data" / "runs").iterdir() if not p.name.startswith(".")]
    return run


def _copies(template: Path, root: Path, count: int, first: int) -> None:
    """``count`` copies of the run ``template`` in ``root``, each with its own id and creation time."""
    root.mkdir(parents=True, exist_ok=True)
    status = json.loads((template / "status.json").read_text())
    for number in range(first, first + count):
        run_id = f"20260101-{number:06d}-digits-mlp"
        folder = root / run_id
        shutil.copytree(template, folder, ignore=shutil.ignore_patterns("lock", "*.pt"))
        data = {**status, "id": run_id, "created_ts": status["created_ts"] + number}
        (folder / "status.json").write_text(json.dumps(data))
        old = time.time() - 3600  # settled files, as a listing's index caches them
        for path in folder.rglob("*"):
            os.utime(path, (old, old))


if __name__ == "__main__":
    main()
