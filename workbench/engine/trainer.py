"""The training loop: one engine under the app and the headless commands.

:class:`Trainer` builds a run from its config (device, data, model, loss, optimizer, schedule),
trains it epoch by epoch, validates, keeps checkpoints, and ends with a test evaluation of the
chosen checkpoint. It reports through events to its sinks and never knows who listens.

The hot loop stays close to the plain PyTorch loop (zero_grad, forward, loss, backward, step):
metrics are summed on the device and read by the host only when a Progress event is due (a
few times a second) and at the end of each epoch, so no step waits for the device. Every place
where the host does wait for the device is marked ``# sync:``.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from workbench.engine.checkpoint_io import encode_checkpoint, read_checkpoint, write_checkpoint
from workbench.engine.checkpoints import (
    TrainingState,
    build_checkpoint,
    checkpoint_kinds,
    checkpoint_paths,
    input_record,
    prune_epoch_checkpoints,
    restore_checkpoint,
)
from workbench.engine.control import Control
from workbench.engine.cpu_share import cpu_share
from workbench.engine.determinism import deterministic_kernels, refused_op
from workbench.engine.device import device_name
from workbench.engine.distributed import Team, place_from_environment, worker_lost
from workbench.engine.evaluate import evaluate_model, validation_metrics
from workbench.engine.inspection import Inspector
from workbench.engine.loop_state import BestTracker, Position, ProgressMeter, RunEnd
from workbench.engine.metrics import MetricTotals
from workbench.engine.seeding import capture_rng, restore_rng
from workbench.engine.setup import Parts, build_parts
from workbench.engine.sinks import RunRecorder
from workbench.engine.step import train_step
from workbench.errors import CheckpointError, ConfigError, WorkbenchError
from workbench.experiment.validation import validate
from workbench.formatting import counted
from workbench.model.backbone_build import freeze_for_epoch, trained_parameters
from workbench.optim.build import build_optimizer, build_schedule
from workbench.outputs.reports import write_report
from workbench.runs import events as ev
from workbench.runs.checkpoints import chosen_checkpoint
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory, event_from_record
from workbench.runs.liveness import RunLock
from workbench.runs.resume_rules import check_new_total, check_resumable, starts_over
from workbench.runs.status import FINISHED
from workbench.runs.store import create_run
from workbench.schema import config as config_io
from workbench.schema.config import RunConfig
from workbench.usercode.copies import CODE_FOLDER, keep_code_copy, use_run_code
from workbench.usercode.importing import UserCodeError, user_code_words

#: Progress events are sent at most this often (seconds): enough for a live bar and chart.
PROGRESS_INTERVAL_S = 0.25


class TrainingFailed(WorkbenchError):
    """The run stopped on an error (non-finite loss, out of memory, a full disk, the user's
    code); saved checkpoints are intact and the message names the last good one. ``details``:
    the traceback of an error in the user's code, for ``--verbose`` (the run's log has it too)."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


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
    the rate of Progress events (0: after every step, for tests). ``clock``: the monotonic time
    that speeds, elapsed time and ETA are measured with (a test passes a fake one).
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
        clock: Callable[[], float] = time.monotonic,
        team: Team | None = None,
    ) -> None:
        #: The run's other workers, when torchrun started several (:mod:`workbench.engine.distributed`).
        self.team = team or Team(place_from_environment())
        #: The trainer's own copy: what it records (the device, the workers) never changes the caller's.
        self.config = copy.deepcopy(config)
        config = self.config
        # Only the first worker reports: the others would say the same things again.
        self.sinks: list[ev.Sink] = list(sinks) if self.team.first else []
        self.control = control or Control()
        self.run_dir = run
        self.device_override = device
        if device:
            # The run's config.toml and checkpoints say where it trained, so that a plain resume
            # continues there (a run trained with --device cpu on a GPU box stays on the CPU).
            config.train.device = device
        self.progress_interval_s = progress_interval_s
        self.clock = clock
        self._checkpoint = checkpoint  # resume from this state (see resume())
        self._extra_warnings: list[str] = []
        self._lock: RunLock | None = None
        #: Made by resume(): its config.toml is written again (the total or the device may change).
        self._resumed = False
        #: A resumed run whose epochs were all trained but whose end was never recorded (see resume()).
        self._test_left = False
        #: How the run ends before any step, when only its final test is left (set by _build).
        self._ending: RunEnd | None = None

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
        clock: Callable[[], float] = time.monotonic,
        trust_code: bool = False,
    ) -> Trainer:
        """A trainer that continues ``run`` from its last.pt; ``epochs`` sets a new total. The other
        workers of a distributed run read the same file; the first checks and claims the run.
        A run that never trained an epoch and has no checkpoint starts over, as the same run.
        The user's code is imported from the run's copy, checked first unless ``trust_code``
        (:func:`workbench.usercode.copies.use_run_code`)."""
        team = Team(place_from_environment())
        if team.first:
            check_resumable(run)
            run.clean_temp_files()
        make = functools.partial(
            cls,
            sinks=sinks,
            control=control,
            run=run,
            device=device,
            progress_interval_s=progress_interval_s,
            clock=clock,
            team=team,
        )
        if starts_over(run):
            config = run.read_config()
            config.train.epochs = epochs or config.train.epochs
            config.train.device = device or config.train.device
            note = use_run_code(run.path, config, trust=trust_code)
            trainer = make(validate(config))
            trainer._resumed = True
            trainer._extra_warnings += [note] if note else []
            return trainer
        state = read_checkpoint(run.last_checkpoint)
        stored = config_io.from_dict(state["config"])
        # Where it continues is checked, not where it trained: a run of a GPU box resumes on a laptop's CPU.
        stored.train.device = device or stored.train.device
        note = use_run_code(run.path, stored, trust=trust_code)  # before validation probes the code
        try:
            config = validate(stored)
        except ConfigError as error:
            raise CheckpointError(f"{run.last_checkpoint}: its experiment is no longer valid: {error}") from None
        done, mid_epoch = int(state["epoch"]), int(state["step"]) > 0
        recorded = run.read_status().state
        check_new_total(run.id, done, config.train.epochs, recorded, epochs, mid_epoch=mid_epoch)
        orphans = run.remove_unrecorded_checkpoints(done) if team.first else []
        warnings = []
        if epochs is not None and epochs != config.train.epochs:
            warnings.append(
                f"train.epochs changes from {config.train.epochs} to {epochs}; a schedule planned for "
                f"{config.train.epochs} epochs continues from where it was"
            )
        config.train.epochs = epochs or config.train.epochs
        trainer = make(config, checkpoint=state)
        trainer._resumed = True
        # Every epoch trained, the end never recorded (killed, or failed, in the final test):
        # only the test is left. A run that ended may instead train on (a new total, or early
        # stopping's patience afresh).
        trainer._test_left = epochs is None and not mid_epoch and recorded != FINISHED
        trainer._extra_warnings += [
            f"{path.relative_to(run.path)} was written by a save that did not finish and no record points to it; "
            f"removed (epoch {path.stem.removeprefix('epoch-').lstrip('0')} trains again)"
            for path in orphans
        ] + warnings
        trainer._extra_warnings += [note] if note else []
        return trainer

    def run(self) -> ev.RunFinished:
        """Train to the end (or a stop request); raises TrainingFailed on NaN loss, OOM, disk errors.

        A new run (no ``run`` given) raises bad settings and missing data before its folder is
        created. A run whose folder exists (launched, or resumed) is claimed first: this process
        takes its lock for as long as it trains, and a failure to start is recorded in it.
        A distributed run's first worker does all of this; the others train in the folder it
        names and write nothing.
        """
        team = self.team
        self.config.train.workers = team.place.local_workers  # how this run is trained, in its config.toml
        try:
            with deterministic_kernels(self.config.train.deterministic):
                run = self.run_dir
                if run is not None and team.first:
                    self._claim(run)
                parts, state = self._build_recorded()
                if run is None and team.first:
                    run = create_run(self.config)
                    self._claim(run)
                elif run is not None and self._resumed and team.first:
                    config_io.write(self.config, run.config_path)  # the epochs total or the device may have changed
                run = RunDir(Path(team.share(str(run.path) if run is not None else "")))
                self.run_dir = run
                if team.first:
                    keep_code_copy(run.path, self.config)  # what it imported, for resume, eval and export
                with cpu_share(parts.device, run.id, self.config.train.deterministic) as shared:
                    self._extra_warnings += [shared] if shared else []
                    return _Session(self, run, parts, state).train()
        finally:
            if self._lock is not None:
                self._lock.release()
            team.leave()

    def _claim(self, run: RunDir) -> None:
        """Take the run's lock (or refuse: another process trains it) and record into its folder."""
        self._lock = RunLock(run.path)
        self._lock.acquire(run.id, run.read_status())
        self.run_dir = run
        run.update_status(pid=os.getpid(), host=socket.gethostname())
        self.sinks.insert(0, RunRecorder(run))

    def _build_recorded(self) -> tuple[Parts, TrainingState]:
        """Build; where a run folder is already claimed, a failure to build is recorded in it."""
        try:
            return self._build()
        except BaseException as error:
            if self.run_dir is not None:
                message = str(error) if isinstance(error, WorkbenchError) else f"{type(error).__name__}: {error}"
                if isinstance(error, UserCodeError):
                    _log_traceback(self.run_dir, error)
                _announce_failure(self.sinks, ev.RunFailed(message=message, last_checkpoint=""))
            raise

    def _build(self) -> tuple[Parts, TrainingState]:
        """Data, model, loss, optimizer, schedule, and the states of a checkpoint when resuming."""
        config = self.config
        parts = build_parts(config, device=self.device_override, for_training=True, team=self.team)
        steps_per_epoch = parts.steps_per_epoch()
        module = parts.prepared.module
        optimizer = build_optimizer(config.optimizer, trained_parameters(module, parts.frozen))
        stopping = config.train.early_stopping
        state = TrainingState(
            module=module,
            optimizer=optimizer,
            schedule=build_schedule(config.schedule, optimizer, config.train.epochs, steps_per_epoch),
            scaler=torch.amp.GradScaler(parts.device.type, enabled=parts.precision.needs_grad_scaler),
            position=Position(steps_per_epoch),
            best=BestTracker(config.train.checkpoint.monitor),
            early=BestTracker(stopping.monitor, stopping.min_delta),
            epoch_totals=MetricTotals(parts.task, parts.num_outputs, parts.device),
        )
        if self._checkpoint is not None:
            path = self.run_dir.last_checkpoint if self.run_dir else Path("checkpoint")
            restore_checkpoint(state, self._checkpoint, path)
            if not self.team.first:
                state.epoch_totals.reset()  # the first worker's restored totals are every worker's sum
            self._extra_warnings += _worker_count_warnings(self._checkpoint, self.team.place.workers)
            if stopping.enabled and state.early.bad_epochs >= stopping.patience:
                if self._test_left:
                    self._ending = RunEnd.EARLY_STOPPED
                else:
                    state.early.bad_epochs = 0
                    self._extra_warnings.append("early stopping had ended this run; its patience starts again")
            elif self._test_left and state.position.epochs_done >= config.train.epochs:
                self._ending = RunEnd.FINISHED
        return parts, state


class _Session:
    """One session of training a claimed run, from its start or resume point until it ends.

    :meth:`train` is the loop; :meth:`_train_epoch` is one epoch, read top to bottom.
    """

    def __init__(self, trainer: Trainer, run: RunDir, parts: Parts, state: TrainingState) -> None:
        self.config = trainer.config
        self.sinks = trainer.sinks
        self.control = trainer.control
        self.team = trainer.team
        self.run = run
        self.parts = parts
        self.model = parts.prepared.model  # what is called: may wrap state.module (DistributedDataParallel, compile)
        self.state = state
        self.warnings = parts.warnings + trainer._extra_warnings
        resumed_from = trainer._checkpoint
        # Restored once the resumed epoch's data is positioned, so what follows is what would have followed.
        self.rng_at_stop = _worker_rng(resumed_from, trainer.team) if resumed_from is not None else None
        self.last_metrics: dict[str, dict[str, float]] = (resumed_from or {}).get("metrics") or {"train": {}, "val": {}}
        self.last_saved = (run.last_checkpoint, state.position.epochs_done) if resumed_from is not None else None
        #: The files the last save of this session wrote: they hold the model as it is now.
        self.last_written: tuple[Path, ...] = ()
        #: The record of the last epoch completed, kept in every checkpoint taken at an epoch's end.
        self.last_ended = _epoch_ended(resumed_from) if resumed_from is not None else None
        #: That record when the run's history lacks it: a crash came between checkpoint and record.
        self.unrecorded_epoch = _unrecorded(run, self.last_ended)
        # A look inside the model at each epoch's end, by the worker that writes the run folder
        # (every worker holds the same model).
        self.inspector = Inspector(parts, run) if trainer.team.first else None
        self.meter = ProgressMeter(
            trainer.progress_interval_s,
            state.position.global_step,
            elapsed_before=_elapsed_before(run, resumed_from),
            clock=trainer.clock,
        )
        #: With other workers: the step of the epoch at which they next agree (report, pause, stop).
        self.next_agreement = 1
        #: Set when only the final test is left: the run ends so, before any step.
        self.ending = trainer._ending

    def train(self) -> ev.RunFinished:
        """Train; every way training can end is recorded as an event before it returns or raises."""
        try:
            if self.unrecorded_epoch is not None:
                # Killed after the epoch's checkpoint was durable and before its record: record it
                # now, from the checkpoint, so that the history has every epoch exactly once.
                self._emit(self.unrecorded_epoch)
            self._emit_start()
            return self._finish(self._train_epochs())
        except _Failure as failure:
            raise self._fail(str(failure), failure.epoch, failure.step) from None
        except BaseException as error:
            words = self._failure_words(error)
            if words is None:  # not one the run can say in a line: recorded, and raised as it is
                self._fail("interrupted" if isinstance(error, KeyboardInterrupt) else f"{type(error).__name__}: {error}")
                raise
            failed = self._fail(words)
            if _users_words(error) is not None:  # the line says where; the log keeps how it got there
                failed.details = _log_traceback(self.run, error)
            raise failed from None

    def _failure_words(self, error: BaseException) -> str | None:
        """What went wrong, in the one line the run records and the user reads, for each failure a
        run can explain (None for the others, whose traceback goes to the log)."""
        position, size = self.state.position, self.config.data.batch_size
        if isinstance(error, torch.cuda.OutOfMemoryError):
            torch.cuda.empty_cache()
            return (
                f"CUDA ran out of memory at epoch {position.epoch}, step {position.step} with data.batch_size={size}; "
                f"try a smaller batch (--set data.batch_size={max(1, size // 2)})"
            )
        if (words := _users_words(error)) is not None:
            # A resume runs the run's own copy of the code (code/): fixing the file helps a new run.
            return (
                f"{words} at epoch {position.epoch}, step {position.step}; training stopped. {self._last_good()}. "
                f"A resume runs the run's own copy of the code ({CODE_FOLDER}/ in its folder): fix your file and "
                "train a new run. The traceback is in the run's log"
            )
        if isinstance(error, OSError):
            return f"{error.filename or self.run.path}: {error.strerror or error}; training stopped. {self._last_good()}"
        if (op := refused_op(error)) is not None:
            return (
                f"train.deterministic: {op} has no deterministic version on {self.parts.device}; "
                "set train.deterministic=false to train this model"
            )
        if worker_lost(error):
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            return f"another worker of this run stopped ({reason}); training ended. {self._last_good()}"
        return None

    def _train_epochs(self) -> RunEnd:
        if self.ending is not None:
            return self.ending
        for epoch in range(self.state.position.epoch, self.config.train.epochs + 1):
            ended = self._train_epoch(epoch)
            if ended is not None:
                return ended
        return RunEnd.FINISHED

    def _train_epoch(self, epoch: int) -> RunEnd | None:
        """One epoch, in order: train steps, validation, schedule and trackers, checkpoint, events,
        early stopping. Returns how the run ended when it ends in this epoch, else None."""
        state, meter, totals = self.state, self.meter, self.state.epoch_totals
        position, schedule = state.position, state.schedule
        epoch_started = meter.clock()
        skip = position.begin_epoch(epoch)  # steps a resumed epoch had done
        if not skip:
            totals.reset()
        batches = self._epoch_batches(epoch, skip)
        freeze_for_epoch(state.module, self.parts.frozen, epoch)  # a backbone's unfreeze_after
        meter.begin_epoch(skip, totals.count)
        samples_before = totals.count
        self.next_agreement = skip + 1
        if self._agree(skip, report=False):  # a stop asked for between epochs stops here
            return RunEnd.STOPPED

        self.model.train()
        for step, (inputs, targets) in enumerate(batches, start=skip + 1):
            position.step = step
            loss = self._train_step(inputs, targets)
            meter.record_loss(loss)
            position.global_step += 1
            if self._between_steps(step):
                return RunEnd.STOPPED
        train_s = meter.end_training()

        train_totals = self.team.sum_totals(totals)  # sync: the workers' totals summed
        train = self._checked_train_metrics(train_totals)  # sync: reads the epoch's totals
        val = {}
        if self.parts.splits.val is not None:
            # sync: reads the validation totals
            val = validation_metrics(self.parts, self.parts.prepared, "val", team=self.team)
        self.last_metrics = {"train": train, "val": val}
        monitored = {f"train_{k}": v for k, v in train.items()} | {f"val_{k}": v for k, v in val.items()}
        lr = schedule.lr()  # the rate this epoch ended with, before a per-epoch schedule moves it
        schedule.after_epoch(monitored.get(schedule.monitor) if schedule.monitor else None)
        is_best = state.best.update(monitored.get(state.best.monitor), epoch)
        state.early.update(monitored.get(state.early.monitor), epoch)

        ended = ev.EpochEnded(
            epoch=epoch,
            epochs=self.config.train.epochs,
            train=train,
            val=val,
            lr=lr,
            duration_s=meter.clock() - epoch_started,
            samples_per_s=(train_totals.count - samples_before) / train_s if train_s > 0 else 0.0,
            is_best=is_best,
            best_epoch=state.best.best_epoch,
            best_value=state.best.best,
            monitor=state.best.monitor,
            elapsed_s=meter.elapsed(),
        )
        # The checkpoint first: nothing is recorded as done before the file that holds it is durable.
        # It carries the epoch's record too, for a resume after a crash between the two (below).
        self.last_ended = ended
        saved = self._save(checkpoint_kinds(self.config.train.checkpoint, epoch, is_best))
        self._emit(ended)
        self._emit(saved)
        if self.inspector is not None:
            for warning in self.inspector.epoch_ended(epoch, position.global_step):  # sync: one read of the figures
                self._emit(warning)

        stopping = self.config.train.early_stopping
        if stopping.enabled and state.early.bad_epochs >= stopping.patience:
            return RunEnd.EARLY_STOPPED
        return None

    def _epoch_batches(self, epoch: int, skip: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The epoch's batches after the ``skip`` a resumed epoch had done; the first epoch of a
        resume then puts the random generators back as they were at the stop."""
        batches = iter(self.parts.splits.train.epoch(epoch))
        if self.rng_at_stop is not None:
            for _ in range(skip):
                next(batches)
            restore_rng(self.rng_at_stop)
            self.rng_at_stop = None
        return batches

    def _train_step(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """One optimizer step on one batch, then the schedule and the epoch's totals; returns the batch's loss."""
        state = self.state
        outputs, loss = train_step(self.parts, state.optimizer, state.scaler, self.config.train.grad_clip, inputs, targets)
        state.schedule.after_step()
        state.epoch_totals.add(outputs, targets, loss)
        return loss

    # ------------------------------------------------------------------ reporting and control

    def _between_steps(self, step: int) -> bool:
        """After a step: at the steps the workers agree at (alone: every step), report when due
        and obey a pause or a stop; True when the run stops here. After the epoch's last step
        the epoch ends (validation, checkpoint) and the next epoch obeys."""
        if step < self.next_agreement:
            return False
        return self._agree(step, obey=step < self.state.position.steps_per_epoch)

    def _agree(self, step: int, report: bool = True, obey: bool = True) -> bool:
        """The workers agree (sync: with others, a few times a second; alone, nothing is read)
        on their totals and on a stop or pause; a report when due; True when the run stops
        (``obey``: here; else the next epoch's start obeys)."""
        meter, control = self.meter, self.control
        global_step = self.state.position.global_step
        agreed = self.team.agree(self.state.epoch_totals, control, step, lambda: meter.steps_per_report(global_step))
        self.next_agreement = agreed.next_step
        if report and meter.report_due():
            self._report(agreed.totals)  # sync: reads the epoch's totals, a few times a second
        elif report and agreed.met:
            self._checked_train_metrics(agreed.totals)  # every worker fails on a non-finite loss together
        if agreed.stop:
            control.stop()
        elif agreed.pause:
            control.pause()
        return obey and control.pending and self._obey_control()

    def _report(self, totals: MetricTotals) -> None:
        """Emit a Progress event from the epoch's ``totals`` and check that the loss is still finite."""
        position, meter = self.state.position, self.meter
        metrics = self._checked_train_metrics(totals)
        now = meter.clock()
        loss, samples_per_s = meter.window(metrics["loss"], totals.count, now)
        epochs, steps_per_epoch = self.config.train.epochs, position.steps_per_epoch
        steps_left = (epochs - position.epoch) * steps_per_epoch + steps_per_epoch - position.step
        self._emit(
            ev.Progress(
                epoch=position.epoch,
                step=position.step,
                steps_per_epoch=steps_per_epoch,
                global_step=position.global_step,
                loss=loss,
                acc=metrics.get("acc"),
                lr=self.state.schedule.lr(),
                samples_per_s=samples_per_s,
                elapsed_s=meter.elapsed(),
                eta_s=meter.eta_s(now, position.global_step, steps_left, epochs - position.epoch + 1),
                device_memory_gib=self._peak_device_memory_gib(),
            )
        )
        meter.reported(position.step, metrics["loss"], totals.count, now)

    def _peak_device_memory_gib(self) -> float:
        """Peak GPU memory of this process (the allocator's counter: no device sync)."""
        device = self.parts.device
        return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else 0.0

    def _checked_train_metrics(self, totals: MetricTotals) -> dict[str, float]:
        """The metrics of the epoch's ``totals`` so far; raises _Failure naming the first non-finite step."""
        metrics = totals.compute()  # sync: reads the epoch's totals
        position = self.state.position
        if not metrics or math.isfinite(metrics["loss"]):
            self.meter.checked(position.step)
            return metrics
        first, value = self.meter.first_non_finite()
        raise _Failure(
            f"the loss became {metrics['loss'] if value is None else value} at epoch {position.epoch}, step {first}; "
            f"training stopped. {self._last_good()}. Try a lower optimizer.lr or train.grad_clip",
            position.epoch,
            first,
        )

    def _last_good(self) -> str:
        if self.last_saved is None:
            return "No checkpoint had been saved yet"
        path, epoch = self.last_saved
        return f"Last good checkpoint: {path} (epoch {epoch})"

    def _obey_control(self) -> bool:
        """Between steps: wait out a pause; on stop, checkpoint here and return True."""
        control, position = self.control, self.state.position
        if control.paused and not control.stop_requested:
            self._emit(ev.StateChanged("paused", position.epoch, position.step))
            self.meter.pause(lambda: self.team.hold_pause(control))
            if not control.stop_requested:
                self._emit(ev.StateChanged("running", position.epoch, position.step))
        if control.stop_requested:
            # sync: nothing non-finite goes into the checkpoint
            self._checked_train_metrics(self.team.sum_totals(self.state.epoch_totals))
            self._emit(self._save(("last",)))
            return True
        return False

    # ------------------------------------------------------------------ checkpoints

    def _save(self, kinds: tuple[str, ...]) -> ev.CheckpointSaved:
        """Write one checkpoint of the run as it is to each of its files (epoch-NNN, last, best),
        atomically; returns the event that says so, for the caller to emit once what it records is
        in place. At an epoch's end it carries that epoch's record (a stop mid-epoch has none)."""
        run, team = self.run, self.team
        epochs_done = self.state.position.epochs_done
        written = checkpoint_paths(run, kinds, epochs_done)
        worker_rngs = team.gather_apart(capture_rng())  # so that each worker continues its own draws
        totals = team.sum_totals(self.state.epoch_totals) if not self.state.position.at_epoch_end else None
        if team.first:
            state = build_checkpoint(
                self.state,
                run_id=run.id,
                config=self.config,
                task=self.parts.task,
                metrics=self.last_metrics,
                epoch_ended=self.last_ended if self.state.position.at_epoch_end else None,
                elapsed_s=self.meter.elapsed(),
                epoch_totals=totals,
                worker_rngs=worker_rngs,
                inputs=input_record(self.parts.splits.normaliser, self.parts.splits.info.input_shape),
            )
            write_checkpoint(encode_checkpoint(state), written)  # sync: torch.save copies the states to the host
        self.last_saved = (run.last_checkpoint, epochs_done)
        self.last_written = tuple(written)
        if team.first:
            prune_epoch_checkpoints(run, self.config.train.checkpoint, kinds)
        return ev.CheckpointSaved(path=str(written[0]), epoch=epochs_done, kinds=kinds)

    # ------------------------------------------------------------------ the end

    def _emit_start(self) -> None:
        parts, position = self.parts, self.state.position
        splits = parts.splits
        self._emit(
            ev.RunStarted(
                run_id=self.run.id,
                run_dir=str(self.run.path),
                name=self.config.name,
                device=str(parts.device),
                device_name=device_name(parts.device),
                num_params=sum(p.numel() for p in self.state.module.parameters()),
                epochs=self.config.train.epochs,
                start_epoch=position.epoch,
                steps_per_epoch=position.steps_per_epoch,
                train_size=splits.train.num_samples,
                val_size=splits.val.num_samples if splits.val is not None else 0,
                test_size=splits.test.num_samples,
                task=parts.task,
                start_step=position.step,
                workers=self.team.place.workers,
                test_only=self.ending is not None,
            )
        )
        for message in self.warnings:
            self._emit(ev.RunWarning(message))

    def _finish(self, ended: RunEnd) -> ev.RunFinished:
        """Test the chosen checkpoint (unless stopped) and emit the run's RunFinished."""
        test: dict[str, float] = {}
        checkpoint = ""
        if ended is not RunEnd.STOPPED:
            path = chosen_checkpoint(self.run, self.config)
            epoch = self._load_chosen(path)
            # sync: reads the test totals
            evaluation = evaluate_model(self.parts, "test", checkpoint=path, run_id=self.run.id, epoch=epoch, team=self.team)
            if self.team.first:
                write_report(self.run, evaluation.to_dict())
            test, checkpoint = evaluation.metrics, str(path)
        finished = ev.RunFinished(
            state=ended.value,
            epochs_done=self.state.position.epochs_done,
            best_epoch=self.state.best.best_epoch,
            best_value=self.state.best.best,
            monitor=self.state.best.monitor,
            test=test,
            checkpoint=checkpoint,
            duration_s=self.meter.elapsed(),
            epoch=self.state.position.epoch,
            step=self.state.position.step,
            steps_per_epoch=self.state.position.steps_per_epoch,
        )
        self._emit(finished)
        return finished

    def _load_chosen(self, path: Path) -> int:
        """Put the checkpoint at ``path`` into the model; returns its epoch. The one the last
        save wrote holds the model as it is, so it is not read back and decoded again."""
        if path in self.last_written:
            return self.state.position.epochs_done
        epoch = 0
        if self.team.first:
            chosen = read_checkpoint(path)
            self.state.module.load_state_dict(chosen["model"])
            epoch = int(chosen["epoch"])
        self.team.share_weights(self.state.module)  # the other workers take the first's
        return self.team.share(epoch)

    def _fail(self, message: str, epoch: int | None = None, step: int | None = None) -> TrainingFailed:
        """Emit RunFailed at ``epoch``/``step`` (where the run is, unless given); returns the error to raise."""
        position = self.state.position
        last = str(self.last_saved[0]) if self.last_saved else ""
        failed = ev.RunFailed(
            message=message,
            epoch=position.epoch if epoch is None else epoch,
            step=position.step if step is None else step,
            last_checkpoint=last,
        )
        _announce_failure(self.sinks, failed)
        return TrainingFailed(message)

    def _emit(self, event: ev.Event) -> None:
        for sink in self.sinks:
            sink(event)


def _users_words(error: BaseException) -> str | None:
    """The one line for an error of the user's code (a model's forward, a data set's
    ``__getitem__``, ``sys.exit()`` there), else None. An error in a DataLoader worker comes back
    re-raised with the worker's traceback as its text, the user's line last."""
    if isinstance(error, KeyboardInterrupt):
        return None
    text = str(error).strip()
    if "DataLoader worker" in text.partition("\n")[0]:
        last = text.splitlines()[-1]
        kind, sep, line = last.partition(": ")
        return line if sep and kind.endswith(UserCodeError.__name__) else None
    return user_code_words(error)


def _log_traceback(run: RunDir, error: BaseException) -> str:
    """Append the traceback of an error of the user's code to the run's log (a detached run's
    output goes there too; a foreground run's log starts with it); returns it."""
    details = getattr(error, "details", "") or "".join(traceback.format_exception(error))
    try:
        with run.log_path.open("a", encoding="utf-8") as log:
            log.write(details if details.endswith("\n") else details + "\n")
    except OSError:
        pass  # the one line is recorded in the status; a log that cannot be written loses only this
    return details


def _announce_failure(sinks: Sequence[ev.Sink], failed: ev.RunFailed) -> None:
    """Tell every sink; a failing sink must not hide the run's own failure."""
    for sink in sinks:
        try:
            sink(failed)
        except Exception:  # noqa: BLE001 - a failing sink must not hide the run's own failure
            pass


def _epoch_ended(checkpoint: dict[str, Any]) -> ev.EpochEnded | None:
    """The record of the epoch a checkpoint completes (None: a stop mid-epoch, or an older file)."""
    record = checkpoint.get("epoch_ended")
    event = event_from_record(record) if isinstance(record, dict) else None
    return event if isinstance(event, ev.EpochEnded) else None


def _elapsed_before(run: RunDir, checkpoint: dict[str, Any] | None) -> float:
    """The run's training time before this session: what the checkpoint it resumes from says
    (a checkpoint written before it kept that: the status's training time)."""
    if checkpoint is None:
        return 0.0
    saved = checkpoint.get("elapsed_s")
    return float(saved) if isinstance(saved, (int, float)) else run.read_status().train_seconds


def _unrecorded(run: RunDir, ended: ev.EpochEnded | None) -> ev.EpochEnded | None:
    """``ended`` if the run's metrics.jsonl has no record of its epoch."""
    if ended is None:
        return None
    recorded = {epoch.epoch for epoch in RunHistory.from_records(run.read_events()).epochs}
    return ended if ended.epoch not in recorded else None


def _worker_rng(checkpoint: dict[str, Any], team: Team) -> dict[str, Any]:
    """The random state this worker continues from: its own where the checkpoint has one for
    each worker of the same count, else the first worker's (the only one a single process saves)."""
    saved = checkpoint.get("worker_rngs")
    if isinstance(saved, list) and len(saved) == team.place.workers:
        return saved[team.place.rank]
    return checkpoint["rng"]


def _worker_count_warnings(checkpoint: dict[str, Any], workers: int) -> list[str]:
    """A resume with another number of workers sees the same batches, but not the same run."""
    saved = checkpoint.get("worker_rngs")
    before = len(saved) if isinstance(saved, list) else 1
    if before == workers:
        return []
    return [
        f"this run trained with {counted(before, 'worker')} and continues with {workers}: the batches are the same, but random "
        "draws (dropout) and per-worker BatchNorm statistics change, so it will not repeat an uninterrupted run exactly"
    ]
