"""Runs made by the real engine for the Train, Runs and evaluation tests."""

from __future__ import annotations

from typing import Any

from workbench.engine.control import Control
from workbench.experiment.presets import load_experiment
from workbench.runs import events as ev
from workbench.runs.folder import RunDir


def train_run(
    preset: str = "digits-cnn", epochs: int = 2, *, stop_after: int | None = None, overrides: tuple[str, ...] = ()
) -> RunDir:
    """Train ``preset`` headless (as ``workbench train`` does); ``stop_after``: stop once that
    many epochs are done, which leaves a stopped run with its checkpoint."""
    from workbench.engine.trainer import Trainer

    control = Control()

    def stop_when_due(event: ev.Event) -> None:
        if stop_after is not None and isinstance(event, ev.EpochEnded) and event.epoch >= stop_after:
            control.stop()

    trainer = Trainer(load_experiment(preset, [f"train.epochs={epochs}", *overrides]), [stop_when_due], control)
    trainer.run()
    assert trainer.run_dir is not None
    return trainer.run_dir


def recorded_run(
    name: str,
    preset: str = "digits-cnn",
    *,
    lr: float = 0.01,
    val_acc: tuple[float, ...] = (0.5, 0.7, 0.9),
    finish: bool = True,
    overrides: tuple[str, ...] = (),
    sweep: str = "",
    queue_entry: str = "",
) -> RunDir:
    """A run folder written by the engine's own recorder from events made up here: fast, no torch.
    ``sweep``, ``queue_entry``: the run as a sweep's point started from the queue."""
    from workbench.engine.sinks import RunRecorder
    from workbench.experiment.presets import load_experiment
    from workbench.runs.store import create_run

    config = load_experiment(preset, overrides)
    config.name, config.optimizer.lr, config.train.epochs = name, lr, len(val_acc) + 1
    run = create_run(config, sweep=sweep, queue_entry=queue_entry)
    record = RunRecorder(run)
    record(run_started(run, name, num_params=1234, epochs=config.train.epochs, steps_per_epoch=10, sizes=(100, 10, 10)))
    for epoch, acc in enumerate(val_acc, start=1):
        record(
            ev.EpochEnded(
                epoch=epoch,
                epochs=config.train.epochs,
                train={"loss": 1.0 / epoch, "acc": acc},
                val={"loss": 1.2 / epoch, "acc": acc},
                lr=lr,
                duration_s=0.1,
                samples_per_s=1000.0,
                is_best=True,
                best_epoch=epoch,
                best_value=acc,
                monitor="val_acc",
            )
        )
    if finish:
        best = len(val_acc)
        record(
            ev.RunFinished(
                state="finished",
                epochs_done=best,
                best_epoch=best,
                best_value=val_acc[-1],
                monitor="val_acc",
                test={"loss": 0.3, "acc": val_acc[-1]},
            )
        )
    return run


def run_started(
    run: RunDir, name: str, *, num_params: int, epochs: int, steps_per_epoch: int, sizes: tuple[int, int, int]
) -> ev.RunStarted:
    """The RunStarted a trainer would send for ``run`` on the CPU; ``sizes``: train, val, test samples."""
    train_size, val_size, test_size = sizes
    return ev.RunStarted(
        run_id=run.id,
        run_dir=str(run.path),
        name=name,
        device="cpu",
        device_name="CPU",
        num_params=num_params,
        epochs=epochs,
        start_epoch=1,
        steps_per_epoch=steps_per_epoch,
        train_size=train_size,
        val_size=val_size,
        test_size=test_size,
        task="classification",
    )


def fixed_run(run_id: str, created_at: str, **recorded: Any) -> RunDir:
    """A :func:`recorded_run` under a fixed id, start time and training time, so that pictures
    of the Runs screen and of a comparison are the same at every test run."""
    run = recorded_run(run_id.split("-", 2)[2], **recorded)
    fixed = RunDir(run.path.with_name(run_id))
    run.path.rename(fixed.path)
    fixed.update_status(id=run_id, created_at=created_at, train_seconds=42.0)
    return fixed
