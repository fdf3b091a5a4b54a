"""A run's curves as TensorBoard event files: live while it trains, or from its history later.

Optional, behind the ``tensorboard`` extra (``pip install -e ".[tensorboard]"``). The files are
written with tensorboardX, the lightest maintained writer of the format: it needs only numpy
(already a dependency) and protobuf, where the ``tensorboard`` package (what
``torch.utils.tensorboard`` needs) also brings grpcio, a web server and its data server. Viewing
the files needs ``tensorboard`` wherever they are viewed, not where the run trains.

Where: ``tb/`` in the run's folder by default; a folder the user names gets one folder per run
inside it (``DIR/<run id>``), so ``tensorboard --logdir DIR`` shows and compares them all.

What, every scalar on the global-step axis (so the charts line up, and a resumed run's files
replace what it trains again):

============================  ================================================================
``train/<m>``, ``val/<m>``    each epoch's metrics (``loss``, ``acc``, ...) at its last step
``lr``                        the rate each epoch ended with, at its last step
``step/loss``, ``step/lr``    each training report (the mean loss since the previous one)
``test/<m>``                  a finished run's test metrics, at the tested epoch's last step
============================  ================================================================
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.outputs.export import read_history, tested_epoch
from workbench.runs import events as ev
from workbench.runs.folder import RunDir

#: The install line every refusal names.
INSTALL_HINT = 'pip install -e ".[tensorboard]"'
#: The event files' folder inside a run's folder, by default.
TB_FOLDER = "tb"
#: Seconds a live run's scalars may wait in the writer's buffer (tensorboardX's default is 120):
#: TensorBoard looks for new data every 30 s, and a crash loses no more than this.
FLUSH_S = 10


def require_writer() -> Any:
    """tensorboardX's SummaryWriter class; without the extra, one line saying how to install it.
    Called before a run starts, so a run asked to write event files never trains without them."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise WorkbenchError(f"TensorBoard event files need the tensorboard extra: {INSTALL_HINT}") from None
    return SummaryWriter


def event_folder(run_dir: Path, run_id: str, folder: Path | None) -> Path:
    """``<run folder>/tb`` by default, else ``folder/<run id>`` (one sub-folder per run)."""
    return run_dir / TB_FOLDER if folder is None else folder.expanduser() / run_id


def epoch_scalars(epoch: ev.EpochEnded) -> dict[str, float]:
    return {**_tagged("train", epoch.train), **_tagged("val", epoch.val), "lr": epoch.lr}


def step_scalars(report: ev.Progress) -> dict[str, float]:
    return {"step/loss": report.loss, "step/lr": report.lr}


def _write_test(files: EventFiles, finished: ev.RunFinished, steps_per_epoch: int, when: float | None) -> None:
    """A finished run's test metrics, at the last step of the epoch whose weights were tested."""
    tested = tested_epoch(finished)
    if tested is not None:
        files.scalars(_tagged("test", finished.test), tested * steps_per_epoch, when)


def _tagged(prefix: str, values: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}/{name}": value for name, value in values.items()}


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WorkbenchError(f"{folder}: cannot hold TensorBoard event files ({error.strerror or error})") from None


class EventFiles:
    """One event-file writer; ``purge_step``: TensorBoard drops what earlier files hold from that
    step on (a resumed run trains those steps again; an export replaces an earlier one)."""

    def __init__(self, folder: Path, purge_step: int | None = None) -> None:
        writer = require_writer()
        self.folder = folder
        _make_folder(folder)
        try:
            # The file is named by the second it was opened in; two writers of one run in the same
            # second (a resume right after a failure) would share it, the second erasing the first.
            # The suffix keeps them apart, in the order they started.
            self._writer = writer(
                logdir=str(folder), purge_step=purge_step, flush_secs=FLUSH_S, filename_suffix=f".{time.time_ns()}"
            )
        except OSError as error:
            raise WorkbenchError(f"{folder}: cannot write TensorBoard event files ({error.strerror or error})") from None

    def scalars(self, values: dict[str, float], step: int, when: float | None) -> None:
        for tag, value in values.items():
            self._writer.add_scalar(tag, value, step, walltime=when)

    def close(self) -> None:
        self._writer.close()


class TensorBoardSink:
    """A sink (``workbench train --tensorboard``) that writes the run's curves as it trains.

    Made before the trainer, so a missing extra or a folder that cannot be made refuses the run
    before it starts; the files are opened at RunStarted, when the run's folder is known."""

    def __init__(self, folder: Path | None = None) -> None:
        require_writer()
        if folder is not None:
            _make_folder(folder)
        self.folder = folder
        self._files: EventFiles | None = None
        self._steps_per_epoch = 1

    def __call__(self, event: ev.Event) -> None:
        now = time.time()
        if isinstance(event, ev.RunStarted):
            self._open(event)
            return
        files = self._files
        if files is None:
            return
        if isinstance(event, ev.Progress):
            files.scalars(step_scalars(event), event.global_step, now)
        elif isinstance(event, ev.EpochEnded):
            files.scalars(epoch_scalars(event), event.epoch * self._steps_per_epoch, now)
        elif isinstance(event, ev.RunFinished | ev.RunFailed):
            if isinstance(event, ev.RunFinished):
                _write_test(files, event, self._steps_per_epoch, now)
            files.close()
            self._files = None

    def _open(self, event: ev.RunStarted) -> None:
        if self._files is not None:
            self._files.close()
        self._steps_per_epoch = max(1, event.steps_per_epoch)
        done = (event.start_epoch - 1) * self._steps_per_epoch + event.start_step
        resumed = event.start_epoch > 1 or event.start_step > 0
        folder = event_folder(Path(event.run_dir), event.run_id, self.folder)
        self._files = EventFiles(folder, purge_step=done + 1 if resumed else None)


def export_tensorboard(run: RunDir, folder: Path | None = None) -> Path:
    """Write a run's history (finished or not) as event files; returns their folder.

    Each scalar carries the wall-clock time it was recorded, and an export replaces an earlier
    export of the same run (everything from step 0 on is purged)."""
    history, times = read_history(run)
    if not history.epochs and not history.steps:
        raise WorkbenchError(f"run {run.id} has no epoch or training step recorded yet ({run.metrics_path}); nothing to export")
    steps_per_epoch = max(1, history.started.steps_per_epoch) if history.started else 1
    target = event_folder(run.path, run.id, folder)
    files = EventFiles(target, purge_step=0)
    try:
        for report in (point.source for point in history.steps if point.source is not None):
            files.scalars(step_scalars(report), report.global_step, times.get(id(report)))
        for epoch in history.epochs:
            files.scalars(epoch_scalars(epoch), epoch.epoch * steps_per_epoch, times.get(id(epoch)))
        if history.finished is not None:
            _write_test(files, history.finished, steps_per_epoch, times.get(id(history.finished)))
    finally:
        files.close()
    return target
