"""Run folders written by the engine's own recorder from events made up here (no torch), with
every kind of report an export reads: training reports, epochs, a resume, a test."""

from __future__ import annotations

import pytest

from workbench.engine import sinks
from workbench.engine.sinks import RunRecorder
from workbench.experiment.presets import read_experiment
from workbench.runs import events as ev
from workbench.runs.folder import RunDir
from workbench.runs.store import create_run

STEPS_PER_EPOCH = 4


def new_run(name: str = "export-me", epochs: int = 3) -> RunDir:
    config = read_experiment("digits-mlp")
    config.name, config.train.epochs = name, epochs
    return create_run(config)


def started(run: RunDir, *, start_epoch: int = 1, epochs: int = 3) -> ev.RunStarted:
    return ev.RunStarted(
        run_id=run.id,
        run_dir=str(run.path),
        name="export-me",
        device="cpu",
        device_name="CPU",
        num_params=10,
        epochs=epochs,
        start_epoch=start_epoch,
        steps_per_epoch=STEPS_PER_EPOCH,
        train_size=40,
        val_size=10,
        test_size=10,
        task="classification",
    )


def report(epoch: int, step: int, loss: float) -> ev.Progress:
    return ev.Progress(
        epoch=epoch,
        step=step,
        steps_per_epoch=STEPS_PER_EPOCH,
        global_step=(epoch - 1) * STEPS_PER_EPOCH + step,
        loss=loss,
        acc=0.25 * step,
        lr=0.1 / epoch,
        samples_per_s=123.5,
        elapsed_s=1.0,
        eta_s=2.0,
    )


def epoch_ended(epoch: int, loss: float, *, val: bool = True, epochs: int = 3) -> ev.EpochEnded:
    return ev.EpochEnded(
        epoch=epoch,
        epochs=epochs,
        train={"loss": loss, "acc": 1 / 3, "top5": 0.9},
        val={"loss": loss * 1.1, "acc": 2 / 7, "top5": 0.95} if val else {},
        lr=0.1 / epoch,
        duration_s=0.1 + epoch / 100,
        samples_per_s=1000.0 / 3,
        is_best=True,
        best_epoch=epoch,
        best_value=2 / 7,
        monitor="val_acc",
    )


def finished(best_epoch: int, epochs_done: int, checkpoint: str = "best.pt") -> ev.RunFinished:
    return ev.RunFinished(
        state="finished",
        epochs_done=epochs_done,
        best_epoch=best_epoch,
        best_value=2 / 7,
        monitor="val_acc",
        test={"loss": 0.123456789012345, "acc": 0.75},
        checkpoint=f"/somewhere/checkpoints/{checkpoint}",
        duration_s=1.5,
    )


def record(run: RunDir, monkeypatch: pytest.MonkeyPatch, *events: ev.Event) -> None:
    """Record ``events`` as a trainer would, every training report kept (the recorder keeps at
    most two a second of them, and a test sends them faster)."""
    monkeypatch.setattr(sinks, "PROGRESS_LOG_INTERVAL_S", 0.0)
    recorder = RunRecorder(run)
    for event in events:
        recorder(event)


def trained_run(monkeypatch: pytest.MonkeyPatch) -> RunDir:
    """Three epochs with two training reports each; the test used best.pt, of epoch 2."""
    run = new_run()
    events: list[ev.Event] = [started(run)]
    for epoch, loss in enumerate((1.0, 0.5, 0.7), start=1):
        events += [report(epoch, 2, loss + 0.2), report(epoch, 4, loss + 0.1), epoch_ended(epoch, loss)]
    record(run, monkeypatch, *events, finished(best_epoch=2, epochs_done=3))
    return run
