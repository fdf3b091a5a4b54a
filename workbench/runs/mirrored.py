"""Run folders that mirror another host's runs, told from their place on disk.

A remote run is followed through a local copy of its folder (issue 28): a host's session keeps
``<data dir>/hosts/<host>/runs/<run-id>/`` current (:mod:`workbench.hosts.mirror`), so
everything that reads a run folder (listing, follower, history, words, compare) reads a remote
run unchanged. What differs, which host a run trains on, is told here from the path alone (no
file read), below the hosts package, so that a run's summary carries it wherever it is made:
a run is named ``host:run-id`` wherever runs of several hosts meet (the Runs screen, the
followed runs, compare).
"""

from __future__ import annotations

from pathlib import Path

from workbench.paths import data_dir
from workbench.runs.folder import RunDir

#: The folder of ``<data dir>`` that holds one folder per host, each with its ``runs/`` mirror.
HOSTS_FOLDER = "hosts"
#: The mirror folder of each host holding its runs (as ``<data dir>/runs`` holds this machine's).
HOST_RUNS_FOLDER = "runs"


def hosts_root() -> Path:
    """``<data dir>/hosts``: one folder per host reached over SSH."""
    return data_dir() / HOSTS_FOLDER


def mirror_host(folder: Path) -> str:
    """The host whose run ``folder`` mirrors; ``""`` for a run of this machine."""
    runs = folder.parent
    if runs.name != HOST_RUNS_FOLDER:
        return ""
    host = runs.parent
    return host.name if host.parent == hosts_root() else ""


def qualified_ref(host: str | None, run_id: str) -> str:
    """``gpu1:RUN`` for a run of host ``gpu1``; the bare id for a run of this machine."""
    return f"{host}:{run_id}" if host else run_id


def run_ref(run: RunDir) -> str:
    """The name the app keys a run by: its id, or ``gpu1:RUN`` for a mirror of host gpu1's run."""
    return qualified_ref(mirror_host(run.path), run.id)
