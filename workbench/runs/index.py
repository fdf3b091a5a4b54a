"""A cache of every run's status.json, so that listing a thousand runs reads one file, not a thousand.

``<runs>/.status-index.json`` keeps, for each run, its status as last read and the identity of
the status.json it came from: inode, size and modification time in nanoseconds. A listing
stats each status.json (cheap) and re-reads only those whose identity changed. status.json is
only ever replaced whole (``os.replace`` of a new file: a new inode), so a run that moved on,
however quickly, never matches its old entry; a file changed in the last :data:`SETTLE_S`
seconds is read but not cached, in case a same-size in-place edit lands within the same clock
tick (git's "racy" rule), and so is a damaged status, which lists as damaged from its file every
time. Liveness (lock, heartbeat) is never cached: it is checked at every listing.

The index is only a cache: a missing, damaged or foreign index is ignored and rewritten; two
processes listing at once each write a whole index atomically, and either one is right; a runs
folder that cannot be written still lists, from the files.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from workbench.atomic import atomic_write_bytes
from workbench.runs.folder import RunDir
from workbench.runs.status import RunStatus

INDEX_NAME = ".status-index.json"
#: Bumped when what an entry holds changes; another version's index is ignored.
INDEX_VERSION = 1
#: A status.json modified this recently is not cached (see the module's docstring).
SETTLE_S = 2.0

_Identity = list[int]  # inode, size, mtime in ns


def read_statuses(root: Path, runs: list[RunDir]) -> list[RunStatus]:
    """The status of each of ``runs`` (folders in ``root``), from the index where it is current."""
    index_path = root / INDEX_NAME
    entries = _read_index(index_path)
    fresh: dict[str, dict[str, Any]] = {}
    statuses = []
    now = time.time()
    changed = False
    for run in runs:
        identity = _identity(run)
        entry = entries.get(run.id)
        status = _cached(entry, identity)
        if status is None:
            status, entry = run.read_status(), None
        if identity is not None and identity[2] < (now - SETTLE_S) * 1e9 and not status.problems:  # settled and sound
            if entry is None:
                entry, changed = {"identity": identity, "status": status.to_dict()}, True
            fresh[run.id] = entry
        statuses.append(status)
    if changed or fresh.keys() != entries.keys():
        _write_index(index_path, fresh)
    return statuses


def _identity(run: RunDir) -> _Identity | None:
    try:
        stat = os.stat(run.status_path)
    except OSError:
        return None  # missing: read_status says so, and nothing is cached
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns]


def _cached(entry: dict[str, Any] | None, identity: _Identity | None) -> RunStatus | None:
    """The entry's status if it was read from the file that is there now, else None."""
    if entry is None or identity is None or entry.get("identity") != identity:
        return None
    try:
        return RunStatus(**entry["status"])
    except TypeError:  # an entry of another shape: read the file
        return None


def _read_index(path: Path) -> dict[str, dict[str, Any]]:
    """The index's entries; empty when it is missing, damaged or of another version."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION or not isinstance(data.get("runs"), dict):
        return {}
    return {k: v for k, v in data["runs"].items() if isinstance(v, dict) and isinstance(v.get("status"), dict)}


def _write_index(path: Path, entries: dict[str, dict[str, Any]]) -> None:
    try:
        data = json.dumps({"version": INDEX_VERSION, "runs": entries}, allow_nan=True).encode("utf-8")
        atomic_write_bytes(path, data, durable=False)  # a cache: one lost in a crash is rebuilt
    except OSError:
        pass  # a runs folder this user cannot write still lists, from the files
