"""The queue: runs and sweep points that wait for a free slot, as files.

```
<data dir>/queue/waiting/<entry id>.json  one waiting run: its validated experiment, its place
                /claimed/<entry id>.json  an entry the feeder is starting (see below)
                /refused/<entry id>.json  an entry that could not start, and .txt: why
                /settings.json          parallel (slots), notify (told when the queue ends)
                /lock                   held by the feeder process (runs/feeder.py)
                /feeder.log             what the feeder printed
                /ended.json             when the queue last ran dry
```

Each entry is written atomically; the queue's order is each entry's ``order`` number, then its
id. Moving an entry rewrites its number; cancelling removes its file. To start an entry, the
feeder first renames it into ``claimed/`` (atomic: a cancel and a start of the same entry cannot
both succeed), then creates its run, whose status names the entry, then removes the claim. A
feeder killed at any point leaves either a queued entry, or a claim whose run does or does not
exist: the next feeder puts the second kind back in line, and drops the claim of the first,
whose run is the entry from then on: a run that died before it trained (or was never started)
is started again by the feeder, as the same run (``feeder._restart_lost_starts``). So each
entry runs once, and none is lost.

A file that cannot be read as an entry (a crash of another tool, a hand edit) is listed as
damaged with the reason, skipped by the feeder, and left where it is: the queue never loses
what it was given. Torch-free.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.atomic import atomic_write_bytes
from workbench.errors import ConfigError, WorkbenchError
from workbench.paths import data_dir
from workbench.runs.folder import RunDir
from workbench.runs.liveness import lock_holder, lock_is_held, shown_state
from workbench.runs.status import LIVE_STATES, RunStatus
from workbench.runs.store import new_run_id, runs_with_status
from workbench.scheduling.launch import spawn_detached
from workbench.schema import config as config_io
from workbench.schema.config import RunConfig

ENTRY_VERSION = 1
SUFFIX = ".json"
WAITING = "waiting"
CLAIMED = "claimed"
REFUSED = "refused"
SETTINGS = "settings.json"
ENDED_FILE = "ended.json"
MOVES = ("up", "down", "top", "bottom")


class QueueError(WorkbenchError):
    """A queue command that cannot be done (no such entry, a move past the end)."""


def queue_dir() -> Path:
    return data_dir() / "queue"


def waiting_dir() -> Path:
    return queue_dir() / WAITING


@dataclass(frozen=True)
class QueueEntry:
    """One waiting run: its experiment (validated TOML text) and where it stands in line."""

    id: str
    order: float
    name: str
    config: str  # the validated experiment, as config.toml will hold it
    created_ts: float = 0.0
    sweep: str = ""  # the sweep it is a point of
    point: int = 0  # its point number in that sweep
    label: str = ""  # its sweep values, "optimizer.lr=0.01 data.batch_size=64"
    device: str = ""  # --device for its process ("" = the experiment's own)
    version: int = ENTRY_VERSION

    def experiment(self) -> RunConfig:
        return config_io.loads(self.config, source=f"queue entry {self.id}")

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=1) + "\n").encode("utf-8")


@dataclass(frozen=True)
class DamagedEntry:
    """A file in the queue folder that is not a readable entry: kept, skipped, reported."""

    path: Path
    reason: str

    def text(self) -> str:
        return f"{self.path}: damaged queue entry ({self.reason}); kept and skipped"


@dataclass(frozen=True)
class QueueListing:
    entries: list[QueueEntry]  # in the order they start
    damaged: list[DamagedEntry]
    refused: list[DamagedEntry] = field(default_factory=list)  # set aside: could not start


def read_entry(path: Path) -> QueueEntry:
    """An entry file; ValueError (with the reason) when it is not one."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    try:
        entry = QueueEntry(**data)
    except TypeError as error:
        raise ValueError(str(error).replace("QueueEntry.__init__() ", "")) from None
    if not isinstance(entry.config, str) or not isinstance(entry.order, int | float) or entry.id != path.stem:
        raise ValueError("its id, order or experiment is not what an entry holds")
    return entry


def read_queue() -> QueueListing:
    """Every waiting entry in the order they start, and every damaged file."""
    entries, damaged = [], []
    try:
        paths = sorted(p for p in waiting_dir().iterdir() if p.suffix == SUFFIX and p.is_file())
    except FileNotFoundError:
        paths = []
    for path in paths:
        if path.name.startswith("."):
            continue
        try:
            entries.append(read_entry(path))
        except ValueError as error:
            damaged.append(DamagedEntry(path, str(error)))
    entries.sort(key=lambda e: (e.order, e.id))
    refused = []
    for reason_path in sorted((queue_dir() / REFUSED).glob("*.txt")):
        try:
            reason = reason_path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            reason = "no reason recorded"
        refused.append(DamagedEntry(reason_path.with_suffix(SUFFIX), reason))
    return QueueListing(entries, damaged, refused)


def enqueue(
    config: RunConfig, *, entry_id: str = "", sweep: str = "", point: int = 0, label: str = "", device: str = ""
) -> QueueEntry:
    """Put a validated experiment at the end of the queue; returns its entry."""
    now = time.time()
    entry = QueueEntry(
        id=entry_id or f"{new_run_id(config.name or 'run', now)}-{secrets.token_hex(2)}",
        order=_last_order() + 1.0,
        name=config.name,
        config=config_io.dumps(config),
        created_ts=now,
        sweep=sweep,
        point=point,
        label=label,
        device=device or "",
    )
    _write(entry)
    return entry


def _last_order() -> float:
    entries = read_queue().entries
    return max((e.order for e in entries), default=0.0)


def _write(entry: QueueEntry) -> None:
    atomic_write_bytes(waiting_dir() / f"{entry.id}{SUFFIX}", entry.to_json())


def find_entries(ref: str) -> list[QueueEntry]:
    """The entries an ID names: one entry (its id or a unique prefix), or every queued point of a
    sweep (the sweep's id)."""
    ref = ref.strip()
    entries = read_queue().entries
    if not ref:
        raise QueueError("an empty ID names no queue entry; see `workbench queue`")
    exact = [e for e in entries if e.id == ref]
    if exact:
        return exact
    of_sweep = [e for e in entries if e.sweep == ref]
    if of_sweep:
        return of_sweep
    matches = [e for e in entries if e.id.startswith(ref)]
    if len(matches) == 1:
        return matches
    if not matches:
        raise QueueError(f"nothing queued matches {ref!r}; see `workbench queue` (a started run is not in the queue)")
    raise QueueError(f"{ref!r} matches {len(matches)} queue entries; give more of the id")


def move(ref: str, where: str) -> list[QueueEntry]:
    """Move one entry ``up``, ``down`` (past its neighbour), to the ``top`` or the ``bottom``;
    returns the queue in its new order."""
    if where not in MOVES:
        raise QueueError(f"queue move: {where!r} is not a move; use {', '.join(MOVES)}")
    found = find_entries(ref)
    if len(found) != 1:
        raise QueueError(f"queue move: {ref!r} names {len(found)} entries (a sweep); move one entry at a time")
    entries = read_queue().entries
    index = next(i for i, e in enumerate(entries) if e.id == found[0].id)
    target = {"up": index - 1, "down": index + 1, "top": 0, "bottom": len(entries) - 1}[where]
    target = max(0, min(len(entries) - 1, target))
    moved = entries.pop(index)
    entries.insert(target, moved)
    # Renumber only what changed place, so an entry another process is starting is left alone.
    for number, entry in enumerate(entries, start=1):
        if entry.order != float(number):
            renumbered = QueueEntry(**{**asdict(entry), "order": float(number)})
            if (waiting_dir() / f"{entry.id}{SUFFIX}").exists():
                _write(renumbered)
            entries[number - 1] = renumbered
    return entries


def cancel(ref: str) -> list[QueueEntry]:
    """Remove the entries ``ref`` names from the queue (an entry, or a sweep's queued points);
    a run already started is never touched: it is no longer in the queue."""
    cancelled = []
    for entry in find_entries(ref):
        try:
            os.unlink(waiting_dir() / f"{entry.id}{SUFFIX}")
        except FileNotFoundError:
            continue  # the feeder claimed it a moment ago: it is starting, not cancelled
        cancelled.append(entry)
    if not cancelled:
        raise QueueError(f"{ref!r} has just started; stop its run instead (workbench stop RUN)")
    return cancelled


# ----------------------------------------------------------------------------- claims


def claim(entry: QueueEntry) -> bool:
    """Take an entry out of line to start it; False when it was cancelled or moved away meanwhile."""
    claimed = queue_dir() / CLAIMED
    claimed.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(waiting_dir() / f"{entry.id}{SUFFIX}", claimed / f"{entry.id}{SUFFIX}")
    except FileNotFoundError:
        return False
    return True


def release_claim(entry_id: str) -> None:
    """The entry's run exists: its claim is done."""
    (queue_dir() / CLAIMED / f"{entry_id}{SUFFIX}").unlink(missing_ok=True)


def unclaim(entry_id: str) -> None:
    """Put a claimed entry back in line, at its old place (it could not start yet)."""
    os.rename(queue_dir() / CLAIMED / f"{entry_id}{SUFFIX}", waiting_dir() / f"{entry_id}{SUFFIX}")


def refuse_claim(entry_id: str, reason: str) -> None:
    """Set a claimed entry aside, with why it could not start: kept, out of line."""
    refused = queue_dir() / REFUSED
    refused.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(refused / f"{entry_id}.txt", (reason + "\n").encode("utf-8"))
    os.rename(queue_dir() / CLAIMED / f"{entry_id}{SUFFIX}", refused / f"{entry_id}{SUFFIX}")


def known_entry_ids() -> set[str]:
    """Every entry id the queue knows: waiting, claimed, set aside, or started as a run."""
    ids = {entry.id for entry in read_queue().entries} | {status.queue_entry for _, status in runs_with_status()}
    for folder in (CLAIMED, REFUSED):
        ids |= {path.stem for path in (queue_dir() / folder).glob(f"*{SUFFIX}")}
    return ids


def recover_claims() -> list[str]:
    """After a feeder died: drop the claims whose run exists (the feeder starts such a run again
    if it never trained), put the others back in line (at their old place). Returns the ids put back."""
    folder = queue_dir() / CLAIMED
    try:
        claims = [p for p in folder.iterdir() if p.suffix == SUFFIX]
    except FileNotFoundError:
        return []
    started = {status.queue_entry for _, status in runs_with_status() if status.queue_entry}
    back = []
    for path in claims:
        if path.stem in started:
            path.unlink(missing_ok=True)
        else:
            os.rename(path, waiting_dir() / path.name)
            back.append(path.stem)
    return back


# ----------------------------------------------------------------------------- runs it started


def queue_runs() -> list[tuple[RunDir, RunStatus, str]]:
    """Every run the queue started, with its status and the state to show."""
    return [(run, status, shown_state(run.path, status)) for run, status in runs_with_status() if status.queue_entry]


def live_queue_runs() -> list[tuple[RunDir, RunStatus]]:
    """The queue's runs whose process trains them (or is about to): the slots in use."""
    return [(run, status) for run, status, state in queue_runs() if state in LIVE_STATES]


# ----------------------------------------------------------------------------- settings and the feeder


@dataclass(frozen=True)
class QueueSettings:
    parallel: int = 0  # runs at once; 0: one per GPU (one on a machine without)
    notify: str = ""  # command or URL told when the queue ends (``--notify``)


def read_settings() -> QueueSettings:
    try:
        data = json.loads((queue_dir() / SETTINGS).read_bytes())
        settings = QueueSettings(**data)
        if isinstance(settings.parallel, int) and settings.parallel >= 0 and isinstance(settings.notify, str):
            return settings
    except (OSError, ValueError, TypeError):
        pass
    return QueueSettings()  # missing or damaged: the defaults (the file is only preferences)


def write_settings(*, parallel: int | None = None, notify: str | None = None) -> QueueSettings:
    """Change what is given, keep the rest."""
    if parallel is not None and parallel < 1:
        raise ConfigError(f"--parallel {parallel}: give 1 or more runs at once")
    old = read_settings()
    new = QueueSettings(parallel if parallel is not None else old.parallel, notify if notify is not None else old.notify)
    atomic_write_bytes(queue_dir() / SETTINGS, json.dumps(asdict(new)).encode("utf-8"))
    return new


def feeder_pid() -> int | None:
    """The feeder's process (None: none is feeding the queue)."""
    folder = queue_dir()
    return lock_holder(folder) if lock_is_held(folder) else None


def feeder_running() -> bool:
    return lock_is_held(queue_dir())


def ensure_feeder() -> None:
    """Start a feeder process unless one holds the queue's lock (a second one would only exit)."""
    if feeder_running():
        return
    queue_dir().mkdir(parents=True, exist_ok=True)
    spawn_detached(["queue", "feed"], queue_dir() / "feeder.log")


def slot_count(settings: QueueSettings, gpus: int) -> int:
    """Runs the queue trains at once: ``parallel``, else one per GPU, else one."""
    return settings.parallel or max(1, gpus)


def describe_settings(settings: QueueSettings, gpus: int) -> str:
    """``1 at a time``, ``4 at a time, one per GPU (4)``."""
    slots = slot_count(settings, gpus)
    where = f", one per GPU ({gpus})" if not settings.parallel and gpus > 1 else ""
    return f"{slots} at a time{where}"


def as_dict(entry: QueueEntry) -> dict[str, Any]:
    data = asdict(entry)
    del data["config"]
    return data
