"""All runs: make a new run folder, find one by a RUN argument, list them, delete one.

Run ids sort by time and read well: ``20261123-110501-digits-cnn``. A RUN argument is a full
id, a unique prefix of one, or ``latest``. Any process can read a run while it trains.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import time
from pathlib import Path

from workbench.errors import RunNotFoundError, WorkbenchError
from workbench.experiment.validation import validate
from workbench.paths import runs_dir
from workbench.runs.folder import RunDir
from workbench.runs.index import read_statuses
from workbench.runs.liveness import HandedLock
from workbench.runs.status import LIVE_STATES, STARTING, RunStatus, now_iso
from workbench.schema import config as config_io
from workbench.schema.config import RunConfig

LATEST = "latest"


def new_run_id(name: str, when: float | None = None) -> str:
    """``YYYYMMDD-HHMMSS-name``: sorts by start time and says what it is."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "run"
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(when)) + "-" + slug


def create_run(
    config: RunConfig, *, when: float | None = None, sweep: str = "", queue_entry: str = "", lock: HandedLock | None = None
) -> RunDir:
    """A new run folder holding the validated, normalised experiment and a ``starting`` status.

    Every road to a run (the app, ``workbench train``, detached or not) comes through here, so
    the same experiment gives the same config.toml bytes whoever started it. ``when``: the
    creation time (seconds since the epoch; default now), which both the id and ``created_ts``
    take, so that they agree, and so that a test can make two runs in the same second.
    ``sweep``, ``queue_entry``: the sweep the run is a point of and the queue entry it was
    started from, recorded in its status from the first moment (see :mod:`workbench.scheduling.queue`).
    ``lock``: taken before the run shows as ``starting``, for a launcher to hand to the process it
    starts (it keeps the lock when the creation fails: the caller releases it).
    """
    config = validate(config)
    created = time.time() if when is None else when
    base = new_run_id(config.name or "run", created)
    root = runs_dir()
    root.mkdir(parents=True, exist_ok=True)
    remove_abandoned_creations(root)
    # Built under a hidden name and renamed into place whole: a crash (kill -9, a full disk)
    # while the folder is being filled never leaves a run without its config or status.
    building = root / f"{CREATING_PREFIX}{base}-{os.getpid()}-{secrets.token_hex(4)}"
    building.mkdir()
    try:
        config_io.write(config, building / "config.toml")
        (building / "checkpoints").mkdir()
        if lock is not None:
            lock.take(building, base)
        status = RunStatus().changed(
            name=config.name,
            dataset=config.data.dataset,
            state=STARTING,
            host=socket.gethostname(),
            created_at=now_iso(created),
            created_ts=created,
            epochs=config.train.epochs,
            sweep=sweep,
            queue_entry=queue_entry,
            lock_handed=lock is not None,
        )
        for attempt in range(1, 1000):
            path = root / (base if attempt == 1 else f"{base}-{attempt}")
            RunDir(building).write_status(status.changed(id=path.name))
            try:
                os.rename(building, path)  # atomic; refused if that name is taken meanwhile
            except OSError:
                if path.exists():
                    continue
                raise
            return RunDir(path)
        raise WorkbenchError(f"{root}: cannot create a new run folder for {base}")  # pragma: no cover
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


#: Run folders are built under this hidden prefix, then renamed into place.
CREATING_PREFIX = ".creating-"
#: A folder still being built after this long was left by a creation that died.
ABANDONED_AFTER_S = 3600.0


def remove_abandoned_creations(root: Path) -> None:
    """Remove the folders in ``root`` (runs, sweeps) that a creation left when it died: those of
    a process of this machine that is gone, and any an hour old."""
    for leftover in root.glob(CREATING_PREFIX + "*"):
        try:
            if not _creator_alive(leftover.name) or time.time() - leftover.stat().st_mtime > ABANDONED_AFTER_S:
                shutil.rmtree(leftover)
        except OSError:
            continue  # another process removed or is using it


def _creator_alive(name: str) -> bool:
    """Whether the process that names itself in ``.creating-<id>-<pid>-<random>`` may still be at work."""
    pid = name.rsplit("-", 2)[-2] if name.count("-") >= 2 else ""
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def all_runs() -> list[RunDir]:
    """Every run folder, oldest first."""
    return [run for run, _ in runs_with_status()]


def runs_with_status(root: Path | None = None) -> list[tuple[RunDir, RunStatus]]:
    """Every run folder with its status, oldest first: each status read once, through the index
    (with a thousand runs, reading every status.json, twice, was a fifth of `workbench runs`).
    ``root``: another folder of runs than this machine's (a host's mirror)."""
    root = runs_dir() if root is None else root
    try:
        entries = list(os.scandir(root))
    except (FileNotFoundError, NotADirectoryError):
        return []
    runs = [RunDir(Path(e.path)) for e in entries if not e.name.startswith(".") and e.is_dir()]
    read = zip(runs, read_statuses(root, runs), strict=True)
    return sorted(read, key=lambda pair: (pair[1].created_ts, pair[0].id))


def find_run(ref: str) -> RunDir:
    """A run by full id, unique id prefix, ``latest``, or the path of its folder.

    Every command that names a run comes through here, so it also removes the temp files a
    crash left in it (an hour old: a writer at work is never disturbed), where it may."""
    run = _find_run(ref)
    try:
        run.clean_temp_files(older_than_s=ABANDONED_AFTER_S)
    except OSError:  # a folder this user may not change or read: the command says what it cannot read
        pass
    return run


def _find_run(ref: str) -> RunDir:
    """A run by full id, unique id prefix, ``latest``, or the path of its folder (see find_run)."""
    ref = ref.strip()
    if os.sep in ref and (Path(ref) / "status.json").is_file():
        return RunDir(Path(ref).resolve())
    runs = all_runs()
    if not runs:
        raise RunNotFoundError(f"no runs yet in {runs_dir()}; start one with `workbench train`")
    if not ref:
        raise RunNotFoundError("an empty RUN matches nothing; give a run id, a prefix of one, or 'latest'")
    if ref == LATEST:
        return runs[-1]
    exact = [r for r in runs if r.id == ref]
    if exact:
        return exact[0]
    matches = [r for r in runs if r.id.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunNotFoundError(f"no run matches {ref!r}; see `workbench runs`")
    shown = ", ".join(r.id for r in matches[:5]) + (", ..." if len(matches) > 5 else "")
    raise RunNotFoundError(f"{ref!r} matches {len(matches)} runs ({shown}); give more of the id")


def check_deletable(run: RunDir) -> None:
    """Refuse, in one line, to delete a run a live process trains (or is about to).

    Separate from :func:`delete_run` so that whoever asks "delete it?" first refuses at once
    rather than asking about a deletion that cannot happen."""
    state = run.state()
    if state in LIVE_STATES:
        pid = run.read_status().pid
        process = f" (pid {pid})" if pid is not None else ""
        raise WorkbenchError(f"run {run.id} is {state}{process}; stop it first: workbench stop {run.id}")


def delete_run(run: RunDir) -> None:
    """Remove a run's folder; refuses while a live process trains it."""
    check_deletable(run)
    try:
        shutil.rmtree(run.path)
    except OSError as error:  # rmtree names the file relative to its folder: say which run
        raise WorkbenchError(f"{run.path}: cannot delete the run ({(error.strerror or str(error)).lower()})") from error
