"""The plain words a run's events become: the same in `workbench train`, `workbench logs` and the app."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from rich.console import Console

from workbench.cli.run_commands import TrainView
from workbench.runs import events as ev
from workbench.runs.history import checkpoint_text, epoch_line, failure_text, finished_text, stopped_text


def _epoch(train: dict[str, float], val: dict[str, float]) -> ev.EpochEnded:
    """Epoch 123 of 500 of a long run: three-digit epochs, a decayed LR, a fast model, a new best."""
    return ev.EpochEnded(
        epoch=123,
        epochs=500,
        train=train,
        val=val,
        lr=0.000734,
        duration_s=75.2,
        samples_per_s=38_120.5,
        is_best=True,
        best_epoch=123,
        best_value=val.get("loss"),
        monitor="val_loss",
    )


CLASSIFICATION = _epoch({"loss": 0.41234567, "acc": 0.87123, "top5": 0.99}, {"loss": 0.33112, "acc": 0.90234, "top5": 1.0})
REGRESSION = _epoch({"loss": 2891.345, "mae": 41.2345, "r2": 0.51}, {"loss": 3012.5678, "mae": 43.5678, "r2": -0.1234})


def test_a_classification_epoch_line_fits_80_columns_with_validation_lr_speed_and_best_mark() -> None:
    """It was 86+ characters, and an 80-column terminal broke it mid-number."""
    line = epoch_line(CLASSIFICATION, "classification")
    assert line == "epoch 123/500  loss 0.4123 acc 0.871  val 0.3311 acc 0.902  lr 7.34e-4  38k/s *"
    assert len(line) <= 80


def test_a_regression_epoch_line_fits_80_columns_with_its_validation_mae_and_r2() -> None:
    line = epoch_line(REGRESSION, "regression")
    assert line == "epoch 123/500  loss 2891  val 3013 mae 43.568 r2 -0.123  lr 7.34e-4  38k/s *"
    assert len(line) <= 80
    without_val = epoch_line(dataclasses.replace(REGRESSION, val={}, is_best=False), "regression")
    assert without_val == "epoch 123/500  loss 2891 mae 41.234  lr 7.34e-4  38k/s"


def test_a_terminal_narrower_than_an_epoch_line_wraps_it_between_words_never_inside_a_number() -> None:
    out = io.StringIO()
    view = TrainView(Console(file=out, width=50, force_terminal=True, color_system=None))
    view.say(epoch_line(CLASSIFICATION, "classification"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and all(len(line) <= 50 for line in lines)
    assert " ".join(lines).split() == epoch_line(CLASSIFICATION, "classification").split()


def test_a_pipe_gets_each_line_whole_however_long() -> None:
    out = io.StringIO()
    view = TrainView(Console(file=out, width=50, color_system=None))
    view.say(epoch_line(CLASSIFICATION, "classification"))
    assert out.getvalue() == epoch_line(CLASSIFICATION, "classification") + "\n"


def test_a_stop_between_epochs_and_one_recorded_by_an_older_version_still_read_well() -> None:
    between = ev.RunFinished(state="stopped", epochs_done=2, best_epoch=2, best_value=0.5, monitor="val_loss", epoch=3)
    assert (
        stopped_text(between, "RUN")
        == "Stopped at the start of epoch 3; 2 epochs done, checkpoint saved; `workbench resume RUN` continues it"
    )
    older = dataclasses.replace(between, epoch=0)
    assert stopped_text(older) == "Stopped with 2 epochs done, checkpoint saved; `workbench resume` continues it"


def test_one_epoch_is_said_in_the_singular_where_a_run_counts_its_epochs() -> None:
    """The log said "Saved epoch-001.pt, last.pt (1 epochs done)"."""
    saved = ev.CheckpointSaved(path="/r/checkpoints/epoch-001.pt", epoch=1, kinds=("epoch", "last"))
    assert checkpoint_text(saved) == "Saved epoch-001.pt, last.pt (1 epoch done)"
    finished = ev.RunFinished(state="finished", epochs_done=1, best_epoch=1, best_value=0.5, monitor="val_loss", duration_s=2.0)
    assert finished_text(finished).startswith("Finished after 1 epoch in 2.0s")
    stopped = ev.RunFinished(state="stopped", epochs_done=1, best_epoch=1, best_value=0.5, monitor="val_loss", epoch=2)
    assert "; 1 epoch done, checkpoint saved" in stopped_text(stopped)


def test_a_failed_run_is_one_line_naming_its_error_and_its_log() -> None:
    """The app said "✗ failed its log says why": no punctuation, no error, no path."""
    message = "the loss became nan at epoch 2, step 5; training stopped. Last good checkpoint: /r/last.pt (epoch 1)."
    log = Path("/runs/20261130-111118-digits-mlp/log")
    text = failure_text(message, log)
    assert text == f"{message[:-1]}. Log: {log}" and "\n" not in text
    assert failure_text("", log) == f"no error was recorded. Log: {log}"
    assert failure_text("CUDA ran out of memory", None) == "CUDA ran out of memory."
