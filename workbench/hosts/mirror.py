"""The near side's copy of each host's runs: local folders that read as runs.

```
<data dir>/hosts/<name>/connection.json      the connection's state (see Connection)
                       /runs/<run-id>/status.json    the far status, its state the one the far side shows
                                     /config.toml    a byte copy
                                     /metrics.jsonl  appended from the far side's byte offset
                                     /lock           touched while the far side says the run is live
```

Everything that reads a run folder reads these. A mirrored status names the host (``host`` is
the host's name here, never this machine's), so :func:`workbench.runs.liveness.shown_state` takes
the run's liveness from the lock file's age, which the mirror refreshes at each word from the far
side: a live run of a host that stopped answering turns ``stale`` after a minute, as a run of
another machine does. metrics.jsonl only grows by whole lines written at the far side's offset,
so its size is where a dropped stream resumes: nothing is appended twice or skipped.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.atomic import atomic_write_bytes
from workbench.hosts.ids import check_host_name
from workbench.runs.folder import RunDir
from workbench.runs.liveness import LOCK_NAME
from workbench.runs.mirrored import HOST_RUNS_FOLDER, hosts_root
from workbench.runs.status import LIVE_STATES

CONNECTED, CONNECTING, RECONNECTING, UNREACHABLE = "connected", "connecting", "reconnecting", "unreachable"


def host_dir(name: str) -> Path:
    return hosts_root() / check_host_name(name)


def host_runs_dir(name: str) -> Path:
    """Where the mirrored runs of host ``name`` are: one folder per run, as in the local runs folder."""
    return host_dir(name) / HOST_RUNS_FOLDER


def mirrored_run(name: str, run_id: str) -> RunDir:
    """The mirror folder of run ``run_id`` of host ``name`` (it may not exist yet)."""
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise ValueError(f"not a run id: {run_id!r}")
    return RunDir(host_runs_dir(name) / run_id)


@dataclass
class Connection:
    """What connection.json holds: the state of the connection to one host, since when, and
    what the far side said of itself (its version, its GPUs)."""

    state: str = CONNECTING
    since: str = ""  # ISO 8601, UTC
    message: str = ""
    far_version: str | None = None
    gpus: list[dict[str, Any]] = field(default_factory=list)

    def since_local(self) -> str:
        """``since`` as this machine's HH:MM (what "unreachable since 14:05" shows), or ""."""
        try:
            return datetime.fromisoformat(self.since).astimezone().strftime("%H:%M")
        except ValueError:
            return ""


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def connection_path(name: str) -> Path:
    return host_dir(name) / "connection.json"


def write_connection(name: str, connection: Connection) -> None:
    atomic_write_bytes(connection_path(name), json.dumps(asdict(connection)).encode("utf-8"), durable=False)


def read_connection(name: str) -> Connection | None:
    """The last connection state written for host ``name`` (None: never connected or unreadable)."""
    try:
        data = json.loads(connection_path(name).read_bytes())
        return Connection(**{k: v for k, v in data.items() if k in Connection.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return None


def write_status(run: RunDir, host: str, status: dict[str, Any]) -> None:
    """Mirror the far status ``status`` (its ``state`` the one the far side shows), naming the host;
    a live run's lock file is touched, standing for the far side's heartbeat."""
    data = {**status, "host": host}
    encoded = json.dumps(data, allow_nan=True).encode("utf-8")
    run.path.mkdir(parents=True, exist_ok=True)
    try:
        same = run.status_path.read_bytes() == encoded
    except OSError:
        same = False
    if not same:
        atomic_write_bytes(run.status_path, encoded, durable=False)
    if data.get("state") in LIVE_STATES:
        touch_heartbeat(run)


def touch_heartbeat(run: RunDir) -> None:
    """The far side answered for this live run now: its mirror is not stale."""
    lock = run.path / LOCK_NAME
    try:
        os.utime(lock)
    except FileNotFoundError:
        lock.touch()


def write_config(run: RunDir, text: str) -> None:
    if not run.config_path.exists() or run.config_path.read_text(encoding="utf-8") != text:
        atomic_write_bytes(run.config_path, text.encode("utf-8"), durable=False)


def metrics_size(run: RunDir) -> int:
    """How many bytes of the far metrics.jsonl the mirror holds: where its stream resumes."""
    try:
        return run.metrics_path.stat().st_size
    except FileNotFoundError:
        return 0


def append_metrics(run: RunDir, offset: int, data: bytes) -> bool:
    """Append ``data`` (whole lines) read at byte ``offset`` of the far file; False (nothing
    written) when the mirror does not end at ``offset``: the stream is out of step and restarts."""
    run.path.mkdir(parents=True, exist_ok=True)
    with run.metrics_path.open("ab") as handle:
        if handle.tell() != offset:
            return False
        handle.write(data)
        handle.flush()
    return True


def apply_metrics_record(run: RunDir, record: dict[str, Any]) -> str | None:
    """Bring the far side's word on the run's metrics (a record of ``logs --json``, see
    :func:`workbench.hosts.far.stream_metrics`) into the mirror; the run's state when the
    record says its metrics are all sent. Raises ValueError when the mirror is out of step."""
    if "at" in record and isinstance(record.get("data"), str):
        data = record["data"].encode("utf-8", errors="surrogateescape")
        if not append_metrics(run, int(record["at"]), data):
            raise ValueError(f"{run.id}: the mirrored metrics end at {metrics_size(run)}, not at {record['at']}")
    elif "restart" in record:
        restart_metrics(run)
    elif "end" in record:
        return str(record["end"])
    return None


def restart_metrics(run: RunDir) -> None:
    """Forget the mirrored metrics (the far file was replaced or shortened): they are fetched again."""
    run.metrics_path.unlink(missing_ok=True)


def mirrored_ids(name: str) -> set[str]:
    try:
        return {entry.name for entry in os.scandir(host_runs_dir(name)) if entry.is_dir() and not entry.name.startswith(".")}
    except FileNotFoundError:
        return set()


def forget_run(name: str, run_id: str) -> None:
    """The run was deleted on its host: its mirror goes too."""
    shutil.rmtree(mirrored_run(name, run_id).path, ignore_errors=True)
