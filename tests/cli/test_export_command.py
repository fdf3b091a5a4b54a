"""`workbench export` and `--tensorboard`, as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.runs.recording import epoch_ended, new_run, record, started, trained_run
from workbench.atomic import TEMP_PREFIX
from workbench.cli import main
from workbench.outputs.export import metrics_table
from workbench.runs.listing import list_runs
from workbench.runs.store import find_run

INSTALL = 'pip install -e ".[tensorboard]"'
TINY = ["--set", "data.subset=200", "--epochs", "2"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """tensorboardX cannot be imported, whether or not this environment has it."""
    monkeypatch.setitem(sys.modules, "tensorboardX", None)


def test_export_prints_the_epoch_csv_for_an_id_a_prefix_latest_and_a_folder(capsys, monkeypatch) -> None:
    exported = trained_run(monkeypatch)
    expected = metrics_table(exported).csv_text()
    for ref in (exported.id, exported.id[:10], "latest", str(exported.path)):
        assert run(capsys, "export", ref) == (0, expected, "")
    status, out, _ = run(capsys, "export", "latest", "--steps")
    assert status == 0 and out == metrics_table(exported, steps=True).csv_text()


def test_export_out_writes_the_file_whole_and_says_where_in_one_line(capsys, monkeypatch, tmp_path: Path) -> None:
    exported = trained_run(monkeypatch)
    target = tmp_path / "curves.csv"
    target.write_text("an older export")
    status, out, err = run(capsys, "export", "latest", "--out", str(target))
    assert (status, err) == (0, "") and out == f"wrote 3 epochs of {exported.id} to {target}\n"
    assert target.read_text() == metrics_table(exported).csv_text()
    assert not list(tmp_path.glob(TEMP_PREFIX + "*"))


def test_export_of_a_run_in_progress_gives_the_epochs_done_so_far(capsys, monkeypatch) -> None:
    running = new_run()
    record(running, monkeypatch, started(running), epoch_ended(1, 0.9))
    status, out, _ = run(capsys, "export", running.id)
    assert status == 0 and [line.split(",")[0] for line in out.splitlines()] == ["epoch", "1"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("export", "nope"), "error: no run matches 'nope'; see `workbench runs`"),
        (("export", "latest", "--tensorboard", "--out", "x.csv"), "error: export: --tensorboard writes every epoch"),
        (("export", "latest", "--out", "."), "error: .: is a folder"),
    ],
)
def test_export_mistakes_are_one_error_line_and_status_1(capsys, monkeypatch, argv: tuple[str, ...], message: str) -> None:
    trained_run(monkeypatch)
    status, out, err = run(capsys, *argv)
    assert status == 1 and out == "" and err.startswith(message) and err.count("\n") == 1


def test_export_of_a_run_without_epochs_says_it_has_none_yet(capsys, monkeypatch) -> None:
    empty = new_run()
    record(empty, monkeypatch, started(empty))
    status, _, err = run(capsys, "export", empty.id)
    assert status == 1 and err.startswith(f"error: run {empty.id} has no finished epoch recorded yet (")


def test_tensorboard_without_the_extra_names_the_install_and_no_run_starts(capsys, without_the_extra, monkeypatch) -> None:
    trained_run(monkeypatch)
    for argv in (("export", "latest", "--tensorboard"), ("train", "digits-mlp", *TINY, "--tensorboard", "--detach")):
        status, out, err = run(capsys, *argv)
        assert status == 1 and INSTALL in err and err.count("\n") == 1
    status, _, err = run(capsys, "train", "digits-mlp", *TINY, "--tensorboard")
    assert status == 1 and INSTALL in err
    assert len(list_runs()) == 1  # only the run made above


def test_train_with_tensorboard_writes_the_runs_curves_into_its_folder(capsys) -> None:
    pytest.importorskip("tensorboardX")
    from tests.outputs.tfevents import read_scalars

    status, out, _ = run(capsys, "train", "digits-mlp", *TINY, "--tensorboard")
    assert status == 0
    scalars = read_scalars(find_run("latest").path / "tb")
    # (step/loss comes with the trainer's progress reports, which a run this short may not send:
    # the sink's tests in tests/runs/test_tensorboard.py send them.)
    assert len(scalars["val/acc"]) == 2 and len(scalars["lr"]) == 2 and len(scalars["test/acc"]) == 1


@pytest.mark.slow
def test_export_into_a_closed_pipe_ends_quietly(monkeypatch) -> None:
    """`workbench export RUN | head -1`: the reader goes away before the CSV is written."""
    trained_run(monkeypatch)
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "export", "latest"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0 and err == b""


def test_train_with_tensorboard_into_a_file_refuses_in_one_line_before_a_run_starts(capsys, tmp_path: Path) -> None:
    pytest.importorskip("tensorboardX")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    status, _, err = run(capsys, "train", "digits-mlp", *TINY, "--tensorboard", str(a_file))
    assert status == 1 and err.startswith(f"error: {a_file}: cannot hold TensorBoard event files (") and err.count("\n") == 1
    assert list_runs() == []
