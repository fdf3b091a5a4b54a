"""What the near app shows of its hosts, in words: the state of each connection in a line, each
host's GPUs, an evaluation made there. (Their runs are listed from each mirror by
:func:`workbench.runs.listing.list_runs`, as this machine's are.)

Read from the mirror alone (:mod:`workbench.hosts.mirror`): the hosts' sessions keep it current
on their own threads, so nothing here waits on a network, and a host that is down is shown as
its session last wrote it, with since when it is out of reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workbench.formatting import count, metrics_text
from workbench.hosts.mirror import CONNECTING, UNREACHABLE, Connection, read_connection


@dataclass(frozen=True)
class HostState:
    """One host's connection as the app shows it."""

    name: str
    connection: Connection

    @property
    def words(self) -> str:
        """``gpu1 connected``, ``gpu2 reconnecting``, ``gpu3 unreachable since 14:05``."""
        state = self.connection.state
        since = self.connection.since_local()
        return f"{self.name} {state} since {since}" if state == UNREACHABLE and since else f"{self.name} {state}"


def host_states(names: Sequence[str]) -> list[HostState]:
    """Each host's connection as its session last wrote it (``connecting`` before the first word)."""
    return [HostState(name, read_connection(name) or Connection(state=CONNECTING)) for name in names]


def hosts_line(states: Sequence[HostState]) -> str:
    """The Runs screen's line about the hosts: ``hosts: gpu1 connected · gpu2 unreachable since
    14:05 (ssh: connect to host gpu2 port 22: Connection refused)``; the reason of the first
    host out of reach ends it (the line is cut at the screen's edge)."""
    if not states:
        return ""
    line = "hosts: " + " · ".join(state.words for state in states)
    down = next((s for s in states if s.connection.state != "connected" and s.connection.message), None)
    return f"{line} ({down.connection.message})" if down is not None else line


def evaluated_there(ref: str, host: str, report: dict[str, Any]) -> str:
    """An evaluation a host made of its run (``workbench eval --json`` there), in a line:
    ``gpu1:RUN best on gpu1, test split (359 samples): loss 0.07 acc 0.981``."""
    metrics = report.get("metrics")
    figures = metrics_text(metrics) if isinstance(metrics, dict) else "no figures"
    samples = report.get("num_samples")
    many = f" ({count(samples)} samples)" if isinstance(samples, int) else ""
    return (
        f"{ref} {report.get('checkpoint_name') or 'checkpoint'} on {host}, {report.get('split', 'test')} split{many}: {figures}"
    )


def gpu_words(gpu: dict[str, Any]) -> str:
    """One GPU of a host in a line: ``0 NVIDIA H100 · 12.0/80.0 GB used · training RUN`` (``idle``)."""
    name = gpu.get("name") or "GPU"
    used, total = gpu.get("memory_used_mb"), gpu.get("memory_total_mb")
    memory = (
        f" · {used / 1024:.1f}/{total / 1024:.1f} GB used"
        if isinstance(used, int | float) and isinstance(total, int | float)
        else ""
    )
    busy = gpu.get("busy_with")
    return f"{gpu.get('index', '?')} {name}{memory} · {f'training {busy}' if busy else 'idle'}"
