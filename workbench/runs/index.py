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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from workbench.atomic import atomic_write_bytes
from workbench.runs.folder import RunDir
from workbench.runs.status import RunStatus

INDEX_NAME = ".status-index.json"
#: Bumped when what an entry holds changes; another version's index is ignored.
INDEX_VERSION = 1
#: A status.json modified this recently is not cached (see the module's docstring).
SETTLE_S = 2.0

Identity = list[int]  # inode, size, mtime in ns
T = TypeVar("T")


def read_statuses(root: Path, runs: list[RunDir]) -> list[RunStatus]:
    """The status of each of ``runs`` (folders in ``root``), from the index where it is current."""
    return read_cached(
        root / INDEX_NAME,
        INDEX_VERSION,
        runs,
        CachedRead("status", lambda run: run.status_path, RunDir.read_status, RunStatus.to_dict, lambda d: RunStatus(**d)),
        sound=lambda status: not status.problems,  # a damaged status lists as damaged from its file every time
    )


@dataclass(frozen=True)
class CachedRead(Generic[T]):
    """What an index caches of each run: the ``field`` its entries hold, read from ``file_of(run)``
    by ``read(run)`` and kept as the JSON object ``to_dict`` makes (``from_dict`` makes it back)."""

    field: str
    file_of: Callable[[RunDir], Path]
    read: Callable[[RunDir], T]
    to_dict: Callable[[T], dict[str, Any]]
    from_dict: Callable[[dict[str, Any]], T]


def read_cached(index_path: Path, version: int, runs: list[RunDir], what: CachedRead[T], sound: Callable[[T], bool]) -> list[T]:
    """``what`` of each of ``runs``, from the index at ``index_path`` where the file it was read
    from is the one there now; settled files read ``sound`` are cached for the next listing."""
    entries = read_index(index_path, version, what.field)
    fresh: dict[str, dict[str, Any]] = {}
    values = []
    now = time.time()
    changed = False
    for run in runs:
        identity = file_identity(what.file_of(run))
        entry = entries.get(run.id)
        value = _cached(entry, identity, what)
        if value is None:
            value, entry = what.read(run), None
        if settled(identity, now) and sound(value):
            if entry is None:
                entry, changed = {"identity": identity, what.field: what.to_dict(value)}, True
            fresh[run.id] = entry
        values.append(value)
    if changed or fresh.keys() != entries.keys():
        write_index(index_path, version, fresh)
    return values


def file_identity(path: Path) -> Identity | None:
    """The file's inode, size and modification time (ns), or None when it cannot be seen."""
    try:
        stat = os.stat(path)
    except OSError:
        return None  # missing: its reader says so, and nothing is cached
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns]


def settled(identity: Identity | None, now: float) -> bool:
    """Whether a file of this identity may be cached: it exists and has not changed for :data:`SETTLE_S`."""
    return identity is not None and identity[2] < (now - SETTLE_S) * 1e9


def _cached(entry: dict[str, Any] | None, identity: Identity | None, what: CachedRead[T]) -> T | None:
    """The entry's value if it was read from the file that is there now, else None."""
    if entry is None or identity is None or entry.get("identity") != identity:
        return None
    try:
        return what.from_dict(entry[what.field])
    except TypeError:  # an entry of another shape: read the file
        return None


def read_index(path: Path, version: int, field: str) -> dict[str, dict[str, Any]]:
    """An index's entries by run id, each holding a ``field`` object; empty when the index is
    missing, damaged or of another ``version``."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != version or not isinstance(data.get("runs"), dict):
        return {}
    return {k: v for k, v in data["runs"].items() if isinstance(v, dict) and isinstance(v.get(field), dict)}


def write_index(path: Path, version: int, entries: dict[str, dict[str, Any]]) -> None:
    """Replace the index at ``path`` (atomically) with ``entries``; an unwritable folder is left be."""
    try:
        data = json.dumps({"version": version, "runs": entries}, allow_nan=True).encode("utf-8")
        atomic_write_bytes(path, data, durable=False)  # a cache: one lost in a crash is rebuilt
    except OSError:
        pass  # a runs folder this user cannot write still lists, from the files
