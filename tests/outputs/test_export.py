"""A run's metrics as CSV: the columns, lossless numbers, resumes, the test row, steps, refusals."""

from __future__ import annotations

import csv
import io

import pytest

from tests.runs.recording import epoch_ended, finished, new_run, record, report, started, trained_run
from workbench.errors import WorkbenchError
from workbench.outputs.export import CSV_NAME, export_to_run_folder, metrics_table, write_csv


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_epoch_rows_name_every_recorded_metric_in_a_documented_order(monkeypatch: pytest.MonkeyPatch) -> None:
    text = metrics_table(trained_run(monkeypatch)).csv_text()
    header = text.splitlines()[0].split(",")
    assert header == [
        *("epoch", "time", "elapsed_s", "duration_s", "lr", "samples_per_s"),
        *("train_loss", "train_acc", "train_top5", "val_loss", "val_acc", "val_top5", "test_loss", "test_acc"),
    ]
    assert [row["epoch"] for row in _rows(text)] == ["1", "2", "3"]


def test_numbers_read_back_as_the_floats_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows(metrics_table(trained_run(monkeypatch)).csv_text())
    second = epoch_ended(2, 0.5)
    assert float(rows[1]["train_acc"]) == 1 / 3 and float(rows[1]["val_acc"]) == 2 / 7
    assert float(rows[1]["samples_per_s"]) == 1000.0 / 3 and float(rows[1]["val_loss"]) == second.val["loss"]
    assert float(rows[1]["lr"]) == 0.1 / 2 and float(rows[1]["duration_s"]) == second.duration_s
    # elapsed: the training time up to the end of each epoch
    assert float(rows[2]["elapsed_s"]) == epoch_ended(1, 1).duration_s + second.duration_s + epoch_ended(3, 1).duration_s
    assert all(row["time"].endswith("+00:00") for row in rows)


def test_test_metrics_sit_on_the_row_of_the_epoch_whose_weights_were_tested(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows(metrics_table(trained_run(monkeypatch)).csv_text())  # best.pt, of epoch 2
    assert [row["test_loss"] for row in rows] == ["", "0.123456789012345", ""]
    last = new_run("tested-last")
    record(last, monkeypatch, started(last), epoch_ended(1, 1.0), epoch_ended(2, 0.9), finished(1, 2, "last.pt"))
    assert [row["test_acc"] for row in _rows(metrics_table(last).csv_text())] == ["", "0.75"]


def test_an_epoch_trained_again_after_a_resume_is_written_once_as_trained_last(monkeypatch: pytest.MonkeyPatch) -> None:
    run = new_run()
    crashed = (started(run), epoch_ended(1, 1.0), epoch_ended(2, 0.9))
    record(run, monkeypatch, *crashed, started(run, start_epoch=2), epoch_ended(2, 0.4))
    rows = _rows(metrics_table(run).csv_text())
    assert [(row["epoch"], row["train_loss"]) for row in rows] == [("1", "1.0"), ("2", "0.4")]


def test_a_run_in_progress_exports_what_it_has_recorded_without_test_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    run = new_run()
    record(run, monkeypatch, started(run), epoch_ended(1, 1.0, val=False))
    table = metrics_table(run)
    assert table.columns[-3:] == ("train_loss", "train_acc", "train_top5") and len(table.rows) == 1


def test_step_rows_are_the_training_reports_the_run_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows(metrics_table(trained_run(monkeypatch), steps=True).csv_text())
    assert list(rows[0]) == ["epoch", "step", "global_step", "time", "loss", "acc", "lr", "samples_per_s"]
    assert [(r["epoch"], r["step"], r["global_step"]) for r in rows][:3] == [("1", "2", "2"), ("1", "4", "4"), ("2", "2", "6")]
    assert float(rows[2]["loss"]) == report(2, 2, 0.5 + 0.2).loss and float(rows[2]["lr"]) == 0.05


def test_a_run_with_nothing_recorded_says_so_naming_the_run_and_its_file(monkeypatch: pytest.MonkeyPatch) -> None:
    run = new_run()
    record(run, monkeypatch, started(run))
    with pytest.raises(WorkbenchError, match=rf"run {run.id} has no finished epoch recorded yet \(.*metrics.jsonl\)"):
        metrics_table(run)
    with pytest.raises(WorkbenchError, match="no training step recorded yet"):
        metrics_table(run, steps=True)


def test_the_runs_screen_export_writes_metrics_csv_in_the_run_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    run = trained_run(monkeypatch)
    path = export_to_run_folder(run)
    assert path == run.path / CSV_NAME
    assert path.read_text(encoding="utf-8") == metrics_table(run).csv_text()


def test_writing_to_a_folder_or_an_impossible_place_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    table = metrics_table(trained_run(monkeypatch))
    with pytest.raises(WorkbenchError, match=rf"^{tmp_path}: is a folder"):
        write_csv(table, tmp_path)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    with pytest.raises(WorkbenchError, match=rf"^{a_file}.*: cannot write the CSV \(.+\)$"):
        write_csv(table, a_file / "m.csv")
