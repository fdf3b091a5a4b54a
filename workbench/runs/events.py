"""Events the trainer emits; sinks (metrics.jsonl, console, app) subscribe to them.

Small frozen dataclasses of plain values (floats, ints, strings, dicts of floats), so that a
sink can write them as JSON or post them across threads without copying tensors.
Metric dicts use short names: ``loss``, ``acc``, ``top5`` for classification; ``loss``,
``mae``, ``r2`` for regression.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True)
class Event:
    #: The name metrics.jsonl records the event under, when it is not the class's name.
    RECORD_NAME: ClassVar[str] = ""

    @classmethod
    def record_name(cls) -> str:
        return cls.RECORD_NAME or cls.__name__

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the event's kind under ``event``."""
        return {"event": self.record_name(), **dataclasses.asdict(self)}


@dataclass(frozen=True)
class RunStarted(Event):
    run_id: str
    run_dir: str
    name: str
    device: str
    device_name: str
    num_params: int
    epochs: int
    start_epoch: int  # 1-based epoch the run starts at (> 1 when resuming)
    steps_per_epoch: int
    train_size: int
    val_size: int
    test_size: int
    task: str  # "classification" | "regression"
    start_step: int = 0  # steps of start_epoch already done (> 0 when resuming a run stopped mid-epoch)
    workers: int = 1  # processes training it together (torchrun's world size)
    test_only: bool = False  # a resume of a run killed in its final test: only that test is left

    @property
    def where(self) -> str:
        """The device, and how many workers train on such devices: "cuda", "cuda ×4"."""
        return self.device if self.workers == 1 else f"{self.device} ×{self.workers}"


@dataclass(frozen=True)
class Progress(Event):
    """Sent at a bounded rate (a few per second), never once per step."""

    epoch: int
    step: int  # step within the epoch, 1-based
    steps_per_epoch: int
    global_step: int
    loss: float  # mean training loss since the previous Progress
    acc: float | None  # running training accuracy of the epoch (None for regression)
    lr: float
    samples_per_s: float
    elapsed_s: float  # the run's training time so far, pauses excluded, continued across resumes
    eta_s: float  # remaining time of the whole run: its training steps and epoch ends (validation, checkpoints)
    device_memory_gib: float = 0.0  # peak memory the run has allocated on its GPU (0 elsewhere)


@dataclass(frozen=True)
class EpochEnded(Event):
    epoch: int
    epochs: int
    train: dict[str, float]  # {"loss": ..., "acc": ...}
    val: dict[str, float]  # empty when there is no validation split
    lr: float  # the rate the epoch ended with, before a per-epoch schedule steps
    duration_s: float
    samples_per_s: float
    is_best: bool
    best_epoch: int
    best_value: float | None
    monitor: str
    elapsed_s: float = 0.0  # the run's training time at the epoch's end, as Progress.elapsed_s (0 in older logs)


@dataclass(frozen=True)
class CheckpointSaved(Event):
    path: str
    epoch: int
    kinds: tuple[str, ...]  # e.g. ("epoch", "last", "best")


@dataclass(frozen=True)
class StateChanged(Event):
    """The trainer has actually paused or resumed: a pause takes effect between two steps."""

    state: str  # "paused" | "running"
    epoch: int
    step: int  # steps of the epoch done


@dataclass(frozen=True)
class RunWarning(Event):
    """Something the user should know that does not stop the run (named so as not to shadow
    the builtin ``Warning``; recorded under its old name, which every run on disk uses)."""

    RECORD_NAME: ClassVar[str] = "Warning"

    message: str


@dataclass(frozen=True)
class RunFinished(Event):
    state: str  # "finished" | "stopped" | "early_stopped"
    epochs_done: int
    best_epoch: int
    best_value: float | None
    monitor: str
    test: dict[str, float] = field(default_factory=dict)  # test metrics of the chosen checkpoint
    checkpoint: str = ""  # the checkpoint the test metrics came from
    duration_s: float = 0.0  # the run's training time, as Progress.elapsed_s: all its sessions
    # Where it ended: the epoch in progress (or last trained) and its steps done (0 in older logs).
    epoch: int = 0
    step: int = 0
    steps_per_epoch: int = 0


@dataclass(frozen=True)
class RunFailed(Event):
    message: str  # one readable line: what happened, where, and the last good checkpoint
    epoch: int = 0
    step: int = 0
    last_checkpoint: str = ""


class Sink(Protocol):
    """Anything that receives events. Called on the trainer's thread: return quickly."""

    def __call__(self, event: Event) -> None: ...
