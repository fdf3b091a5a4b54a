"""The bridge between the app and the engine: one training run in a Textual worker, off the UI thread.

The worker hands the trainer to the app's torch thread (:func:`on_torch_thread`), where it runs
exactly as under ``workbench train``. Its events come to the app as :class:`TrainerEvent`
messages posted to a target (the Train screen) with ``post_message``, which is thread-safe and
never blocks the trainer. A newer Progress may replace a stale one still queued
(``Message.can_replace``), so a busy screen never falls behind; epoch records, checkpoints and
the end of the run are never replaced. The worker's own state change (``Worker.StateChanged``)
tells the owner when the run has ended.

:class:`TrainingSession` is what ``app.training`` holds: ``is_running()``, ``async stop()``
(the trainer checkpoints, then its work ends), pause and resume. Torch is imported on the torch
thread only, so starting a run never stalls the screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from workbench.draft import describe_error
from workbench.engine import events as ev
from workbench.engine.control import Control

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from workbench.config import RunConfig
    from workbench.engine.trainer import Trainer
    from workbench.store import RunDir

#: Builds the trainer on the torch thread, given the sinks and the control to use.
TrainerFactory = Callable[[Sequence[ev.Sink], Control], "Trainer"]

T = TypeVar("T")

_torch_thread: ThreadPoolExecutor | None = None


async def on_torch_thread(work: Callable[[], T]) -> T:
    """Run ``work`` on the one thread where the app computes with PyTorch (training, evaluation).

    PyTorch's CPU kernels run in parallel with OpenMP, which keeps a team of helper threads
    for each thread that calls it. Once two threads have called it, the teams outnumber the
    cores and OpenMP stops spinning between kernels: on a 2-core machine every run, in either
    thread, then trains about 2x slower (measured with digits-cnn). Textual's thread workers
    take any thread of a shared pool, so the app keeps its heavy torch work on this one.
    Work queued here waits for the work before it: an evaluation waits for a training run.
    """
    global _torch_thread
    if _torch_thread is None:
        _torch_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-torch")
    return await asyncio.get_running_loop().run_in_executor(_torch_thread, work)


class TrainerEvent(Message, bubble=False):
    """One engine event, delivered on the UI thread."""

    def __init__(self, event: ev.Event) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        """A Progress still queued gives way to a newer one; nothing else is ever dropped."""
        return isinstance(self.event, ev.Progress) and isinstance(message, TrainerEvent) and isinstance(message.event, ev.Progress)


def new_run(config: RunConfig) -> TrainerFactory:
    """A factory for a fresh run of ``config``."""

    def make(sinks: Sequence[ev.Sink], control: Control) -> Trainer:
        from workbench.engine.trainer import Trainer

        return Trainer(config, sinks, control)

    return make


def resumed_run(run: RunDir, epochs: int | None = None) -> TrainerFactory:
    """A factory that continues ``run`` from its last checkpoint (``epochs``: a new total)."""

    def make(sinks: Sequence[ev.Sink], control: Control) -> Trainer:
        from workbench.engine.trainer import Trainer

        return Trainer.resume(run, sinks, control, epochs=epochs)

    return make


class TrainingSession:
    """One run driven from the app. Create it, then :meth:`start` it from a widget."""

    def __init__(self, target: MessagePump, make_trainer: TrainerFactory) -> None:
        self.target = target
        self.make_trainer = make_trainer
        self.control = Control()
        self.worker: Worker[str | None] | None = None
        #: The run's id once it has started (the Runs screen selects it).
        self.run_id = ""

    def start(self, owner: DOMNode) -> None:
        self.worker = owner.run_worker(self._train, name="training", group="training", exit_on_error=False)

    async def _train(self) -> str | None:
        return await on_torch_thread(self._work)

    def is_running(self) -> bool:
        return self.worker is not None and self.worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    @property
    def stopping(self) -> bool:
        return self.control.stop_requested

    def toggle_pause(self) -> bool:
        """Pause a running run or resume a paused one; returns True when it is now paused."""
        if self.control.paused:
            self.control.resume()
            return False
        self.control.pause()
        return True

    def request_stop(self) -> None:
        """Ask the trainer to checkpoint and end after the current step (returns at once)."""
        self.control.stop()

    async def stop(self) -> None:
        """Stop cleanly and wait until the trainer has returned (its checkpoint is saved)."""
        self.control.stop()
        if self.worker is not None and self.is_running():
            try:
                await self.worker.wait()
            except (WorkerCancelled, WorkerFailed):
                pass  # the app is shutting down; the trainer still stops at its next step

    # ------------------------------------------------------------------ the torch thread

    def _work(self) -> str | None:
        """Train; the worker's result is None, or one line when the run could not start or broke
        outside the engine's own reporting (the engine reports its failures with RunFailed)."""
        from workbench.engine.trainer import TrainingFailed

        try:
            self.make_trainer([self._post], self.control).run()
        except TrainingFailed:
            pass
        except Exception as exc:  # noqa: BLE001 - one readable line in the app, never a traceback
            return describe_error(exc)
        return None

    def _post(self, event: ev.Event) -> None:
        """The sink: hand the event to the UI thread and return at once. It never raises: a
        failing sink would turn a clean end into a failed run in the run's own files."""
        try:
            self.target.post_message(TrainerEvent(event))
        except Exception:  # noqa: BLE001 - the app is closing; the run's files record the rest
            pass

    @property
    def error(self) -> str | None:
        """Once the worker has ended: why the run could not train (None when it could)."""
        if self.worker is None or self.worker.state != WorkerState.SUCCESS:
            return None
        return self.worker.result
