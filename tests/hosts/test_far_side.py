"""What a host answers to the near side, run on this machine (no SSH; slow: each starts a process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import hold_lock
from tests.tui.runs import recorded_run
from workbench.hosts.far import gpu_listing

pytestmark = pytest.mark.slow

NVIDIA_SMI = """#!/bin/sh
echo "0, NVIDIA H100 80GB HBM3, 81559, 1024"
echo "1, NVIDIA H100 80GB HBM3, 81559, 40960"
"""


def test_gpus_name_each_gpu_its_memory_and_the_live_run_on_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = tmp_path / "bin" / "nvidia-smi"  # a stand-in for the driver's tool, which this machine lacks
    tool.parent.mkdir()
    tool.write_text(NVIDIA_SMI)
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tool.parent}{os.pathsep}{os.environ['PATH']}")
    live = recorded_run("on-gpu-1", finish=False)
    live.update_status(state="running", device="cuda:1")
    ended = recorded_run("ended-on-gpu-0")
    ended.update_status(device="cuda:0")
    holder = hold_lock(live)
    try:
        assert gpu_listing() == [
            {"index": 0, "name": "NVIDIA H100 80GB HBM3", "memory_total_mb": 81559, "memory_used_mb": 1024, "busy_with": None},
            {
                "index": 1,
                "name": "NVIDIA H100 80GB HBM3",
                "memory_total_mb": 81559,
                "memory_used_mb": 40960,
                "busy_with": live.id,
            },
        ]
    finally:
        holder.kill()
        holder.wait()
    assert gpu_listing()[1]["busy_with"] is None  # its process gone: nothing trains there


def test_logs_json_sends_whole_lines_from_an_offset_and_says_where_it_ended() -> None:
    run = recorded_run("streamed")
    data = run.metrics_path.read_bytes()
    middle = data.index(b"\n", len(data) // 2) + 1
    far = subprocess.run(
        [sys.executable, "-m", "workbench", "logs", run.id, "--json", "--offset", str(middle)],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    records = [json.loads(line) for line in far.stdout.splitlines()]
    sent = "".join(r["data"] for r in records if "data" in r).encode()
    assert records[0]["at"] == middle and sent == data[middle:]
    assert records[-1] == {"end": "finished", "size": len(data)}
