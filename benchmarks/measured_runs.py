"""Real ``workbench`` commands timed and read back, for the benchmarks that compare runs."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def workbench(args: list[str], home: Path, timeout: float = 3600) -> tuple[int, str, str, float]:
    """Run ``workbench ARGS`` in ``home``: (exit status, stdout, stderr, wall seconds)."""
    env = dict(os.environ, WORKBENCH_HOME=str(home))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "workbench", *args], env=env, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - start


def train(home: Path, preset: str, *options: str) -> dict[str, Any]:
    """``workbench train PRESET OPTIONS --json``: its summary, with the run's speeds and peak memory."""
    return summarised(home, ["train", preset, *options])


def resume(home: Path, run_id: str, *options: str) -> dict[str, Any]:
    """``workbench resume RUN OPTIONS --json``, read as ``train`` reads its run (every epoch, resumed or not)."""
    return summarised(home, ["resume", run_id, *options])


def summarised(home: Path, args: list[str]) -> dict[str, Any]:
    """Run a training command with ``--json``; its summary and its run's records, or its last line of error."""
    status, out, err, wall = workbench([*args, "--json"], home)
    if status != 0:
        return {"error": (err.strip().splitlines() or [f"exit {status}"])[-1], "wall_s": wall}
    summary = json.loads(out[out.index("{") :])
    records = [json.loads(line) for line in Path(summary["run_dir"], "metrics.jsonl").read_text().splitlines() if line]
    epochs = [r for r in records if r.get("event") == "EpochEnded"]
    memory = [r.get("device_memory_gib", 0.0) for r in records if r.get("event") == "Progress"]
    return {
        "run_id": Path(summary["run_dir"]).name,
        "test_acc": summary["test"].get("acc"),
        "losses": [e["train"]["loss"] for e in epochs],
        "samples_per_s": [round(e["samples_per_s"]) for e in epochs],
        "epoch_s": [round(e["duration_s"], 2) for e in epochs],
        "peak_gib": max(memory, default=0.0),
        "wall_s": round(wall, 1),
    }


def steady(speeds: list[int]) -> float:
    """Samples/s after the first epoch (which pays for warm-up and, with compile, compiling)."""
    return statistics.median(speeds[1:] or speeds)
