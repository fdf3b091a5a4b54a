"""What a run has reported so far, kept as the series, rows and log lines the app draws.

Every view of a run reads the events its training process recorded in metrics.jsonl (turned
back into event objects by :func:`event_from_record`): the Train screen following a live run,
the Runs screen and the compare view showing past ones, ``workbench logs``. So they are all
drawn from the same data by the same code. Each event also becomes at most one line of the
run's log, in plain words (:class:`LogLine`); ``workbench logs`` prints those same lines.

Neither Textual nor torch is imported here: tests feed events straight in. Figures are written
by ``metrics_text``, so the app and ``workbench eval`` print the same numbers.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.formatting import count, counted, duration, metrics_text, rate, short_number
from workbench.runs import events as ev

#: Every event type the engine writes, by the name metrics.jsonl records it under.
EVENT_TYPES: dict[str, type[ev.Event]] = {
    cls.record_name(): cls
    for cls in (
        ev.RunStarted,
        ev.Progress,
        ev.EpochEnded,
        ev.CheckpointSaved,
        ev.StateChanged,
        ev.RunWarning,
        ev.RunFinished,
        ev.RunFailed,
    )
}


#: The key under which the recorder writes each event's wall-clock time (seconds since the epoch).
TIME_KEY = "time"


def event_from_record(record: dict[str, Any]) -> ev.Event | None:
    """The event a metrics.jsonl line recorded; None for a line this version cannot read."""
    cls = EVENT_TYPES.get(str(record.get("event")))
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    values = {key: value for key, value in record.items() if key in names}
    if "kinds" in values:
        values["kinds"] = tuple(values["kinds"])
    try:
        return cls(**values)
    except TypeError:  # written by another version, without a field this one needs
        return None


#: An event with the wall-clock time its recorder wrote it (None in older logs).
TimedEvent = tuple[ev.Event, float | None]


def timed_events(records: list[dict[str, Any]]) -> list[TimedEvent]:
    """The events of metrics.jsonl records with their times; records this version cannot read are skipped."""
    found: list[TimedEvent] = []
    for record in records:
        event = event_from_record(record)
        if event is not None:
            when = record.get(TIME_KEY)
            found.append((event, float(when) if isinstance(when, (int, float)) and not isinstance(when, bool) else None))
    return found


#: How a log line of each level is shown, as a Rich style name (the levels not named are
#: plain): `workbench logs` and the app's log box show a run's lines alike.
LEVEL_STYLES = {"good": "bold green", "warning": "yellow", "error": "bold red"}


@dataclass(frozen=True)
class LogLine:
    """One line of a run's log: ``level`` is info, epoch, saved (a checkpoint), good, warning or
    error; ``when`` the wall-clock time of its event, where recorded."""

    level: str
    text: str
    when: float | None = None

    @property
    def stamp(self) -> str:
        """``14:03:09 ``: the local time of its event, or "" where none was recorded."""
        return time.strftime("%H:%M:%S ", time.localtime(self.when)) if self.when is not None else ""

    @property
    def style(self) -> str:
        return LEVEL_STYLES.get(self.level, "")


@dataclass
class StepPoint:
    """A Progress report placed on the epoch axis (epoch 2, half done: x = 1.5)."""

    x: float
    loss: float
    lr: float
    #: The report itself (its step numbers, accuracy and speed), for exports.
    source: ev.Progress | None = None


@dataclass
class RunHistory:
    """Everything a run has reported, in order; :meth:`add` takes one event at a time."""

    started: ev.RunStarted | None = None
    progress: ev.Progress | None = None
    steps: list[StepPoint] = field(default_factory=list)
    epochs: list[ev.EpochEnded] = field(default_factory=list)
    checkpoints: list[ev.CheckpointSaved] = field(default_factory=list)
    finished: ev.RunFinished | None = None
    failed: ev.RunFailed | None = None
    #: What the run has said, in plain words, oldest first.
    log: list[LogLine] = field(default_factory=list)
    #: starting, running, paused, finished, stopped, early_stopped or failed
    state: str = "starting"
    #: Events seen since the history was made: the app redraws when it changes.
    version: int = 0

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> RunHistory:
        """The history of a run as its metrics.jsonl recorded it."""
        return cls.from_events(timed_events(records))

    @classmethod
    def from_events(cls, events: list[TimedEvent]) -> RunHistory:
        history = cls()
        for event, when in events:
            history.add(event, when)
        return history

    # ------------------------------------------------------------------ facts

    @property
    def task(self) -> str:
        return self.started.task if self.started else "classification"

    @property
    def metric(self) -> str:
        """The per-epoch metric drawn next to the loss: accuracy, or the mean absolute error."""
        return "acc" if self.task == "classification" else "mae"

    @property
    def total_epochs(self) -> int:
        if self.epochs:
            return max(self.epochs[-1].epochs, self.started.epochs if self.started else 0)
        return self.started.epochs if self.started else 0

    @property
    def run_id(self) -> str:
        return self.started.run_id if self.started else ""

    @property
    def position(self) -> float:
        """How far the run is, in epochs (2.5 = half-way through the third epoch)."""
        if self.progress is not None and (not self.epochs or self.progress.epoch > self.epochs[-1].epoch):
            return self.progress.epoch - 1 + self.progress.step / max(1, self.progress.steps_per_epoch)
        return float(self.epochs[-1].epoch) if self.epochs else 0.0

    @property
    def current_epoch(self) -> int:
        """The epoch being trained (the last one, once the run is over)."""
        done = self.epochs[-1].epoch if self.epochs else 0
        if self.progress_is_current:
            return self.progress.epoch  # type: ignore[union-attr]
        return max(1, min(done + 1, self.total_epochs)) if self.total_epochs else done

    @property
    def latest_loss(self) -> float | None:
        """The newest training loss reported: of the last Progress, else of the last epoch."""
        if self.progress_is_current:
            return self.progress.loss  # type: ignore[union-attr]
        return self.epochs[-1].train.get("loss") if self.epochs else None

    @property
    def progress_is_current(self) -> bool:
        """The last Progress came after the last epoch's end (short epochs end between reports)."""
        return self.progress is not None and (not self.epochs or self.progress.epoch > self.epochs[-1].epoch)

    def _session_epochs(self) -> list[ev.EpochEnded]:
        start = self.started.start_epoch if self.started else 1
        return [e for e in self.epochs if e.epoch >= start]

    @property
    def elapsed_s(self) -> float:
        """The run's training time so far (pauses excluded; every session of it), from the newest report."""
        if self.finished is not None:
            return self.finished.duration_s
        if self.progress_is_current:
            return self.progress.elapsed_s  # type: ignore[union-attr]
        return sum(e.duration_s for e in self.epochs)

    @property
    def eta_s(self) -> float | None:
        """Time left, from the newest report; None once the run is over or before any report."""
        if self.is_over:
            return None
        if self.progress_is_current:
            return self.progress.eta_s  # type: ignore[union-attr]
        done = self._session_epochs()
        if not done:
            return None
        return sum(e.duration_s for e in done) / len(done) * max(0, self.total_epochs - done[-1].epoch)

    @property
    def samples_per_s(self) -> float | None:
        if self.progress_is_current:
            return self.progress.samples_per_s  # type: ignore[union-attr]
        return self.epochs[-1].samples_per_s if self.epochs else None

    @property
    def last_epoch(self) -> ev.EpochEnded | None:
        """The last epoch record: it carries the best value and epoch of the monitor so far."""
        return self.epochs[-1] if self.epochs else None

    @property
    def is_over(self) -> bool:
        return self.state in ("finished", "stopped", "early_stopped", "failed")

    # ------------------------------------------------------------------ events

    def add(self, event: ev.Event, when: float | None = None) -> LogLine | None:
        """Take one event (``when`` it happened, if known); returns the log line it added, if any."""
        self.version += 1
        line = self._take(event)
        if line is not None:
            line = LogLine(line.level, line.text, when)
            self.log.append(line)
        return line

    def _take(self, event: ev.Event) -> LogLine | None:
        if isinstance(event, ev.RunStarted):
            return self._started(event)
        if isinstance(event, ev.Progress):
            self.progress = event
            self.state = "running" if self.state == "starting" else self.state
            x = event.epoch - 1 + event.step / max(1, event.steps_per_epoch)
            if math.isfinite(event.loss):
                self.steps.append(StepPoint(x, event.loss, event.lr, event))
            return None
        if isinstance(event, ev.EpochEnded):
            # An epoch logged before a crash and trained again on resume is recorded once.
            self.epochs = [e for e in self.epochs if e.epoch < event.epoch] + [event]
            return LogLine("epoch", epoch_line(event, self.task))
        if isinstance(event, ev.CheckpointSaved):
            self.checkpoints.append(event)
            return LogLine("saved", checkpoint_text(event))
        if isinstance(event, ev.StateChanged):
            self.state = event.state
            where = f"epoch {event.epoch}, step {event.step}"
            return LogLine("info", f"Paused at {where}" if event.state == "paused" else f"Running again from {where}")
        if isinstance(event, ev.RunWarning):
            return LogLine("warning", event.message)
        if isinstance(event, ev.RunFinished):
            self.finished, self.state = event, event.state
            return LogLine("good" if event.state != "stopped" else "info", finished_text(event, self.run_id))
        if isinstance(event, ev.RunFailed):
            self.failed, self.state = event, "failed"
            return LogLine("error", f"Training failed: {event.message}")
        return None

    def _started(self, event: ev.RunStarted) -> LogLine:
        resumed = event.start_epoch > 1 or event.start_step > 0
        if resumed:
            # Anything recorded after the checkpoint it resumes from is trained again.
            resume_x = event.start_epoch - 1 + event.start_step / max(1, event.steps_per_epoch)
            self.steps = [p for p in self.steps if p.x <= resume_x]
            self.epochs = [e for e in self.epochs if e.epoch < event.start_epoch]
        else:
            self.steps, self.epochs, self.checkpoints = [], [], []
        self.started, self.progress, self.finished, self.failed = event, None, None, None
        self.state = "running"
        sizes = f"{count(event.train_size)} train, {count(event.val_size)} val, {count(event.test_size)} test samples"
        if event.test_only:
            return LogLine("info", f"Resumed on {event.where} for the final test (its training had ended)")
        if resumed:
            at = f"epoch {event.start_epoch}" + (f", step {event.start_step}" if event.start_step else "")
            return LogLine("info", f"Resumed at {at} on {event.where}")
        return LogLine("info", f"Started on {event.where}: {count(event.num_params)} params; {sizes}")


# ----------------------------------------------------------------------------- plain words


def metric_label(name: str) -> str:
    return {"acc": "accuracy", "top5": "top-5", "mae": "MAE", "mse": "MSE", "r2": "R²", "loss": "loss"}.get(name, name)


def checkpoint_text(event: ev.CheckpointSaved) -> str:
    """``Saved epoch-003.pt, last.pt, best.pt (3 epochs done)``: short enough for a narrow log."""
    files = {"epoch": f"epoch-{event.epoch:03d}.pt", "last": "last.pt", "best": "best.pt"}
    return f"Saved {', '.join(files.get(k, k) for k in event.kinds)} ({counted(event.epoch, 'epoch')} done)"


def epoch_line(event: ev.EpochEnded, task: str) -> str:
    """One epoch in at most 80 columns for up to 999 epochs, so that a terminal of 80 never
    breaks it: ``epoch 3/10  loss 0.4123 acc 0.871  val 0.3311 acc 0.902  lr 7.34e-4  3.5k/s *``.

    Losses to 4 significant digits, the training speed (samples/s, validation excluded), ``*``
    for a new best. A regression epoch with validation shows its training loss alone (its
    validation MAE and R² say more than the training MAE): ``loss 0.4123  val 0.3311 mae 0.902
    r2 0.512``."""
    key = "acc" if task == "classification" else "mae"
    train = f"loss {event.train['loss']:.4g}"
    if task == "classification" or not event.val:
        train += f" {key} {event.train[key]:.3f}"
    parts = [f"epoch {event.epoch}/{event.epochs}", train]
    if event.val:
        val = f"val {event.val['loss']:.4g} {key} {event.val[key]:.3f}"
        parts.append(val + (f" r2 {event.val['r2']:.3f}" if task == "regression" else ""))
    parts += [f"lr {short_number(event.lr)}", rate(event.samples_per_s)]
    return "  ".join(parts) + (" *" if event.is_best else "")


def finished_text(event: ev.RunFinished, run_id: str = "") -> str:
    """How a run ended, in one line: the app's log, ``workbench logs`` and ``workbench train`` say this."""
    if event.state == "stopped":
        return stopped_text(event, run_id)
    source = Path(event.checkpoint).name if event.checkpoint else "the last weights"
    how = "Early stopping" if event.state == "early_stopped" else "Finished"
    return f"{how} after {counted(event.epochs_done, 'epoch')} in {duration(event.duration_s)}: test {metrics_text(event.test)} ({source})"


def stopped_text(event: ev.RunFinished, run_id: str = "") -> str:
    """Exactly where a stopped run stopped, what it keeps and how it goes on: ``Stopped in epoch 2
    at step 17/162; 1 epoch done, checkpoint saved; `workbench resume RUN` continues it``."""
    again = f"workbench resume {run_id}" if run_id else "workbench resume"
    return f"Stopped {stop_point_text(event)}; `{again}` continues it"


def stop_point_text(event: ev.RunFinished) -> str:
    """``in epoch 2 at step 17/162; 1 epoch done, checkpoint saved``: where a stopped run stands
    (the app's Train screen says it after its own "stopped")."""
    if event.step and event.steps_per_epoch:
        where = f"in epoch {event.epoch} at step {event.step}/{event.steps_per_epoch}; "
    elif event.epoch:
        where = f"at the start of epoch {event.epoch}; "
    else:
        where = "with "  # recorded by a version that did not say where
    return f"{where}{counted(event.epochs_done, 'epoch')} done, checkpoint saved"


def failure_text(message: str, log: Path | None) -> str:
    """A failed run in one line: its error (or that none was recorded), then where its process's
    output is, which holds a traceback the error line may not (None: it wrote none, as for a
    ``workbench train`` in a terminal)."""
    reason = message.strip().rstrip(".") or "no error was recorded"
    return f"{reason}. Log: {log}" if log is not None else f"{reason}."
