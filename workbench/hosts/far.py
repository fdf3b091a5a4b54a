"""The far side: what a host's ``workbench`` answers to the near side, as JSON lines on stdout.

The protocol is the CLI: ``workbench version --json``, ``runs --json --watch`` (:func:`watch_runs`),
``logs RUN --json --follow --offset N`` (:func:`stream_metrics`), ``pack RUN`` (:func:`pack_run`),
``gpus --json`` (:func:`gpu_listing`), and the commands that already have ``--json``. Each
stream is one JSON object per line, flushed as it is written; a stream ends when the near side
goes away (its pipe breaks) or, for a run's metrics, when the run ends.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import select
import shutil
import stat
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from workbench import __version__
from workbench.errors import WorkbenchError
from workbench.paths import runs_dir
from workbench.runs.folder import RunDir
from workbench.runs.index import Identity, file_identity
from workbench.runs.liveness import LOCK_NAME, shown_state
from workbench.runs.status import LIVE_STATES, RunStatus

#: Bumped when a far command's JSON changes in a way an older near side would misread.
PROTOCOL = 1
#: Seconds between two looks at the runs folder (``runs --watch``) or a run's metrics (``logs --follow``).
WATCH_POLL_S = 0.5
FOLLOW_POLL_S = 0.1
#: A stream says it is alive at least this often, so that the near side can tell a silent host
#: from a quiet one, and its live runs are not taken for stale.
ALIVE_EVERY_S = 5.0
#: The manifest that ends a pack: ``<sha256>  <path>`` per file.
MANIFEST = "SHA256SUMS"

Emit = Callable[[dict[str, Any]], None]


def version_record() -> dict[str, Any]:
    return {"workbench": __version__, "protocol": PROTOCOL}


def json_lines(stream: IO[str]) -> Emit:
    """Write each record as one JSON line and flush it (the near side reads line by line)."""

    def emit(record: dict[str, Any]) -> None:
        stream.write(json.dumps(record, allow_nan=True) + "\n")
        stream.flush()

    return emit


def near_side_gone(wait_s: float) -> bool:
    """Wait ``wait_s`` seconds, or less if the near side went away: a stream's standard input
    is the ssh session's, which the near side keeps open and never writes to, so it ending means
    the session ended. A terminal or /dev/null on standard input (the command run by hand) is
    not looked at."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError):
        mode = 0
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        time.sleep(wait_s)
        return False
    readable, _, _ = select.select([sys.stdin.fileno()], [], [], wait_s)
    return bool(readable) and not os.read(sys.stdin.fileno(), 4096)


def far_status(run: RunDir, status: RunStatus) -> dict[str, Any]:
    """What the near side mirrors of a run's status: the file's fields, its state the one shown here."""
    return {**status.to_dict(), "id": run.id, "state": shown_state(run.path, status)}


def watch_runs(emit: Emit, poll_s: float = WATCH_POLL_S) -> None:
    """Emit ``{"run": id, "status": {...}, "config": toml}`` for each run, then ``{"listed": n}``,
    then the same for each run whose status or shown state changes (``config`` only the first
    time a run is seen), ``{"gone": id}`` for each deleted run, and ``{"alive": n}`` when quiet.

    Cheap: each look stats each status.json (as :mod:`workbench.runs.index` does) and reads only
    those that changed; a live run's lock is checked, since its process may die without a word."""
    seen: dict[str, tuple[Identity | None, str]] = {}
    first = True
    last_word = time.monotonic()
    while True:
        found = _run_folders()
        for run_id, run in found.items():
            identity = file_identity(run.status_path)
            before = seen.get(run_id)
            if before is not None and before[0] == identity and before[1] not in LIVE_STATES:
                continue  # settled and unchanged: not even its lock is looked at
            status = run.read_status()
            record = far_status(run, status)
            if before is not None and before == (identity, record["state"]):
                continue
            if before is None:
                record_config = _config_text(run)
                emit({"run": run_id, "status": record, "config": record_config})
            else:
                emit({"run": run_id, "status": record})
            seen[run_id] = (identity, record["state"])
            last_word = time.monotonic()
        for run_id in [r for r in seen if r not in found]:
            del seen[run_id]
            emit({"gone": run_id})
            last_word = time.monotonic()
        if first:
            emit({"listed": len(found)})
            first = False
        elif time.monotonic() - last_word >= ALIVE_EVERY_S:
            emit({"alive": sum(1 for _, state in seen.values() if state in LIVE_STATES)})
            last_word = time.monotonic()
        if near_side_gone(poll_s):
            return


def _run_folders() -> dict[str, RunDir]:
    try:
        entries = list(os.scandir(runs_dir()))
    except (FileNotFoundError, NotADirectoryError):
        return {}
    return {e.name: RunDir(Path(e.path)) for e in entries if not e.name.startswith(".") and e.is_dir()}


def _config_text(run: RunDir) -> str:
    try:
        return run.config_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def stream_metrics(run: RunDir, offset: int, follow: bool, emit: Emit, poll_s: float = FOLLOW_POLL_S) -> None:
    """Emit the whole lines of the run's metrics.jsonl from byte ``offset`` as
    ``{"at": byte offset, "data": lines}`` (the bytes as text, undecodable ones escaped), and,
    with ``follow``, those appended later until the run is no longer live; then
    ``{"end": state, "size": bytes sent up to}``. A near side that resumes gives the size it
    holds as ``offset``: nothing is sent twice or skipped. An offset past the file's end (the
    file was replaced) is answered ``{"restart": size}``."""
    last_word = time.monotonic()
    while True:
        data = _whole_lines_from(run.metrics_path, offset)
        if data is None:
            emit({"restart": _size(run.metrics_path)})
            return
        if data:
            emit({"at": offset, "data": data.decode("utf-8", errors="surrogateescape")})
            offset += len(data)
            last_word = time.monotonic()
            continue  # drain what is there before looking at the state
        state = run.state()
        if not follow or state not in LIVE_STATES:
            data = _whole_lines_from(run.metrics_path, offset)  # written between the read and the look
            if data:
                continue
            emit({"end": state, "size": offset})
            return
        if time.monotonic() - last_word >= ALIVE_EVERY_S:
            emit({"alive": offset})
            last_word = time.monotonic()
        if near_side_gone(poll_s):
            return


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _whole_lines_from(path: Path, offset: int) -> bytes | None:
    """The whole lines of ``path`` from ``offset`` (b"" when none yet); None if the file is shorter."""
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < offset:
                return None
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return b"" if offset == 0 else None
    return data[: data.rfind(b"\n") + 1]


# ----------------------------------------------------------------------------- pack


def pack_files(run: RunDir, checkpoint: str | None) -> list[Path]:
    """The files of a run that a pull copies: all of them but its lock and temp files; with
    ``checkpoint`` (best, last, epoch-NNN) only that one of its checkpoints."""
    files = []
    for path in sorted(run.path.rglob("*")):
        relative = path.relative_to(run.path)
        if not path.is_file() or path.is_symlink() or relative.name == LOCK_NAME or relative.name.startswith(".tmp-"):
            continue
        if checkpoint is not None and relative.parts[0] == "checkpoints" and relative != _checkpoint_file(checkpoint):
            continue
        files.append(relative)
    if checkpoint is not None and _checkpoint_file(checkpoint) not in files:
        raise WorkbenchError(f"run {run.id} has no {checkpoint} checkpoint ({run.path / _checkpoint_file(checkpoint)})")
    return files


def _checkpoint_file(name: str) -> Path:
    if name.isdigit():
        name = f"epoch-{int(name):03d}"
    return Path("checkpoints") / (name if name.endswith(".pt") else f"{name}.pt")


def pack_run(run: RunDir, checkpoint: str | None, out: IO[bytes]) -> None:
    """Write a tar of the run's files to ``out``, each file hashed as it goes, ending with
    :data:`MANIFEST`: the near side checks every file against it. A live run is refused: its
    files change while they are read."""
    state = run.state()
    if state in LIVE_STATES:
        raise WorkbenchError(f"run {run.id} is {state}: stop it (or let it end) before pulling it")
    sums = []
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for relative in pack_files(run, checkpoint):
            path = run.path / relative
            with path.open("rb") as handle:
                info = tar.gettarinfo(fileobj=handle, arcname=f"{run.id}/{relative.as_posix()}")
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                hashing = _Hashing(handle)
                tar.addfile(info, hashing)
            sums.append(f"{hashing.digest.hexdigest()}  {relative.as_posix()}\n")
        manifest = "".join(sums).encode("utf-8")
        info = tarfile.TarInfo(f"{run.id}/{MANIFEST}")
        info.size, info.mtime = len(manifest), int(time.time())
        tar.addfile(info, io.BytesIO(manifest))


class _Hashing(io.RawIOBase):
    """A reader that hashes what is read through it."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


# ----------------------------------------------------------------------------- gpus


def gpu_listing() -> list[dict[str, Any]]:
    """This machine's NVIDIA GPUs (``nvidia-smi``, no torch): index, name, memory, and the live run
    on each (from the runs' recorded devices); none without the driver."""
    if shutil.which("nvidia-smi") is None:
        return []
    query = ["nvidia-smi", "--query-gpu=index,name,memory.total,memory.used", "--format=csv,noheader,nounits"]
    try:
        listed = subprocess.run(query, capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    busy = _busy_gpus()
    gpus = []
    for line in listed.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) != 4 or not parts[0].isdigit():
            continue
        index = int(parts[0])
        gpus.append(
            {
                "index": index,
                "name": parts[1],
                "memory_total_mb": _number(parts[2]),
                "memory_used_mb": _number(parts[3]),
                "busy_with": busy.get(index),
            }
        )
    return gpus


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _busy_gpus() -> dict[int, str]:
    """GPU index -> the id of a live run training on it."""
    busy = {}
    for run in _run_folders().values():
        status = run.read_status()
        if status.state in LIVE_STATES and status.device.startswith("cuda") and shown_state(run.path, status) in LIVE_STATES:
            index = status.device.partition(":")[2]
            busy[int(index) if index.isdigit() else 0] = run.id
    return busy
