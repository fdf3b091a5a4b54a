"""Sweeps on disk: a folder per sweep, its points queued as ordinary runs.

```
<data dir>/sweeps/<sweep id>/sweep.toml   the base experiment and its [sweep] table: the
                                          sweep as a file (`workbench train sweep.toml` runs it again)
                            /sweep.json   its points (number, values, queue entry), its notify
                                          target, and when it ended (the feeder stamps it)
```

:func:`start_sweep` plans every point (each validated: one invalid point and nothing starts),
writes the folder, puts the points in the queue and makes sure a feeder is starting them. Each
point's run records the sweep's id in its status (``sweep``), so a sweep's runs are found by
reading the runs, and a sweep is queued, running or ended by what its runs and entries say.
Torch-free.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.atomic import atomic_write_bytes
from workbench.errors import WorkbenchError
from workbench.experiment.sweep_points import SweepPoint, plan_points
from workbench.paths import data_dir
from workbench.runs.folder import RunDir
from workbench.runs.liveness import shown_state
from workbench.runs.status import LIVE_STATES, RunStatus
from workbench.runs.store import CREATING_PREFIX, new_run_id, remove_abandoned_creations, runs_with_status
from workbench.scheduling import queue
from workbench.schema.config import RunConfig
from workbench.schema.sweep import SweepSpec, dumps_sweep, read_sweep_file

META = "sweep.json"
SPEC = "sweep.toml"
QUEUED, RUNNING, ENDED = "queued", "running", "ended"


class SweepNotFoundError(WorkbenchError):
    """A SWEEP argument matches no sweep, or more than one."""


def sweeps_dir() -> Path:
    return data_dir() / "sweeps"


@dataclass(frozen=True)
class SweepDir:
    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def spec_path(self) -> Path:
        return self.path / SPEC

    @property
    def meta_path(self) -> Path:
        return self.path / META

    def read_meta(self) -> dict[str, Any]:
        """sweep.json; a missing or damaged one reads as an empty sweep (named by :func:`sweep_problem`)."""
        try:
            data = json.loads(self.meta_path.read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def read_spec(self) -> tuple[RunConfig, SweepSpec | None]:
        return read_sweep_file(self.spec_path)

    def mark_ended(self, text: str) -> None:
        """Stamp the sweep as ended, with the line that tells how (the app's toast reads it)."""
        self.update_meta(ended_ts=time.time(), ended_text=text)

    def update_meta(self, **changes: Any) -> None:
        atomic_write_bytes(self.meta_path, json.dumps(self.read_meta() | changes, indent=1).encode("utf-8"))


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep stands, from its runs and its queued entries."""

    sweep: SweepDir
    name: str
    points: int
    queued: int
    runs: list[tuple[RunDir, RunStatus, str]] = field(default_factory=list)  # run, status, state shown

    @property
    def live(self) -> int:
        return sum(state in LIVE_STATES for _, _, state in self.runs)

    @property
    def state(self) -> str:
        if self.live:
            return RUNNING
        return QUEUED if self.queued else ENDED

    def text(self) -> str:
        """``4 points: 1 queued, 1 running, 2 ended``."""
        ended = len(self.runs) - self.live
        parts = [f"{n} {word}" for n, word in ((self.queued, "queued"), (self.live, "running"), (ended, "ended")) if n]
        cancelled = self.points - self.queued - len(self.runs)
        if cancelled > 0 and not self.queued:
            parts.append(f"{cancelled} cancelled")
        return f"{self.points} points: " + ", ".join(parts or ["none started"])


def start_sweep(
    base: RunConfig, spec: SweepSpec, *, notify: str = "", device: str = "", parallel: int | None = None
) -> tuple[SweepDir, list[SweepPoint]]:
    """Validate every point, write the sweep's folder, queue the points, start a feeder."""
    points = plan_points(base, spec)
    sweep = create_sweep(base, spec, points, notify=notify, device=device)
    _queue_points(sweep, points, device)
    if parallel is not None:
        queue.write_settings(parallel=parallel)
    queue.ensure_feeder()
    return sweep, points


def _queue_points(sweep: SweepDir, points: list[SweepPoint], device: str) -> None:
    """Queue the sweep's points, then mark them all queued (until then, :func:`queue_lost_points`
    queues those a killed ``--sweep`` command did not)."""
    for point in points:
        queue.enqueue(
            point.config,
            entry_id=point_entry_id(sweep.id, point.number),
            sweep=sweep.id,
            point=point.number,
            label=point.label(),
            device=device,
        )
    sweep.update_meta(queueing=None)


def queue_lost_points() -> list[str]:
    """Queue the points that the command which started a sweep did not, having been killed
    while it queued them; returns their entry ids. Its sweep.json says ``queueing`` (that
    command's process and host) until every point is queued: a sweep queued whole, or made
    before this was recorded, is left alone (a point missing there was cancelled), and so is one
    whose command still runs. A point already queued, claimed, set aside, or with a run is never
    queued again, so each runs once. The queue's feeder does this when it starts."""
    queued: list[str] = []
    for sweep in all_sweeps():
        meta = sweep.read_meta()
        queueing = meta.get("queueing")
        if not isinstance(queueing, dict) or _still_queueing(queueing):
            continue
        base, spec = sweep.read_spec()
        if spec is None:
            continue
        known = queue.known_entry_ids()
        lost = [
            p for p in plan_points(base, spec) if point_entry_id(sweep.id, p.number) not in known
        ]  # the spec's seed: the same points
        _queue_points(sweep, lost, str(meta.get("device", "")))
        queued += [point_entry_id(sweep.id, p.number) for p in lost]
    return queued


def _still_queueing(queueing: dict[str, Any]) -> bool:
    """True while the command that queues a sweep's points may still be at it."""
    pid = queueing.get("pid")
    if queueing.get("host") != socket.gethostname() or not isinstance(pid, int):
        return True  # another machine's command: only it knows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def point_entry_id(sweep_id: str, number: int) -> str:
    return f"{sweep_id}-p{number:03d}"


def create_sweep(base: RunConfig, spec: SweepSpec, points: list[SweepPoint], *, notify: str = "", device: str = "") -> SweepDir:
    """A new sweep folder; its id sorts by time and says what it sweeps (``...-digits-mlp-sweep``).
    Built under a hidden name and renamed into place whole, as a run's folder is: a command killed
    meanwhile never leaves a sweep without its files (which would never end)."""
    root = sweeps_dir()
    root.mkdir(parents=True, exist_ok=True)
    created = time.time()
    stem = new_run_id(f"{base.name} sweep" if base.name else "sweep", created)  # never a run's id
    remove_abandoned_creations(root)
    building = Path(tempfile.mkdtemp(prefix=f"{CREATING_PREFIX}{stem}-{os.getpid()}-", dir=root))
    try:
        atomic_write_bytes(building / SPEC, dumps_sweep(base, spec).encode("utf-8"))
        for attempt in range(1, 1000):
            sweep_id = stem if attempt == 1 else f"{stem}-{attempt}"
            meta = {
                "version": 1,
                "id": sweep_id,
                "name": base.name,
                "created_ts": created,
                "axes": [axis.text() for axis in spec.axes],
                "grid": spec.is_grid,
                "halving": list(spec.halving),
                "notify": notify,
                "device": device,
                "points": [{"number": p.number, "values": p.values, "entry": point_entry_id(sweep_id, p.number)} for p in points],
                "ended_ts": None,
                "queueing": {"pid": os.getpid(), "host": socket.gethostname()},  # until every point is queued
            }
            atomic_write_bytes(building / META, json.dumps(meta, indent=1).encode("utf-8"))
            try:
                os.rename(building, root / sweep_id)  # atomic; refused if that name is taken meanwhile
            except OSError:
                if (root / sweep_id).exists():
                    continue
                raise
            return SweepDir(root / sweep_id)
        raise WorkbenchError(f"{root}: cannot create a new sweep folder for {stem}")  # pragma: no cover
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def all_sweeps() -> list[SweepDir]:
    """Every sweep folder, oldest first."""
    try:
        entries = [e for e in os.scandir(sweeps_dir()) if e.is_dir() and not e.name.startswith(".")]
    except FileNotFoundError:
        return []
    return sorted((SweepDir(Path(e.path)) for e in entries), key=lambda s: s.id)


def find_sweep(ref: str) -> SweepDir:
    """A sweep by full id, a unique prefix of one, or ``latest``."""
    ref = ref.strip()
    sweeps = all_sweeps()
    if not sweeps:
        raise SweepNotFoundError("no sweeps yet; start one with `workbench train PRESET --sweep optimizer.lr=0.001,0.01`")
    if ref == "latest":
        return sweeps[-1]
    exact = [s for s in sweeps if s.id == ref]
    matches = exact or [s for s in sweeps if ref and s.id.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise SweepNotFoundError(f"no sweep matches {ref!r}; see `workbench sweep list`")
    raise SweepNotFoundError(f"{ref!r} matches {len(matches)} sweeps; give more of the id")


def sweep_progress(
    sweep: SweepDir, listing: queue.QueueListing | None = None, runs: list[tuple[RunDir, RunStatus]] | None = None
) -> SweepProgress:
    """The sweep's runs (by point) and its queued entries; ``listing``, ``runs``: already read."""
    meta = sweep.read_meta()
    listing = queue.read_queue() if listing is None else listing
    runs = runs_with_status() if runs is None else runs
    mine = sorted(((r, s) for r, s in runs if s.sweep == sweep.id), key=lambda pair: (pair[1].queue_entry, pair[0].id))
    return SweepProgress(
        sweep,
        name=str(meta.get("name", "")),
        points=len(meta.get("points", [])),
        queued=sum(e.sweep == sweep.id for e in listing.entries),
        runs=[(r, s, shown_state(r.path, s)) for r, s in mine],
    )


def sweep_problem(sweep: SweepDir) -> str:
    """Why the sweep's folder cannot be read, or "" when it can."""
    if not sweep.read_meta():
        return f"{sweep.meta_path}: missing or damaged"
    return ""


def endings_since(since: float) -> list[tuple[str, str]]:
    """(title, text) of every sweep that ended after ``since`` (seconds since the epoch), and of
    the queue if it ran dry since: what the app tells with a toast and the bell."""
    said = []
    for sweep in all_sweeps():
        meta = sweep.read_meta()
        ended = meta.get("ended_ts")
        if isinstance(ended, int | float) and ended > since:
            said.append((f"Sweep {sweep.id} ended", str(meta.get("ended_text", ""))))
    try:
        dry = json.loads((queue.queue_dir() / queue.ENDED_FILE).read_bytes())
    except (OSError, ValueError):
        dry = None
    if isinstance(dry, dict) and isinstance(dry.get("ended_ts"), int | float) and dry["ended_ts"] > since:
        said.append(("The queue has run dry", str(dry.get("text", ""))))
    return said
