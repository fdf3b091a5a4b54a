"""Sinks that keep a run's files current: the metrics log and the status file.

The trainer adds a :class:`RunRecorder` for its run folder; the console view and the app are
other sinks of the same events. Any process can read the files while the run is in progress.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from workbench.engine.loop_state import RunEnd
from workbench.runs import events as ev
from workbench.runs.folder import RunDir, append_record, end_torn_line
from workbench.runs.history import TIME_KEY
from workbench.runs.status import FAILED, FINISHED, PRUNE_MARK, PRUNED, RUNNING, STOPPED, now_iso

#: Progress events are kept in metrics.jsonl at most this often. Anyone following the run live
#: (the app, `workbench logs --follow`) sees them from this file: twice a second keeps a live
#: view current while a long run adds about 2 MB an hour.
PROGRESS_LOG_INTERVAL_S = 0.5


class RunRecorder:
    """Sink that appends events to metrics.jsonl (flushed per line) and keeps status.json current."""

    def __init__(self, run: RunDir) -> None:
        self.run = run
        #: The run's training time as the trainer measures it (pauses excluded, every session):
        #: the status's "time" then agrees with the Train screen's "done in".
        self._elapsed = run.read_status().train_seconds
        self._last_progress_logged = float("-inf")
        end_torn_line(run.metrics_path)  # a crash mid-write tore the last line

    def __call__(self, event: ev.Event) -> None:
        self._elapsed = _elapsed_after(event, self._elapsed)
        if isinstance(event, ev.Progress):
            if time.monotonic() - self._last_progress_logged < PROGRESS_LOG_INTERVAL_S:
                return
            self._last_progress_logged = time.monotonic()
        append_record(self.run.metrics_path, event.to_dict() | {TIME_KEY: round(time.time(), 3)})
        changes = self._status_changes(event)
        if changes is not None:
            self.run.update_status(**changes, train_seconds=self._train_seconds())

    def _status_changes(self, event: ev.Event) -> dict[str, Any] | None:
        if isinstance(event, ev.RunStarted):
            (self.run.path / PRUNE_MARK).unlink(missing_ok=True)  # resumed by hand: no longer pruned
            return {
                "state": RUNNING,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started_at": now_iso(),
                "ended_at": "",
                "epochs": event.epochs,
                "task": event.task,
                "num_params": event.num_params,
                "device": event.where,
                "message": "",
                "outcome": "",
            }
        if isinstance(event, ev.EpochEnded):
            return {
                "epochs_done": event.epoch,
                "monitor": event.monitor,
                "best_value": event.best_value,
                "best_epoch": event.best_epoch,
                "last_train": event.train,
                "last_val": event.val,
            }
        if isinstance(event, ev.StateChanged):
            return {"state": event.state}
        if isinstance(event, ev.RunFinished):
            stopped = event.state == RunEnd.STOPPED.value
            pruned = stopped and (self.run.path / PRUNE_MARK).exists()  # its sweep's pruner stopped it
            return {
                "state": PRUNED if pruned else STOPPED if stopped else FINISHED,
                "outcome": PRUNED if pruned else event.state,
                "epochs_done": event.epochs_done,
                "test": event.test,
                "test_checkpoint": event.checkpoint,
                "ended_at": now_iso(),
            }
        if isinstance(event, ev.RunFailed):
            return {"state": FAILED, "message": event.message, "ended_at": now_iso()}
        return None

    def _train_seconds(self) -> float:
        return round(self._elapsed, 3)


def _elapsed_after(event: ev.Event, elapsed: float) -> float:
    """The run's training time once ``event`` happened, from the events that carry it."""
    if isinstance(event, ev.Progress | ev.EpochEnded) and event.elapsed_s > 0:
        return event.elapsed_s
    if isinstance(event, ev.RunFinished) and event.duration_s > 0:
        return event.duration_s
    return elapsed
