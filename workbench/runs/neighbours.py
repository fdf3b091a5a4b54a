"""The runs training beside a new one on this machine's CPU.

A CPU run takes every core (one PyTorch thread each), and PyTorch's OpenMP threads spin while
they wait for each other: two such runs at once on 2 cores trained at 1,260 samples/s each,
where one alone trained at 16,500/s. The trainer asks here how many runs already train on this
machine's CPU, and takes its share of the cores instead (engine/cpu_share.py).
"""

from __future__ import annotations

import socket

from workbench.runs.liveness import shown_state
from workbench.runs.status import RUNNING, STARTING
from workbench.runs.store import runs_with_status


def cpu_runs_training_here(but: str = "", *, count_starting: bool = False) -> int:
    """Runs other than ``but`` (a run id) that train now on this host's CPU. A paused run uses
    no CPU and does not count. A run still starting has not said its device yet: it counts
    where ``count_starting`` says every run here trains on the CPU (no GPU), so that two runs
    started together each take their share."""
    host = socket.gethostname()
    count = 0
    for run, status in runs_with_status():
        if run.id == but or status.host != host:
            continue
        state = shown_state(run.path, status)
        if (state == RUNNING and status.device.startswith("cpu")) or (state == STARTING and count_starting):
            count += 1
    return count
