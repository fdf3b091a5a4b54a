"""A run's status.json as a typed, versioned record, read defensively.

The training process is the only writer (through the engine's recorder); every other process
reads. A field of the wrong type (a hand edit, a file from another version) falls back to its
default and is named in :attr:`RunStatus.problems`, so one damaged file shows as damaged and
never breaks a listing of the others.

States written: ``starting`` (the folder exists, its process has not taken the run's lock yet),
``running``, ``paused``, ``finished``, ``stopped``, ``failed``, ``pruned`` (a sweep's point its
pruner stopped: stopped with a checkpoint, resumable by hand). States only shown:
``interrupted`` (a live state whose process is gone: see :mod:`workbench.runs.liveness`) and
``stale`` (a live state on another host whose heartbeat stopped).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Bumped when a field changes meaning; a newer file is still read, field by field.
STATUS_VERSION = 1

STARTING, RUNNING, PAUSED = "starting", "running", "paused"
FINISHED, STOPPED, FAILED = "finished", "stopped", "failed"
INTERRUPTED, STALE = "interrupted", "stale"
#: A sweep's point stopped early by its pruner (the queue's feeder writes :data:`PRUNE_MARK` in
#: the run's folder, then asks it to stop; the run records ``pruned`` instead of ``stopped``).
PRUNED = "pruned"
PRUNE_MARK = "prune.json"
#: States in which a process owns the run (or is about to).
LIVE_STATES = (STARTING, RUNNING, PAUSED)


def now_iso(when: float | None = None) -> str:
    """The local time ``when`` (seconds since the epoch; default now) as ISO 8601, to the second."""
    moment = datetime.now() if when is None else datetime.fromtimestamp(when)
    return moment.astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class RunStatus:
    """Everything status.json records; ``problems`` lists fields that could not be read."""

    version: int = STATUS_VERSION
    id: str = ""
    name: str = ""
    dataset: str = ""
    task: str = ""
    state: str = "unknown"
    outcome: str = ""  # how a finished run ended: finished, early_stopped, stopped
    message: str = ""  # why a run failed, in one line
    pid: int | None = None
    host: str = ""
    created_at: str = ""
    created_ts: float = 0.0
    launched_ts: float = 0.0  # when a process was last started for it (the ``starting`` grace counts from here)
    # Its launcher held the run's lock from the start and handed it to the training process, so
    # ``starting`` without the lock means no process will come (else, torchrun's workers take the
    # lock themselves: a grace of START_GRACE_S, see runs/liveness.py).
    lock_handed: bool = False
    started_at: str = ""
    ended_at: str = ""
    updated_at: str = ""
    epochs: int = 0
    epochs_done: int = 0
    num_params: int | None = None
    device: str = ""
    monitor: str = ""
    best_value: float | None = None
    best_epoch: int = 0
    last_train: dict[str, float] = field(default_factory=dict)
    last_val: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)
    test_checkpoint: str = ""
    train_seconds: float = 0.0
    sweep: str = ""  # the sweep this run is a point of (its id), if any
    queue_entry: str = ""  # the queue entry this run was started from, if it waited in the queue
    problems: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Any) -> RunStatus:
        """Read what a file holds; each unreadable field keeps its default and is named."""
        if not isinstance(data, dict):
            return cls(problems=("status.json does not hold a JSON object",))
        values: dict[str, Any] = {}
        problems = []
        for spec in dataclasses.fields(cls):
            if spec.name == "problems" or spec.name not in data or data[spec.name] is None:
                continue
            annotation = str(spec.type)  # a string: this module postpones its annotations
            value = _coerce(data[spec.name], annotation)
            if value is _BAD:
                problems.append(f"status.json: {spec.name} is {data[spec.name]!r}, not {_TYPE_WORDS[annotation]}")
            else:
                values[spec.name] = value
        return cls(**values, problems=tuple(problems))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        del data["problems"]
        return data

    def to_json(self) -> bytes:
        return (json.dumps(self.to_dict(), indent=2, allow_nan=True) + "\n").encode("utf-8")

    def changed(self, **changes: Any) -> RunStatus:
        """A copy with ``changes``, stamped with the time and the current format version."""
        return dataclasses.replace(self, **changes, version=STATUS_VERSION, updated_at=now_iso())


_BAD = object()
_TYPE_WORDS = {
    "int": "an integer",
    "int | None": "an integer",
    "str": "text",
    "float": "a number",
    "float | None": "a number",
    "dict[str, float]": "a table of numbers",
    "bool": "true or false",
}


def _coerce(value: Any, annotation: str) -> Any:
    """``value`` as the annotated type, or ``_BAD``. JSON has no int/float split: 3 reads as 3.0."""
    if annotation in ("int", "int | None"):
        return value if isinstance(value, int) and not isinstance(value, bool) else _BAD
    if annotation in ("float", "float | None"):
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _BAD
    if annotation == "str":
        return value if isinstance(value, str) else _BAD
    if annotation == "bool":
        return value if isinstance(value, bool) else _BAD
    if annotation == "dict[str, float]":
        if isinstance(value, dict) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()):
            return {str(k): float(v) for k, v in value.items()}
        return _BAD
    return _BAD  # pragma: no cover - every field's annotation is listed above
