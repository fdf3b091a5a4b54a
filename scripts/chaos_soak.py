"""A chaos soak: sweeps, detached runs, the app, resumes and stops, under random kills; then
everything is brought to its end and checked.

    python -m scripts.chaos_soak [--seeds 20] [--first-seed 1] [--chaos-seconds 30] [--workers]

Each seed runs in a throw-away WORKBENCH_HOME. For ``--chaos-seconds`` a chaos thread sends
kill -9, SIGTERM, or SIGSTOP and later SIGCONT, at random (seeded) times, to any process of that
home (the queue's feeder, training processes, torchrun's agent and workers with ``--workers``,
the app, the CLI commands the soak itself runs), while the soak starts a sweep, detached runs
and the app, and stops, pauses and resumes runs. Then the chaos ends, `workbench queue start`
and `workbench resume` bring every run to its end, and the invariants are checked:

- every sweep point finished exactly once; the queue is empty, with no claim left;
- every run's history is exact: each epoch once, and its losses and test metrics equal to the
  same experiment trained once without interruption (CPU, deterministic);
- no run shows starting or running without a process; every checkpoint reads; no temp file or
  half-made run folder is left; no process of the soak is left.

The quick version is the slow test ``tests/test_chaos_soak.py``. The numbers it prints (kills by
signal and by kind of process, runs, resumes, invariants) are the figures a note quotes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Tiny experiments, deterministic so that an interrupted run must repeat an uninterrupted one exactly.
TINY = ["--set", "data.subset=300", "--set", "train.deterministic=true", "--device", "cpu"]
#: preset -> epochs: enough (tens of milliseconds each) that the runs live through the chaos.
DETACHED = {"digits-mlp": 40, "spirals-mlp": 60}
SWEEP_PRESET, SWEEP_EPOCHS, SWEEP_SEEDS = "digits-mlp", 15, (1, 2, 3)
WORKERS_PRESET, WORKERS_EPOCHS = "digits-mlp", 10
SETTLE_S = 420.0  # at most, to bring everything to its end after the chaos

#: A headless app, as a person leaves it: on the Runs screen, following every run.
APP = """
import asyncio
from workbench.tui.app import build_app

async def main():
    async with build_app().run_test(size=(100, 30)) as pilot:
        await pilot.press("5")
        while True:
            await pilot.pause(0.5)
            await pilot.press("down")

asyncio.run(main())
"""


@dataclass
class Report:
    seed: int
    kills: Counter[str] = field(default_factory=Counter)  # "SIGKILL trainer" -> count
    actions: Counter[str] = field(default_factory=Counter)  # "resume" -> count
    runs: int = 0
    epochs_checked: int = 0
    broken: list[str] = field(default_factory=list)  # the invariants that did not hold

    def text(self) -> str:
        kills = ", ".join(f"{n} {what}" for what, n in sorted(self.kills.items())) or "none"
        actions = ", ".join(f"{n} {what}" for what, n in sorted(self.actions.items())) or "none"
        verdict = "all invariants held" if not self.broken else f"{len(self.broken)} BROKEN: " + "; ".join(self.broken)
        return (
            f"seed {self.seed}: {sum(self.kills.values())} signals ({kills}); actions: {actions}; "
            f"{self.runs} runs, {self.epochs_checked} epochs checked against uninterrupted runs; {verdict}"
        )


class Soak:
    """One seed's soak in ``home``."""

    def __init__(self, home: Path, seed: int, workers: bool) -> None:
        self.home, self.rng, self.workers = home, random.Random(seed), workers
        self.report = Report(seed)
        self.env = {**os.environ, "WORKBENCH_HOME": str(home), "PYTHONPATH": str(ROOT)}
        self.env.pop("WORKBENCH_HANDED_LOCK_FD", None)
        self.app: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ processes

    def workbench(self, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        """A Workbench command, as a user runs it (the chaos may kill it too)."""
        return subprocess.run(
            [sys.executable, "-m", "workbench", *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def processes(self) -> dict[int, str]:
        """Every live process of this home (by its WORKBENCH_HOME), with its kind."""
        found = {}
        marker = f"WORKBENCH_HOME={self.home}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if marker not in (entry / "environ").read_bytes().split(b"\0"):
                    continue
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
            except OSError:
                continue
            if state != "Z":
                found[int(entry.name)] = _kind(command)
        return found

    @contextlib.contextmanager
    def chaos(self, seconds: float) -> Iterator[None]:
        """Signals at random to this home's processes while the body runs (at most ``seconds``)."""
        done = threading.Event()
        stopped: set[int] = set()

        def strike() -> None:
            deadline = time.monotonic() + seconds
            while not done.wait(self.rng.uniform(0.3, 1.5)) and time.monotonic() < deadline:
                for pid in [p for p in stopped if self.rng.random() < 0.5]:
                    _signal(pid, signal.SIGCONT)
                    stopped.discard(pid)
                live = self.processes()
                if not live:
                    continue
                # A kind of process first, then one of that kind: on a loaded machine the commands,
                # slow to start, would otherwise take most of the strikes.
                kind = self.rng.choice(sorted(set(live.values())))
                pid = self.rng.choice(sorted(p for p, k in live.items() if k == kind))
                sig = self.rng.choice((signal.SIGKILL, signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP))
                if _signal(pid, sig):
                    self.report.kills[f"{sig.name} {live[pid]}"] += 1
                    if sig == signal.SIGSTOP:
                        stopped.add(pid)
            for pid in stopped:
                _signal(pid, signal.SIGCONT)

        thread = threading.Thread(target=strike, name="chaos", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
        for pid in self.processes():  # a process the last strike stopped may be waiting
            _signal(pid, signal.SIGCONT)

    # ------------------------------------------------------------------ the soak

    def run(self, chaos_s: float, references: dict[str, dict]) -> Report:
        with self.chaos(chaos_s):
            self.start_everything()
            deadline = time.monotonic() + chaos_s
            while time.monotonic() < deadline:
                self.act()
                time.sleep(self.rng.uniform(0.5, 2.0))
        if self.app is not None:
            self.app.kill()
            self.app.wait()
        self.bring_to_an_end()
        self.check(references)
        return self.report

    def start_everything(self) -> None:
        """The app, a sweep, detached runs (and a run of two workers): a command the chaos kills
        before it has said what it started is run again, as a person would."""
        self.app = subprocess.Popen([sys.executable, "-c", APP], env=self.env, cwd=self.home, stdout=subprocess.DEVNULL)
        seeds = ",".join(map(str, SWEEP_SEEDS))
        self.until_said(
            "train", SWEEP_PRESET, "--epochs", str(SWEEP_EPOCHS), *TINY, "--sweep", f"train.seed={seeds}", "--parallel", "1"
        )
        for preset, epochs in DETACHED.items():
            self.until_said("train", preset, "--epochs", str(epochs), *TINY, "--detach")
        if self.workers:
            self.until_said("train", WORKERS_PRESET, "--epochs", str(WORKERS_EPOCHS), *TINY, "--nproc-per-node", "2", "--detach")

    def until_said(self, *args: str, tries: int = 5) -> None:
        """Run the command until it ends by itself (a signal ended it: again, up to ``tries``)."""
        for _ in range(tries):
            if self.workbench(*args).returncode >= 0:
                return
            self.report.actions["a killed command again"] += 1

    def act(self) -> None:
        """What a person does meanwhile: start a run, stop, pause, continue or resume one, start
        the queue."""
        from workbench.runs.store import runs_with_status

        runs = runs_with_status()
        action = self.rng.choice(("train", "stop", "pause", "continue", "resume", "resume", "queue start"))
        if action == "train" or not runs:
            preset = self.rng.choice(sorted(DETACHED))
            args = ["train", preset, "--epochs", str(DETACHED[preset]), *TINY, "--detach"]
            action = "train"
        elif action == "queue start":
            args = ["queue", "start"]
        else:
            args = [action, self.rng.choice(runs)[0].id, *(["--detach"] if action == "resume" else [])]
        if self.workbench(*args).returncode == 0:
            self.report.actions[action] += 1

    def bring_to_an_end(self) -> None:
        """`workbench queue start`, then continue or resume every run that has not finished, until all have."""
        from workbench.runs.store import runs_with_status
        from workbench.scheduling.queue import feeder_running, read_queue

        deadline = time.monotonic() + SETTLE_S
        self.workbench("queue", "start")
        while time.monotonic() < deadline:
            runs = runs_with_status()
            waiting = read_queue().entries
            unfinished = [(run, status) for run, status in runs if run.state() != "finished"]
            if not unfinished and not waiting and not self.processes():
                return
            for run, status in unfinished:
                if run.state() == "paused":  # paused by the person meanwhile: continued, as they would
                    self.workbench("continue", run.id)
                    self.report.actions["continue after the chaos"] += 1
                elif run.state() in ("interrupted", "stopped", "failed"):
                    if status.state == "failed":
                        self.report.broken.append(f"{run.id} failed under chaos: {status.message}")
                        return
                    self.workbench("resume", run.id, "--detach")
                    self.report.actions["resume after the chaos"] += 1
            if waiting and not feeder_running():
                self.workbench("queue", "start")
            time.sleep(0.5)
        self.report.broken.append(f"not everything ended within {SETTLE_S:.0f}s")

    # ------------------------------------------------------------------ the invariants

    def check(self, references: dict[str, dict]) -> None:
        from workbench.engine.checkpoint_io import read_checkpoint
        from workbench.errors import CheckpointError
        from workbench.runs.status import LIVE_STATES
        from workbench.runs.store import runs_with_status
        from workbench.scheduling.queue import CLAIMED, queue_dir, read_queue
        from workbench.scheduling.sweep import all_sweeps, sweep_progress

        broken = self.report.broken
        runs = runs_with_status()
        self.report.runs = len(runs)
        for sweep in all_sweeps():
            seeds = sorted(run.read_config().train.seed for run, _, _ in sweep_progress(sweep).runs)
            if seeds != list(SWEEP_SEEDS):
                broken.append(f"sweep {sweep.id}: points {seeds}, not each of {list(SWEEP_SEEDS)} once")
        listing = read_queue()
        if listing.entries or listing.refused or list((queue_dir() / CLAIMED).glob("*")):
            broken.append("the queue is not empty: waiting, refused or claimed entries are left")
        for run, status in runs:
            state = run.state()
            if state != "finished" or status.state in LIVE_STATES:
                broken.append(f"{run.id} is {state} (recorded {status.state})")
                continue
            expected = references.get(_experiment_key(run))
            outcome = _outcome(run)
            if expected is None:
                broken.append(f"{run.id}: an experiment the soak did not start")
            elif outcome != expected:
                broken.append(f"{run.id}: its history differs from the uninterrupted run's: {_difference(outcome, expected)}")
            else:
                self.report.epochs_checked += len(outcome["epochs"])
            for checkpoint in run.checkpoints_dir.glob("*.pt"):
                try:
                    read_checkpoint(checkpoint)
                except CheckpointError as error:
                    broken.append(str(error))
        leftovers = [p for p in self.home.rglob("*") if p.name.startswith((".tmp-", ".creating-"))]
        if leftovers:
            broken.append(f"{len(leftovers)} temp files or half-made folders left, e.g. {leftovers[0]}")
        if self.processes():
            broken.append(f"processes left: {sorted(self.processes().values())}")


def _kind(command: str) -> str:
    """What a process of the soak is, from its command line (for the figures)."""
    if "torchrun_agent" in command:
        return "torchrun agent"
    if "queue feed" in command:
        return "feeder"
    if "build_app" in command:
        return "app"
    if "--run-dir" in command or ("workbench resume /" in command and "--detach" not in command):
        return "trainer"
    return "command"


def _signal(pid: int, sig: signal.Signals) -> bool:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _experiment_key(run) -> str:  # type: ignore[no-untyped-def]
    """What makes two runs the same experiment: config.toml without its name and device."""
    lines = run.config_path.read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith(("name =", "device =", "workers =")))


def _outcome(run) -> dict:  # type: ignore[no-untyped-def]
    """The run's recorded epochs (each once, in order) with their metrics, and its test."""
    from workbench.runs.history import RunHistory

    history = RunHistory.from_records(run.read_events())
    epochs = [(e.epoch, e.train, e.val) for e in history.epochs]
    return {"epochs": epochs, "test": run.read_status().test}


def _difference(outcome: dict, expected: dict) -> str:
    if [e[0] for e in outcome["epochs"]] != [e[0] for e in expected["epochs"]]:
        return f"epochs {[e[0] for e in outcome['epochs']]} against {[e[0] for e in expected['epochs']]}"
    for got, want in zip(outcome["epochs"], expected["epochs"], strict=True):
        if got != want:
            return f"epoch {got[0]}: {json.dumps(got[1:])} against {json.dumps(want[1:])}"
    return f"test {outcome['test']} against {expected['test']}"


def reference_runs() -> dict[str, dict]:
    """Each experiment of the soak trained once, uninterrupted, in a home of its own: what every
    interrupted run must repeat. Keyed by the experiment (:func:`_experiment_key`)."""
    from workbench.runs.folder import RunDir

    plans = [(p, e, []) for p, e in DETACHED.items()]
    plans += [(SWEEP_PRESET, SWEEP_EPOCHS, ["--set", f"train.seed={s}"]) for s in SWEEP_SEEDS]
    references = {}
    with tempfile.TemporaryDirectory(prefix="soak-reference-") as home:
        env = {**os.environ, "WORKBENCH_HOME": home, "PYTHONPATH": str(ROOT)}
        for preset, epochs, extra in plans:
            command = [sys.executable, "-m", "workbench", "train", preset, "--epochs", str(epochs), *TINY, *extra]
            subprocess.run(command, env=env, cwd=home, capture_output=True, check=True)
        for folder in sorted((Path(home) / "data" / "runs").iterdir()):
            if folder.is_dir():
                references[_experiment_key(RunDir(folder))] = _outcome(RunDir(folder))
    return references


def soak(
    seed: int, chaos_s: float, references: dict[str, dict], workers: bool = False, say: Callable[[str], None] = print
) -> Report:
    """One seed's soak in a throw-away home; returns its report (``say`` gets its line).
    ``references``: :func:`reference_runs`, made once for any number of soaks."""
    previous = os.environ.get("WORKBENCH_HOME")
    with tempfile.TemporaryDirectory(prefix=f"soak-{seed}-") as home:
        os.environ["WORKBENCH_HOME"] = home  # this process reads the soak's runs
        try:
            report = Soak(Path(home), seed, workers).run(chaos_s, references)
        finally:
            if previous is None:
                os.environ.pop("WORKBENCH_HOME", None)
            else:
                os.environ["WORKBENCH_HOME"] = previous
    say(report.text())
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="how many soaks, one seed each")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--chaos-seconds", type=float, default=30.0, help="how long the chaos lasts in each soak")
    parser.add_argument("--workers", action="store_true", help="also a run of two torchrun workers (CPU, gloo)")
    args = parser.parse_args()
    references = reference_runs()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    reports = [soak(seed, args.chaos_seconds, references, args.workers) for seed in seeds]
    held = sum(not r.broken for r in reports)
    kills = sum(sum(r.kills.values()) for r in reports)
    print(f"{held} of {len(reports)} soaks held every invariant; {kills} signals, {sum(r.runs for r in reports)} runs")
    return 0 if held == len(reports) else 1


if __name__ == "__main__":
    sys.exit(main())
