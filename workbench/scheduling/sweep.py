"""Sweeps on disk: a folder per sweep, its points queued as ordinary runs.

```
<data dir>/sweeps/<sweep id>/sweep.toml   the base experiment and its [sweep] table: the
                                          sweep as a file (`workbench train sweep.toml` runs it again)
                            /sweep.json   its points (number, values, queue entry), its notify
                                          target, its study's storage, and when it ended (the
                                          feeder stamps it)
                            /study.log    its Optuna study (a journal file), unless --storage
                                          keeps it in a database (scheduling/sweep_study.py)
                            /trials.json  each queue entry's trial number (the feeder's)
```

:func:`start_sweep` plans every point (each validated: one invalid point and nothing starts),
writes the folder, creates the sweep's study (the planned points waiting in it), puts the points
in the queue and makes sure a feeder is starting them; a learning sampler's points are queued as
entries the study fills in when the feeder starts them. :func:`join_sweep` makes the folder of a
sweep another machine started, from its study (``workbench sweep work``). Each
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
from workbench.experiment.sweep_points import SweepPoint, checked_base, plan_points, point_count
from workbench.paths import data_dir
from workbench.runs.folder import RunDir
from workbench.runs.liveness import shown_state
from workbench.runs.status import LIVE_STATES, RunStatus
from workbench.runs.store import CREATING_PREFIX, new_run_id, remove_abandoned_creations, runs_with_status
from workbench.scheduling import queue
from workbench.schema.config import RunConfig
from workbench.schema.sweep import SweepSpec, dumps_sweep, read_sweep_file, read_sweep_text

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

    @property
    def storage(self) -> str:
        """The URL of the database its study is in, or "" (the journal file in its folder)."""
        return str(self.read_meta().get("storage", ""))

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
    shared: bool = False  # its study is in a database other machines' queues feed too

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
            parts.append(f"{cancelled} {'on other machines or cancelled' if self.shared else 'cancelled'}")
        return f"{self.points} points: " + ", ".join(parts or ["none started"])


def start_sweep(
    base: RunConfig, spec: SweepSpec, *, notify: str = "", device: str = "", parallel: int | None = None, storage: str = ""
) -> tuple[SweepDir, list[SweepPoint]]:
    """Validate every point, write the sweep's folder and its study (in the database at
    ``storage``, else in the folder), queue the points, start a feeder."""
    points = plan_points(base, spec)
    if storage:
        from workbench.scheduling.sweep_study import storage_of

        storage_of(sweeps_dir(), storage)  # a database out of reach is one line, before any folder
    sweep = create_sweep(base, spec, points, notify=notify, device=device, storage=storage)
    try:
        make_study(sweep)
    except WorkbenchError:
        shutil.rmtree(sweep.path, ignore_errors=True)  # nothing queued yet: no sweep
        raise
    _queue_points(sweep, _slots(sweep, spec, points), device)
    if parallel is not None:
        queue.write_settings(parallel=parallel)
    queue.ensure_feeder()
    return sweep, points


def join_sweep(sweep_id: str, storage: str, *, device: str = "") -> SweepDir:
    """This home's folder of a sweep whose study is in the database at ``storage`` (made from the
    sweep's file the study keeps, once), its points queued here as entries the study fills in."""
    from workbench.scheduling.sweep_study import load_sweep_file

    existing = sweeps_dir() / sweep_id
    if (existing / META).exists():
        sweep = SweepDir(existing)
    else:
        base, spec = read_sweep_text(load_sweep_file(sweep_id, storage), f"study {sweep_id}")
        if spec is None:
            raise WorkbenchError(f"study {sweep_id}: its sweep file has no [sweep] table")
        checked_base(base, spec)
        sweep = create_sweep(base, spec, [], device=device, storage=storage, joined_id=sweep_id)
    spec = sweep.read_spec()[1]
    if spec is None:
        raise WorkbenchError(f"{sweep.spec_path}: no [sweep] table")
    known = queue.known_entry_ids()
    slots = [p for p in _slots(sweep, spec, []) if point_entry_id(sweep.id, p.number) not in known]
    _queue_points(sweep, slots, device)
    sweep.update_meta(ended_ts=None)  # fed again here
    return sweep


def make_study(sweep: SweepDir) -> None:
    """Create the sweep's study, once (a study already made is left as it is)."""
    from workbench.scheduling.sweep_study import create_study

    base, spec = sweep.read_spec()
    if spec is None:
        return
    meta = sweep.read_meta()
    planned = [p["values"] for p in meta.get("points", []) if isinstance(p, dict) and isinstance(p.get("values"), dict)]
    monitor = str(meta.get("monitor") or base.train.checkpoint.monitor)
    create_study(sweep.path, sweep.id, spec, monitor, sweep.storage, planned, sweep.spec_path.read_text(encoding="utf-8"))


def _slots(sweep: SweepDir, spec: SweepSpec, points: list[SweepPoint]) -> list[SweepPoint]:
    """The entries to queue: the planned points, or (a learning sampler's sweep, or one joined
    from another machine) as many entries as the sweep has points, each holding the base
    experiment until the study gives it its point (number 0 in the queue: any point)."""
    from workbench.scheduling.sweep_study import budget

    if points:
        return points
    base = checked_base(sweep.read_spec()[0], spec)[0]
    return [SweepPoint(number, {}, base) for number in range(1, budget(spec) + 1)]


def _queue_points(sweep: SweepDir, points: list[SweepPoint], device: str) -> None:
    """Queue the sweep's points, then mark them all queued (until then, :func:`queue_lost_points`
    queues those a killed ``--sweep`` command did not). A point without values is a slot the
    study fills in when it starts (its queue entry names no point)."""
    sampler = read_sampler(sweep)
    for point in points:
        queue.enqueue(
            point.config,
            entry_id=point_entry_id(sweep.id, point.number),
            sweep=sweep.id,
            point=point.number if point.values else 0,
            label=point.label() if point.values else f"a point the {sampler} sampler draws",
            device=device,
        )
    sweep.update_meta(queueing=None)


def read_sampler(sweep: SweepDir) -> str:
    return str(sweep.read_meta().get("sampler", "grid"))


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
        try:
            make_study(sweep)  # the command may have been killed before it made it
        except WorkbenchError:
            continue  # its database out of reach: its points are queued by a feeder started later
        known = queue.known_entry_ids()
        lost = [
            p for p in _slots(sweep, spec, plan_points(base, spec)) if point_entry_id(sweep.id, p.number) not in known
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


def create_sweep(
    base: RunConfig,
    spec: SweepSpec,
    points: list[SweepPoint],
    *,
    notify: str = "",
    device: str = "",
    storage: str = "",
    joined_id: str = "",
) -> SweepDir:
    """A new sweep folder; its id sorts by time and says what it sweeps (``...-digits-mlp-sweep``),
    or is ``joined_id`` (another machine's sweep, joined). Built under a hidden name and renamed
    into place whole, as a run's folder is: a command killed meanwhile never leaves a sweep
    without its files (which would never end)."""
    root = sweeps_dir()
    root.mkdir(parents=True, exist_ok=True)
    created = time.time()
    stem = joined_id or new_run_id(f"{base.name} sweep" if base.name else "sweep", created)  # never a run's id
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
                "sampler": spec.sampler_name,
                "pruner": spec.pruner_name,
                "monitor": base.train.checkpoint.monitor,
                "storage": storage,
                "joined": bool(joined_id),  # started on another machine: its study's points
                "halving": list(spec.halving),
                "notify": notify,
                "device": device,
                "count": point_count(spec),  # its points, planned or drawn as it runs
                "points": [{"number": p.number, "values": p.values, "entry": point_entry_id(sweep_id, p.number)} for p in points],
                "ended_ts": None,
                "queueing": {"pid": os.getpid(), "host": socket.gethostname()},  # until every point is queued
            }
            atomic_write_bytes(building / META, json.dumps(meta, indent=1).encode("utf-8"))
            try:
                os.rename(building, root / sweep_id)  # atomic; refused if that name is taken meanwhile
            except OSError:
                if (root / sweep_id).exists():
                    if joined_id:
                        shutil.rmtree(building, ignore_errors=True)
                        return SweepDir(root / sweep_id)  # joined meanwhile by another command here
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
        points=int(meta.get("count") or len(meta.get("points", []))),
        queued=sum(e.sweep == sweep.id for e in listing.entries),
        runs=[(r, s, shown_state(r.path, s)) for r, s in mine],
        shared=bool(meta.get("storage")),
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
