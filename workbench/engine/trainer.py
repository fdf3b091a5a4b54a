"""The training loop: one engine under the app and the headless commands.

:class:`Trainer` builds a run from its config (device, data, model, loss, optimizer, schedule),
trains it epoch by epoch, validates, keeps checkpoints, and ends with a test evaluation of the
chosen checkpoint. It reports through events to its sinks and never knows who listens.

The hot loop stays close to the plain PyTorch loop (zero_grad, forward, loss, backward, step):
metrics are summed on the device and read by the host only when a Progress event is due (a
few times a second) and at the end of each epoch, so no step waits for the device.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from workbench.engine.checkpoint_io import encode_checkpoint, read_checkpoint, write_checkpoint
from workbench.engine.control import Control
from workbench.engine.device import device_name
from workbench.engine.evaluate import evaluate_model, validation_metrics
from workbench.engine.metrics import MetricTotals
from workbench.engine.seeding import capture_rng, restore_rng
from workbench.engine.setup import build_parts
from workbench.engine.sinks import RunRecorder
from workbench.errors import CheckpointError, ConfigError, DataError, WorkbenchError
from workbench.experiment.validation import validate
from workbench.optim.build import build_optimizer, build_schedule
from workbench.runs import events as ev
from workbench.runs.checkpoints import chosen_checkpoint
from workbench.runs.folder import RunDir
from workbench.runs.liveness import RunLock
from workbench.runs.reports import write_report
from workbench.runs.resume_rules import check_new_total, check_resumable
from workbench.runs.store import create_run
from workbench.schema import config as config_io
from workbench.schema.config import RunConfig
from workbench.schema.monitor import is_improvement

#: Progress events are sent at most this often (seconds): enough for a live bar and chart.
PROGRESS_INTERVAL_S = 0.25


class TrainingFailed(WorkbenchError):
    """The run stopped on an error (non-finite loss, out of memory, a full disk); saved
    checkpoints are intact and the message names the last good one."""


@dataclass
class BestTracker:
    """The best value of a monitored metric so far: decides best.pt and early stopping."""

    monitor: str
    min_delta: float = 0.0
    best: float | None = None
    best_epoch: int = 0
    bad_epochs: int = 0

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


class _Failure(Exception):
    """Internal: the loop found a non-finite loss at ``step`` of ``epoch``."""

    def __init__(self, message: str, epoch: int, step: int) -> None:
        super().__init__(message)
        self.epoch, self.step = epoch, step


class Trainer:
    """Train one run. ``run()`` returns the :class:`RunFinished` event, or raises
    :class:`TrainingFailed` after emitting :class:`RunFailed`.

    ``run``: the run folder to train in (a new one is created when None). Use
    :meth:`resume` to continue a run from its last checkpoint. ``progress_interval_s`` bounds
    the rate of Progress events (0: after every step, for tests).
    """

    def __init__(
        self,
        config: RunConfig,
        sinks: Sequence[ev.Sink] = (),
        control: Control | None = None,
        *,
        run: RunDir | None = None,
        device: str | None = None,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
        checkpoint: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.sinks: list[ev.Sink] = list(sinks)
        self.control = control or Control()
        self.run_dir = run
        self.device_override = device
        self.progress_interval_s = progress_interval_s
        self._checkpoint = checkpoint  # resume from this state (see resume())
        self._extra_warnings: list[str] = []
        # Position and bookkeeping, kept as host numbers.
        self.epoch = 0
        self.step = 0
        self.global_step = 0
        self._last_saved: tuple[Path, int] | None = None
        self._lock: RunLock | None = None
        self._last_metrics: dict[str, dict[str, float]] = {"train": {}, "val": {}}

    @classmethod
    def resume(
        cls,
        run: RunDir,
        sinks: Sequence[ev.Sink] = (),
        control: Control | None = None,
        *,
        epochs: int | None = None,
        device: str | None = None,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
    ) -> Trainer:
        """A trainer that continues ``run`` from its last.pt; ``epochs`` sets a new total."""
        check_resumable(run)
        run.clean_temp_files()
        state = read_checkpoint(run.last_checkpoint)
        try:
            config = validate(config_io.from_dict(state["config"]))
        except ConfigError as error:
            raise CheckpointError(f"{run.last_checkpoint}: its experiment is no longer valid: {error}") from None
        done = int(state["epoch"])
        check_new_total(run.id, done, config.train.epochs, epochs, mid_epoch=int(state["step"]) > 0)
        trainer = cls(config, sinks, control, run=run, device=device, progress_interval_s=progress_interval_s, checkpoint=state)
        if epochs is not None:
            if epochs != config.train.epochs:
                trainer._extra_warnings.append(
                    f"train.epochs changes from {config.train.epochs} to {epochs}; a schedule planned for "
                    f"{config.train.epochs} epochs continues from where it was"
                )
            config.train.epochs = epochs
        return trainer

    # ------------------------------------------------------------------ the run

    def run(self) -> ev.RunFinished:
        """Train to the end (or a stop request); raises TrainingFailed on NaN loss, OOM, disk errors.

        A new run (no ``run`` given) raises bad settings and missing data before its folder is
        created. A run whose folder exists (launched, or resumed) is claimed first: this process
        takes its lock for as long as it trains, and a failure to start is recorded in it.
        """
        try:
            if self.run_dir is not None:
                self._claim(self.run_dir)
            self._build_recorded()
            if self.run_dir is None:
                self._claim(create_run(self.config))
            elif self._checkpoint is not None:
                config_io.write(self.config, self.run_dir.config_path)  # the epochs total may have changed
            return self._train_recorded()
        finally:
            if self._lock is not None:
                self._lock.release()

    def _claim(self, run: RunDir) -> None:
        """Take the run's lock (or refuse: another process trains it) and record into its folder."""
        self._lock = RunLock(run.path)
        self._lock.acquire(run.id, run.read_status())
        self.run_dir = run
        run.update_status(pid=os.getpid(), host=socket.gethostname())
        self.sinks.insert(0, RunRecorder(run))

    def _build_recorded(self) -> None:
        """Build; where a run folder is already claimed, a failure to build is recorded in it."""
        try:
            self._build()
        except BaseException as error:
            if self.run_dir is not None:
                self._fail(str(error) if isinstance(error, WorkbenchError) else f"{type(error).__name__}: {error}")
            raise

    def _train_recorded(self) -> ev.RunFinished:
        """Train; every way training can end is recorded as an event before it returns or raises."""
        self._paused_s = 0.0
        self._started = self._clock()
        # The report clock runs across epochs, so epochs shorter than the interval still report.
        self._next_report = time.monotonic() + self.progress_interval_s
        self._session_start_step = self.global_step
        try:
            self._emit_start()
            outcome = self._train()
            return self._finish(outcome)
        except _Failure as failure:
            self.epoch, self.step = failure.epoch, failure.step
            raise self._fail(str(failure)) from None
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            size = self.config.data.batch_size
            raise self._fail(
                f"CUDA ran out of memory at epoch {self.epoch}, step {self.step} with data.batch_size={size}; "
                f"try a smaller batch (--set data.batch_size={max(1, size // 2)})"
            ) from None
        except OSError as error:
            where = error.filename or self.run_dir.path
            raise self._fail(f"{where}: {error.strerror or error}; training stopped. {self._last_good()}") from None
        except BaseException as error:
            self._fail("interrupted" if isinstance(error, KeyboardInterrupt) else f"{type(error).__name__}: {error}")
            raise

    def _build(self) -> None:
        """Data, model, loss, optimizer, schedule, and the states of a checkpoint when resuming."""
        self.parts = parts = build_parts(self.config, device=self.device_override, for_training=True)
        self.steps_per_epoch = len(parts.splits.train)
        if self.steps_per_epoch == 0:
            raise DataError(
                f"data: {parts.splits.train.num_samples} training sample(s) make no batch; use more (data.subset, data.val_fraction)"
            )
        self.module = parts.prepared.module
        self.model = parts.prepared.model
        self.optimizer = build_optimizer(self.config.optimizer, self.module.parameters())
        self.schedule = build_schedule(self.config.schedule, self.optimizer, self.config.train.epochs, self.steps_per_epoch)
        self.scaler = torch.amp.GradScaler(parts.device.type, enabled=parts.precision.needs_grad_scaler)
        self.train_totals = MetricTotals(parts.task, parts.num_outputs, parts.device)
        # Per-step losses of the current epoch: only read to name the step where a loss went non-finite.
        self._step_losses = torch.zeros(self.steps_per_epoch, device=parts.device)
        self.best = BestTracker(self.config.train.checkpoint.monitor)
        stopping = self.config.train.early_stopping
        self.early = BestTracker(stopping.monitor, stopping.min_delta)
        self.start_epoch, self.start_step = 1, 0
        if self._checkpoint is not None:
            self._restore(self._checkpoint)

    def _emit_start(self) -> None:
        parts = self.parts
        splits = parts.splits
        self._emit(
            ev.RunStarted(
                run_id=self.run_dir.id,
                run_dir=str(self.run_dir.path),
                name=self.config.name,
                device=str(parts.device),
                device_name=device_name(parts.device),
                num_params=sum(p.numel() for p in self.module.parameters()),
                epochs=self.config.train.epochs,
                start_epoch=self.start_epoch,
                steps_per_epoch=self.steps_per_epoch,
                train_size=splits.train.num_samples,
                val_size=splits.val.num_samples if splits.val is not None else 0,
                test_size=splits.test.num_samples,
                task=parts.task,
                start_step=self.start_step,
            )
        )
        for message in parts.warnings + self._extra_warnings:
            self._emit(ev.Warning(message))

    def _train(self) -> str:
        """All epochs; returns how the run ended: finished, stopped or early_stopped."""
        for epoch in range(self.start_epoch, self.config.train.epochs + 1):
            self.epoch = epoch
            epoch_started = self._clock()
            if not self._train_epoch(epoch):
                return "stopped"
            train_s = self._clock() - epoch_started
            self._end_epoch(epoch, epoch_started, train_s)
            if self.config.train.early_stopping.enabled and self.early.bad_epochs >= self.config.train.early_stopping.patience:
                return "early_stopped"
        return "finished"

    def _train_epoch(self, epoch: int) -> bool:
        """One pass over the training batches; False when a stop request ended it early."""
        parts, model, optimizer, scaler = self.parts, self.model, self.optimizer, self.scaler
        loss_fn, totals, clip = parts.loss_fn, self.train_totals, self.config.train.grad_clip
        skip = self.start_step if epoch == self.start_epoch else 0  # steps a resumed epoch had done
        if not skip:
            totals.reset()
        batches = iter(parts.splits.train.epoch(epoch))
        if self._checkpoint is not None:
            self._fast_forward(batches, skip)
        self._checked_steps, self._epoch_start_count = skip, totals.count
        self._reported_loss, self._report_count = 0.0, totals.count
        self._window_started = self._clock()
        if self.control.pending and self._obey_control(epoch, skip):
            return False
        model.train()
        for step, (inputs, targets) in enumerate(batches, start=skip + 1):
            self.step = step
            inputs = parts.prepared.inputs(inputs)
            with parts.precision.autocast():
                outputs = model(inputs)
                loss = loss_fn(outputs, targets)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if clip > 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(self.module.parameters(), clip)
            scaler.step(optimizer)
            scaler.update()
            self.schedule.after_step()
            totals.add(outputs, targets, loss)
            self._step_losses[step - 1] = loss.detach()
            self.global_step += 1
            if time.monotonic() >= self._next_report:
                self._report(epoch, step)
            # After the last step the epoch ends (validation, checkpoint) and the next epoch polls.
            if self.control.pending and step < self.steps_per_epoch and self._obey_control(epoch, step):
                return False
        return True

    def _fast_forward(self, batches: Any, skip: int) -> None:
        """Resuming: pass over the batches the stopped run had done, then restore the random
        generators as they were at the stop, so what follows is exactly what would have followed."""
        for _ in range(skip):
            next(batches)
        restore_rng(self._checkpoint["rng"])
        self._checkpoint = None

    # ------------------------------------------------------------------ reporting and control

    def _report(self, epoch: int, step: int) -> None:
        """Emit a Progress event (one host sync) and check that the loss is still finite."""
        metrics = self._checked_train_metrics(epoch, step)
        now = self._clock()
        loss_total = metrics["loss"] * self.train_totals.count
        samples = self.train_totals.count - self._report_count
        window_loss = (loss_total - self._reported_loss) / samples if samples else metrics["loss"]
        elapsed = now - self._window_started
        done = self.global_step - self._session_start_step
        remaining = (self.config.train.epochs - epoch) * self.steps_per_epoch + self.steps_per_epoch - step
        run_elapsed = now - self._started
        self._emit(
            ev.Progress(
                epoch=epoch,
                step=step,
                steps_per_epoch=self.steps_per_epoch,
                global_step=self.global_step,
                loss=window_loss,
                acc=metrics.get("acc"),
                lr=self.schedule.lr(),
                samples_per_s=samples / elapsed if elapsed > 0 else 0.0,
                elapsed_s=run_elapsed,
                eta_s=run_elapsed / done * remaining if done else 0.0,
                device_memory_gib=self._peak_device_memory_gib(),
            )
        )
        self._reported_loss, self._report_count, self._window_started = loss_total, self.train_totals.count, now
        self._checked_steps = step
        self._next_report = time.monotonic() + self.progress_interval_s

    def _peak_device_memory_gib(self) -> float:
        """Peak GPU memory of this process (the allocator's counter: no device sync)."""
        device = self.parts.device
        return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else 0.0

    def _checked_train_metrics(self, epoch: int, step: int) -> dict[str, float]:
        """The epoch's training metrics so far; raises _Failure naming the first non-finite step."""
        metrics = self.train_totals.compute()
        if not metrics or math.isfinite(metrics["loss"]):
            return metrics
        window = self._step_losses[self._checked_steps : step]  # the steps since the last check
        bad = torch.nonzero(~torch.isfinite(window)).flatten().tolist()
        first = self._checked_steps + 1 + (bad[0] if bad else 0)
        value = float(window[bad[0]]) if bad else metrics["loss"]
        raise _Failure(
            f"the loss became {value} at epoch {epoch}, step {first}; training stopped. "
            f"{self._last_good()}. Try a lower optimizer.lr or train.grad_clip",
            epoch,
            first,
        )

    def _last_good(self) -> str:
        if self._last_saved is None:
            return "No checkpoint had been saved yet"
        path, epoch = self._last_saved
        return f"Last good checkpoint: {path} (epoch {epoch})"

    def _obey_control(self, epoch: int, step: int) -> bool:
        """Between steps: wait out a pause; on stop, checkpoint here and return True."""
        control = self.control
        if control.paused and not control.stop_requested:
            self._emit(ev.StateChanged("paused", epoch, step))
            paused_at = time.monotonic()
            control.wait_while_paused()
            self._paused_s += time.monotonic() - paused_at
            if not control.stop_requested:
                self._emit(ev.StateChanged("running", epoch, step))
                self._next_report = time.monotonic()
        if control.stop_requested:
            self._checked_train_metrics(epoch, step)
            self._emit(self._save(epoch - 1, step, kinds=("last",)))
            return True
        return False

    def _clock(self) -> float:
        """Seconds of this session, not counting pauses."""
        return time.monotonic() - self._paused_s

    # ------------------------------------------------------------------ epochs and checkpoints

    def _end_epoch(self, epoch: int, epoch_started: float, train_s: float) -> None:
        train = self._checked_train_metrics(epoch, self.steps_per_epoch)
        splits = self.parts.splits
        val = {}
        if splits.val is not None:
            val = validation_metrics(self.parts, self.parts.prepared, "val")
        self._last_metrics = {"train": train, "val": val}
        monitored = {f"train_{k}": v for k, v in train.items()} | {f"val_{k}": v for k, v in val.items()}
        lr = self.schedule.lr()  # the rate this epoch ended with, before a per-epoch schedule moves it
        self.schedule.after_epoch(monitored.get(self.schedule.monitor) if self.schedule.monitor else None)
        is_best = self.best.update(monitored.get(self.best.monitor), epoch)
        self.early.update(monitored.get(self.early.monitor), epoch)
        policy = self.config.train.checkpoint
        kinds = ["last"]
        if policy.every and epoch % policy.every == 0:
            kinds.insert(0, "epoch")
        if is_best:
            kinds.append("best")
        # The checkpoint first: nothing is recorded as done before the file that holds it is durable.
        saved = self._save(epoch, 0, kinds=tuple(kinds))
        self._emit(
            ev.EpochEnded(
                epoch=epoch,
                epochs=self.config.train.epochs,
                train=train,
                val=val,
                lr=lr,
                duration_s=self._clock() - epoch_started,
                samples_per_s=(self.train_totals.count - self._epoch_start_count) / train_s if train_s > 0 else 0.0,
                is_best=is_best,
                best_epoch=self.best.best_epoch,
                best_value=self.best.best,
                monitor=self.best.monitor,
            )
        )
        self._emit(saved)

    def _save(self, epochs_done: int, step: int, kinds: tuple[str, ...]) -> ev.CheckpointSaved:
        """Write one checkpoint to each of its files (epoch-NNN, last, best), atomically; returns
        the event that says so, for the caller to emit once what it records is in place."""
        run = self.run_dir
        state = {
            "run_id": run.id,
            "config": config_io.to_dict(self.config),
            "task": self.parts.task,
            "model": self.module.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
            "epoch": epochs_done,
            "step": step,
            "global_step": self.global_step,
            "epoch_totals": self.train_totals.state_dict() if step else None,
            "metrics": self._last_metrics,
            "best": self.best.state_dict() | {"monitor": self.best.monitor},
            "early_stopping": self.early.state_dict(),
            "rng": capture_rng(),
        }
        paths = {"epoch": run.epoch_checkpoint(epochs_done), "last": run.last_checkpoint, "best": run.best_checkpoint}
        written = [paths[kind] for kind in kinds]
        write_checkpoint(encode_checkpoint(state), written)
        self._last_saved = (run.last_checkpoint, epochs_done)
        keep = self.config.train.checkpoint.keep_last
        if "epoch" in kinds and keep:
            for _, old in run.epoch_checkpoints()[:-keep]:
                old.unlink(missing_ok=True)
        return ev.CheckpointSaved(path=str(written[0]), epoch=epochs_done, kinds=kinds)

    def _restore(self, state: dict[str, Any]) -> None:
        """Load a checkpoint's states; the random generators follow once the data is positioned."""
        path = self.run_dir.last_checkpoint if self.run_dir else "checkpoint"
        try:
            self.module.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.schedule.load_state_dict(state["schedule"])
            if state.get("scaler") and self.scaler.is_enabled():
                self.scaler.load_state_dict(state["scaler"])
            self.best.load_state_dict(state["best"])
            self.early.load_state_dict(state["early_stopping"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            reason = str(error).splitlines()[0]
            raise CheckpointError(f"{path}: does not fit the run's model and optimizer ({reason})") from None
        stopping = self.config.train.early_stopping
        if stopping.enabled and self.early.bad_epochs >= stopping.patience:
            self.early.bad_epochs = 0
            self._extra_warnings.append("early stopping had ended this run; its patience starts again")
        self.start_epoch = int(state["epoch"]) + 1
        self.start_step = int(state["step"])
        self.global_step = int(state["global_step"])
        self._last_metrics = state.get("metrics") or self._last_metrics
        if state.get("epoch_totals"):
            self.train_totals.load_state_dict(state["epoch_totals"])
        self._last_saved = (self.run_dir.last_checkpoint, int(state["epoch"]))

    # ------------------------------------------------------------------ the end

    def _finish(self, outcome: str) -> ev.RunFinished:
        test: dict[str, float] = {}
        checkpoint = ""
        if outcome != "stopped":
            path = chosen_checkpoint(self.run_dir, self.config)
            chosen = read_checkpoint(path)
            self.module.load_state_dict(chosen["model"])
            evaluation = evaluate_model(self.parts, "test", checkpoint=path, run_id=self.run_dir.id, epoch=int(chosen["epoch"]))
            write_report(self.run_dir, evaluation.to_dict())
            test, checkpoint = evaluation.metrics, str(path)
        finished = ev.RunFinished(
            state=outcome,
            epochs_done=self.epoch if outcome != "stopped" else self.epoch - 1,
            best_epoch=self.best.best_epoch,
            best_value=self.best.best,
            monitor=self.best.monitor,
            test=test,
            checkpoint=checkpoint,
            duration_s=self._clock() - self._started,
        )
        self._emit(finished)
        return finished

    def _fail(self, message: str) -> TrainingFailed:
        last = str(self._last_saved[0]) if self._last_saved else ""
        failed = ev.RunFailed(message=message, epoch=self.epoch, step=self.step, last_checkpoint=last)
        for sink in self.sinks:
            try:
                sink(failed)
            except Exception:  # noqa: BLE001 - a failing sink must not hide the run's own failure
                pass
        return TrainingFailed(message)

    def _emit(self, event: ev.Event) -> None:
        for sink in self.sinks:
            sink(event)
