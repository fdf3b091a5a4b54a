"""TensorBoard event files of a run, exported from its history or written live by the sink.

Skipped without the ``tensorboard`` extra; with it, the files are read back record by record."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.runs.recording import STEPS_PER_EPOCH, epoch_ended, finished, new_run, record, report, started, trained_run
from workbench.outputs.export import read_history
from workbench.outputs.tensorboard import TB_FOLDER, TensorBoardSink, export_tensorboard
from workbench.runs import events as ev

from .tfevents import read_scalars

pytest.importorskip("tensorboardX")


def _values(scalars: dict, tag: str) -> list[tuple[int, float]]:
    return [(s.step, s.value) for s in scalars[tag]]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6)  # TensorBoard keeps float32


def test_export_writes_epochs_steps_and_the_test_at_their_global_steps_with_their_recorded_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = trained_run(monkeypatch)
    folder = export_tensorboard(run)
    assert folder == run.path / TB_FOLDER
    scalars = read_scalars(folder)
    assert set(scalars) == {
        *(f"{split}/{m}" for split in ("train", "val") for m in ("loss", "acc", "top5")),
        *("lr", "step/loss", "step/lr", "test/loss", "test/acc"),
    }
    assert [step for step, _ in _values(scalars, "train/loss")] == [STEPS_PER_EPOCH * e for e in (1, 2, 3)]
    assert all(_close(v, w) for (_, v), w in zip(_values(scalars, "train/loss"), (1.0, 0.5, 0.7), strict=True))
    assert [step for step, _ in _values(scalars, "step/loss")] == [2, 4, 6, 8, 10, 12]
    assert _values(scalars, "test/acc") == [(2 * STEPS_PER_EPOCH, 0.75)]  # best.pt: epoch 2's weights
    history, times = read_history(run)
    assert [s.wall_time for s in scalars["val/acc"]] == pytest.approx([times[id(e)] for e in history.epochs])


def test_exporting_again_replaces_the_earlier_export_in_a_named_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run = trained_run(monkeypatch)
    assert export_tensorboard(run, tmp_path / "tb") == tmp_path / "tb" / run.id
    record(run, monkeypatch, started(run, start_epoch=3), epoch_ended(3, 0.2))  # epoch 3 trained again since
    scalars = read_scalars(export_tensorboard(run, tmp_path / "tb"))
    assert [step for step, _ in _values(scalars, "train/loss")] == [4, 8, 12] and _close(scalars["train/loss"][-1].value, 0.2)
    assert "test/acc" not in scalars  # the resumed run has not been tested yet


def test_the_sink_of_a_resumed_run_replaces_the_steps_it_trains_again(monkeypatch: pytest.MonkeyPatch) -> None:
    run = new_run()
    first = TensorBoardSink()
    for event in (started(run), report(1, 4, 1.0), epoch_ended(1, 1.0), report(2, 2, 0.9)):
        first(event)
    first(ev.RunFailed(message="out of memory", epoch=2, step=2))  # epoch 2 is trained again from its start
    resumed = TensorBoardSink()
    for event in (started(run, start_epoch=2), report(2, 2, 0.6), epoch_ended(2, 0.5), finished(2, 2, "last.pt")):
        resumed(event)
    scalars = read_scalars(run.path / TB_FOLDER)
    assert [(step, round(value, 3)) for step, value in _values(scalars, "step/loss")] == [(4, 1.0), (6, 0.6)]
    assert [step for step, _ in _values(scalars, "val/loss")] == [4, 8] and _values(scalars, "test/acc") == [(8, 0.75)]
