"""The training loop's own state: how a run ended, where it is, its progress meter, its best values.

Each piece owns its numbers and says in one place how they change, so the loop in
:mod:`workbench.engine.trainer` reads as the plain epoch/step loop it is. Pieces a checkpoint
saves have ``state_dict()`` / ``load_state_dict()``, like torch's own components.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from enum import Enum
from typing import Any

import torch

from workbench.schema.monitor import is_improvement


class RunEnd(Enum):
    """How a run that did not fail ended; ``.value`` is the word written to events and status.json."""

    FINISHED = "finished"
    STOPPED = "stopped"  # on request, after a checkpoint of where it was
    EARLY_STOPPED = "early_stopped"  # the early-stopping monitor stopped improving


class Position:
    """Where the run is: the epoch in progress (or last trained), its step in progress (or last
    done), and the steps done in all.

    A checkpoint records it as epochs completed plus steps done into the next one: what a resume
    needs to skip.
    """

    def __init__(self, steps_per_epoch: int) -> None:
        self.steps_per_epoch = steps_per_epoch
        self.epoch = 1
        self.step = 0
        self.global_step = 0

    @property
    def epochs_done(self) -> int:
        return self.epoch if self.step == self.steps_per_epoch else self.epoch - 1

    @property
    def at_epoch_end(self) -> bool:
        """No step of an unfinished epoch done: a checkpoint here completes an epoch (or none yet)."""
        return self.state_dict()["step"] == 0

    def begin_epoch(self, epoch: int) -> int:
        """Enter ``epoch``; returns the steps of it already done (those of a resumed epoch, else 0)."""
        if epoch != self.epoch:
            self.epoch, self.step = epoch, 0
        return self.step

    def state_dict(self) -> dict[str, int]:
        done = self.epochs_done
        return {"epoch": done, "step": self.step if done < self.epoch else 0, "global_step": self.global_step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"]) + 1
        self.step = int(state["step"])
        self.global_step = int(state["global_step"])


class ProgressMeter:
    """The run's clock (pauses excluded), the window each Progress report covers, the estimate of
    the time left, and the record of per-step losses that names the first non-finite one.

    Created when training starts: its clock and report window start then. ``elapsed_before``:
    the run's training time before this session (a resume continues its total). ``clock``: the
    monotonic time it measures with (a test passes a fake one).

    Speeds cover training steps only: each epoch's window starts when its training does, after
    the previous epoch's validation and checkpoints. The time left is the measured time per
    training step for the steps left, plus the measured time between two epochs' training
    (validation, checkpoints) for each epoch end left: so it neither jumps at an epoch's end
    nor drifts down through the epoch after it.
    """

    def __init__(
        self, interval_s: float, global_step: int, *, elapsed_before: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval_s = interval_s
        self._now = clock
        self.paused_s = 0.0
        self.started = clock()
        self.elapsed_before = elapsed_before
        # The report clock runs across epochs, so epochs shorter than the interval still report.
        self.next_report = self.started + interval_s
        self.session_start_step = global_step
        # The losses of the steps since the last check, left on the device: read only to name the
        # step where a loss went non-finite. A list, not a tensor written at every step: a step
        # launches one kernel fewer (on a GPU a small model's step is bound by its launches).
        self.unchecked_losses: list[torch.Tensor] = []
        self.checked_steps = 0  # steps of the epoch whose losses are known to be finite
        self.window_loss_total = 0.0
        self.window_count = 0
        self.window_started = 0.0
        # What the time left is estimated from: training time of the epochs this session
        # completed, and the time between two epochs' training.
        self.epoch_training_started = self.started
        self.training_s = 0.0
        self.training_ended: float | None = None
        self.between_epochs_s = 0.0
        self.epoch_gaps = 0

    def clock(self) -> float:
        """Seconds of this session, not counting pauses."""
        return self._now() - self.paused_s

    def elapsed(self) -> float:
        """The run's training time, this session's and the sessions' before it (pauses excluded)."""
        return self.elapsed_before + self.clock() - self.started

    def begin_epoch(self, steps_done: int, samples_done: int) -> None:
        """The epoch's training starts, after the ``steps_done`` a resumed epoch had: its first
        report window starts here, and the time since the last epoch's training is a gap between epochs."""
        now = self.clock()
        if self.training_ended is not None:
            self.between_epochs_s += now - self.training_ended
            self.epoch_gaps += 1
            self.training_ended = None
        self.epoch_training_started = now
        self.checked(steps_done)
        self.window_loss_total, self.window_count, self.window_started = 0.0, samples_done, now

    def end_training(self) -> float:
        """The epoch's last step is done (validation comes next); returns the epoch's training seconds."""
        now = self.clock()
        seconds = now - self.epoch_training_started
        self.training_s += seconds
        self.training_ended = now
        return seconds

    def record_loss(self, loss: torch.Tensor) -> None:
        """Keep the step's loss until its epoch's totals so far are checked (see :meth:`checked`)."""
        self.unchecked_losses.append(loss.detach())

    def checked(self, step: int) -> None:
        """The losses up to ``step`` of the epoch are known to be finite (their sum is)."""
        self.checked_steps = step
        self.unchecked_losses.clear()

    def report_due(self) -> bool:
        return self._now() >= self.next_report

    def steps_per_report(self, global_step: int) -> int:
        """Steps that take about one report interval at this session's pace (at least 1): how
        far apart the workers of a distributed run agree, since they cannot each ask the clock."""
        done = global_step - self.session_start_step
        seconds = self.training_s + self.clock() - self.epoch_training_started
        if done <= 0 or seconds <= 0:
            return 1
        return max(1, int(self.interval_s * done / seconds))

    def pause(self, wait: Callable[[], None]) -> None:
        """Run ``wait`` (a pause): the clock skips its time and the next report is due at once."""
        paused_at = self._now()
        wait()
        self.paused_s += self._now() - paused_at
        self.next_report = self._now()

    def window(self, mean_loss: float, samples: int, now: float) -> tuple[float, float]:
        """Mean loss and samples per second over the samples since the last report, from the epoch's
        mean loss so far over ``samples``."""
        new_samples = samples - self.window_count
        window_loss = (mean_loss * samples - self.window_loss_total) / new_samples if new_samples else mean_loss
        elapsed = now - self.window_started
        return window_loss, new_samples / elapsed if elapsed > 0 else 0.0

    def eta_s(self, now: float, global_step: int, steps_left: int, epoch_ends_left: int) -> float:
        """Seconds left, at ``now`` in the epoch's training: the steps left at this session's
        time per training step, and the epoch ends left (this epoch's too) at the mean gap
        between epochs measured so far (none before the first epoch ends)."""
        done = global_step - self.session_start_step
        if not done:
            return 0.0
        per_step = (self.training_s + now - self.epoch_training_started) / done
        per_gap = self.between_epochs_s / self.epoch_gaps if self.epoch_gaps else 0.0
        return per_step * steps_left + per_gap * epoch_ends_left

    def reported(self, step: int, mean_loss: float, samples: int, now: float) -> None:
        """A report covering up to ``step`` was sent: the next window starts here."""
        self.window_loss_total, self.window_count, self.window_started = mean_loss * samples, samples, now
        self.checked(step)
        self.next_report = self._now() + self.interval_s

    def first_non_finite(self) -> tuple[int, float | None]:
        """The first step since the last check whose loss is not finite, and that loss (None when
        no single step's loss is: the sum overflowed)."""
        if not self.unchecked_losses:
            return self.checked_steps + 1, None
        window = torch.stack(self.unchecked_losses)
        bad = torch.nonzero(~torch.isfinite(window)).flatten().tolist()  # sync: only once a loss went non-finite
        if not bad:
            return self.checked_steps + 1, None
        return self.checked_steps + 1 + bad[0], float(window[bad[0]])


class BestTracker:
    """The best value of a monitored metric so far: decides best.pt and early stopping."""

    def __init__(self, monitor: str, min_delta: float = 0.0) -> None:
        self.monitor = monitor
        self.min_delta = min_delta
        self.best: float | None = None
        self.best_epoch = 0
        self.bad_epochs = 0

    def update(self, value: float | None, epoch: int) -> bool:
        """Record this epoch's value; True when it is an improvement."""
        if value is not None and not math.isnan(value) and is_improvement(value, self.best, self.monitor, self.min_delta):
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.bad_epochs = state["best"], state["best_epoch"], state["bad_epochs"]
