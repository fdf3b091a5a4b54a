"""How fast an epoch ended on another host reaches this one, and what following costs here.

Three hosts over a real sshd on loopback (each its own WORKBENCH_HOME, as in tests/hosts), one
live run on each (digits-mlp, short epochs), each followed by a :class:`HostSession` as the app
follows it. Latency: from an EpochEnded event's own time stamp (written by the run on its host)
to the moment its line is in the near mirror (looked at every 10 ms); p50, p95 and max against
the 1 s bar. CPU: the near side's (this process and its ssh clients, and each host's master
connection) over a quiet stretch of following, as a share of one core, against the 5% bar.

    .venv/bin/python -m benchmarks.remote_follow [--hosts 3] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LATENCY_BAR_S = 1.0
CPU_BAR = 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each measure lasts")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="remote-follow-"))
    os.environ["WORKBENCH_HOME"] = str(scratch / "near")
    from tests.hosts.loopback import start_sshd

    sshd = start_sshd(scratch / "sshd")
    try:
        run(sshd, scratch, args.hosts, args.seconds)
    finally:
        sshd.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def run(sshd, scratch: Path, hosts: int, seconds: float) -> None:  # type: ignore[no-untyped-def]
    from workbench.experiment.presets import load_experiment
    from workbench.hosts import mirror
    from workbench.hosts.session import HostSessions, start_far_run
    from workbench.hosts.ssh import close_master
    from workbench.schema import config as config_io

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  ({os.cpu_count()} cores)")
    remotes = [sshd.host(f"box{i + 1}", scratch / f"box{i + 1}") for i in range(hosts)]
    experiment = config_io.dumps(load_experiment("digits-mlp", ["train.epochs=100000"]))
    runs = {remote.name: start_far_run(remote, experiment) for remote in remotes}
    sessions = HostSessions.for_remotes(remotes)
    try:
        for session in sessions:
            session.follow(runs[session.name])
        mirrors = {name: mirror.mirrored_run(name, run_id) for name, run_id in runs.items()}
        _wait(lambda: all(_epoch_times(m) for m in mirrors.values()), 120, "every run's first epoch mirrored")

        # latency: each new epoch's line, seen here within 10 ms of its arrival
        seen = {name: len(_epoch_times(m)) for name, m in mirrors.items()}
        sizes = {name: mirror.metrics_size(m) for name, m in mirrors.items()}
        delays: list[float] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for name, m in mirrors.items():
                size = mirror.metrics_size(m)
                if size == sizes[name]:
                    continue
                now = time.time()
                sizes[name] = size
                stamps = _epoch_times(m)
                delays += [now - stamp for stamp in stamps[seen[name] :]]
                seen[name] = len(stamps)
            time.sleep(0.01)
        delays.sort()
        p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
        print(
            f"epoch end -> near mirror over ssh, {len(delays)} epochs of {hosts} live runs: p50 {statistics.median(delays) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms (bar p95 < {LATENCY_BAR_S * 1000:.0f} ms: "
            f"{'met' if p95 < LATENCY_BAR_S else 'MISSED'})"
        )

        # CPU of the near side while it follows, not looking itself
        pids = _near_pids(remotes)
        before, started = _cpu_seconds(pids), time.monotonic()
        time.sleep(seconds)
        pids_after = _near_pids(remotes)
        used = _cpu_seconds(pids_after) - before
        share = used / (time.monotonic() - started)
        print(
            f"near side following {hosts} live remote runs: {share * 100:.2f}% of a core over {seconds:.0f} s "
            f"({len(pids_after)} processes: this one, its ssh clients, {hosts} master connections) "
            f"(bar < {CPU_BAR * 100:.0f}%: {'met' if share < CPU_BAR else 'MISSED'})"
        )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        for remote, run_id in zip(remotes, runs.values(), strict=True):
            subprocess.run(
                [sys.executable, "-m", "workbench", "stop", run_id, "--no-wait"],
                env={**os.environ, "WORKBENCH_HOME": str(scratch / remote.name)},
                capture_output=True,
                check=False,
            )
        sessions.close_all()
        for remote in remotes:
            close_master(remote)


def _epoch_times(run) -> list[float]:  # type: ignore[no-untyped-def]
    return [r["time"] for r in run.read_events() if r.get("event") == "EpochEnded"]


def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.05)


def _near_pids(remotes) -> set[int]:  # type: ignore[no-untyped-def]
    """This process, its children (the ssh clients of each stream) and each host's master."""
    from workbench.hosts.ssh import ssh_options

    pids = {os.getpid()}
    children = subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True).stdout.split()
    pids |= {int(pid) for pid in children}
    for remote in remotes:
        check = subprocess.run([*ssh_options(remote), "-O", "check", "--", remote.destination], capture_output=True, text=True)
        found = re.search(r"pid=(\d+)", check.stderr + check.stdout)
        if found:
            pids.add(int(found.group(1)))
    return pids


def _cpu_seconds(pids: set[int]) -> float:
    """User + system CPU seconds of ``pids`` (from /proc; a process gone meanwhile counts 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


if __name__ == "__main__":
    main()
