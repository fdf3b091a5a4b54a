"""`workbench train`, `runs`, `eval`, `resume` and `delete`, as a user runs them."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from rich.console import Console

from tests.processes import hold_lock
from workbench.cli import main
from workbench.engine.checkpoint_io import read_checkpoint
from workbench.experiment.presets import load_experiment
from workbench.runs.listing import list_runs
from workbench.runs.store import create_run, find_run

TINY = ["--set", "data.subset=200", "--epochs", "2"]
#: A case about asking for CUDA where there is none: it cannot arise on a GPU box.
WITHOUT_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
ESC = "\x1b"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


class Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_train_json_is_listed_by_runs_and_eval_latest_gives_the_same_test_metrics(capsys) -> None:
    status, out, err = run(capsys, "train", "digits-mlp", *TINY, "--json")
    assert status == 0
    summary = json.loads(out)  # stdout holds nothing but the summary
    assert summary["state"] == "finished" and summary["epochs_done"] == 2
    assert [h["epoch"] for h in summary["history"]] == [1, 2]
    assert Path(summary["run_dir"]).is_dir() and summary["checkpoint"].endswith("best.pt")
    assert "epoch 2/2" in err  # progress went to stderr

    status, out, _ = run(capsys, "runs", "--json")
    listed = json.loads(out)
    assert status == 0 and [r["id"] for r in listed] == [summary["run_id"]]
    assert listed[0]["state"] == "finished" and listed[0]["test"] == summary["test"]
    assert listed[0]["num_params"] > 0 and listed[0]["epochs_done"] == 2

    status, out, _ = run(capsys, "eval", "latest", "--json")
    report = json.loads(out)
    assert status == 0 and report["metrics"] == summary["test"]
    assert report["split"] == "test" and len(report["confusion"]) == 10


def test_train_prints_plain_epoch_lines_then_test_metrics_and_the_run_folder(capsys) -> None:
    status, out, _ = run(capsys, "train", "digits-mlp", *TINY, "--name", "wide-lr")
    assert status == 0 and ESC not in out
    lines = out.splitlines()
    epoch = re.compile(r"^epoch (\d)/2  loss [\d.]+ acc \d\.\d{3}  val [\d.]+ acc \d\.\d{3}  lr [\d.e-]+  [\d.]+k?/s( \*)?$")
    assert [m.group(1) for m in map(epoch.match, lines) if m] == ["1", "2"]
    run_id = find_run("latest").id
    assert run_id.endswith("-wide-lr")
    assert any(line.startswith("test  loss ") and " acc " in line for line in lines)
    assert lines[-1].startswith(f"run {run_id}  {find_run('latest').path}")


def test_runs_prints_a_plain_table_and_says_when_there_are_none(capsys) -> None:
    status, out, _ = run(capsys, "runs")
    assert status == 0 and "no runs yet" in out
    run(capsys, "train", "digits-mlp", *TINY)
    status, out, _ = run(capsys, "runs")
    assert status == 0 and ESC not in out
    header, row = out.splitlines()[:2]
    assert header.split() == ["id", "state", "name", "dataset", "model", "epochs", "test", "best", "params", "started", "time"]
    assert row.startswith(find_run("latest").id) and "2/2" in row and "finished" in row and "acc 0." in row


def test_eval_takes_best_last_an_epoch_or_a_file_and_either_split(capsys) -> None:
    run(capsys, "train", "digits-mlp", *TINY)
    for choice, name in (("1", "epoch-001"), ("last", "last"), ("best", "best")):
        status, out, _ = run(capsys, "eval", "latest", "--checkpoint", choice, "--json")
        assert status == 0 and json.loads(out)["checkpoint_name"] == name
    path = find_run("latest").checkpoints_dir / "epoch-002.pt"
    status, out, _ = run(capsys, "eval", "latest", "--checkpoint", str(path), "--split", "val")
    assert status == 0 and ESC not in out
    assert "val  loss" in out and "precision" in out and "worst predictions:" in out
    assert (find_run("latest").eval_dir / "epoch-002-val.json").is_file()
    status, _, err = run(capsys, "eval", "latest", "--checkpoint", "7")
    assert status == 1 and "no checkpoint for epoch 7" in err


def test_a_run_argument_that_matches_nothing_is_one_readable_line(capsys) -> None:
    run(capsys, "train", "digits-mlp", *TINY)
    status, _, err = run(capsys, "eval", "nope")
    assert status == 1 and "no run matches 'nope'" in err and len(err.strip().splitlines()) == 1


def test_a_hostile_checkpoint_is_refused_by_eval_and_resume_and_never_runs(capsys, tmp_path: Path) -> None:
    run(capsys, "train", "digits-mlp", *TINY)
    folder = find_run("latest").checkpoints_dir
    marker = tmp_path / "pwned"
    for name in ("best.pt", "last.pt"):
        torch.save({"format": "workbench-checkpoint", "format_version": 1, "model": Payload(marker)}, folder / name)
    status, _, err = run(capsys, "eval", "latest")
    assert status == 1 and "best.pt: refused" in err
    status, _, err = run(capsys, "resume", "latest", "--epochs", "3")
    assert status == 1 and "last.pt: refused" in err
    assert not marker.exists()


def test_resume_extends_a_finished_run_only_when_asked_for_more_epochs(capsys) -> None:
    run(capsys, "train", "digits-mlp", *TINY)
    status, _, err = run(capsys, "resume", "latest")
    assert status == 2 and "has done all 2 epochs" in err and "--epochs" in err
    status, out, _ = run(capsys, "resume", "latest", "--epochs", "3")
    assert status == 0 and out.startswith("resuming ") and "epoch 3/3" in out and "epoch 1/" not in out
    assert list_runs()[0].epochs_done == 3


@pytest.mark.slow
def test_ctrl_c_checkpoints_marks_the_run_stopped_and_exits_130_then_resume_finishes_it(capsys) -> None:
    command = [
        sys.executable,
        "-m",
        "workbench",
        "train",
        "spirals-mlp",
        "--epochs",
        "40",
        "--set",
        "data.options.samples_per_class=40",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    seen = []
    for line in process.stdout:  # lines arrive as they are printed, though stdout is a pipe
        seen.append(line)
        if line.startswith("epoch 1/40"):
            process.send_signal(signal.SIGINT)
            break
    rest, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert ESC not in "".join(seen) + rest
    stopped = find_run("latest")
    assert stopped.read_status().state == "stopped"
    assert re.search(
        rf"^Stopped (in epoch \d+ at step \d+/\d+|at the start of epoch \d+); .*`workbench resume {stopped.id}`", rest, re.M
    )
    assert stopped.last_checkpoint.is_file()
    done = list_runs()[0].epochs_done
    assert 1 <= done < 40

    status, out, _ = run(capsys, "resume", stopped.id[:17])
    assert status == 0 and "epoch 40/40" in out
    assert stopped.read_status().state == "finished"


def test_a_diverging_run_fails_with_one_line_exit_1_and_json_says_failed(capsys, tmp_path: Path) -> None:
    experiment = tmp_path / "diverge.toml"
    experiment.write_text(
        '[data]\ndataset = "diabetes"\nbatch_size = 16\n[[model.layers]]\ntype = "Linear"\nout_features = "auto"\n'
        '[loss]\nname = "mse"\n[optimizer]\nname = "sgd"\nlr = 3.0\n[schedule]\nwarmup_epochs = 2.0\n[train]\nepochs = 4\n'
    )
    status, out, err = run(capsys, "train", str(experiment))
    assert status == 1 and "epoch 1/4" in out
    assert len(err.strip().splitlines()) == 1 and "the loss became inf at epoch 2" in err
    assert list_runs()[0].state == "failed"
    status, out, err = run(capsys, "train", str(experiment), "--json")
    assert status == 1 and json.loads(out)["state"] == "failed"
    assert err.strip().splitlines()[-1].startswith("error: the loss became inf")


@pytest.mark.slow
def test_the_device_a_run_was_trained_on_is_recorded_so_that_resume_continues_there(capsys) -> None:
    status, _, err = run(capsys, "train", "digits-mlp", *TINY, "--device", "cpu")
    assert status == 0, err
    trained = find_run("latest")
    assert trained.read_config().train.device == "cpu"  # not the experiment's "auto": cuda on a GPU box
    assert read_checkpoint(trained.last_checkpoint)["config"]["train"]["device"] == "cpu"
    status, out, err = run(capsys, "resume", trained.id, "--epochs", "3")
    assert status == 0 and "on cpu" in out, err

    status, out, err = run(capsys, "train", "digits-mlp", *TINY, "--device", "cpu", "--detach")
    assert status == 0, err
    assert find_run(out.strip()).read_config().train.device == "cpu"  # in its config.toml before it starts


@pytest.mark.slow
def test_a_detached_run_with_json_says_where_it_is_as_json(capsys) -> None:
    """`--json` printed a bare run id when combined with `--detach`, which a script's JSON reader refuses."""
    status, out, err = run(capsys, "train", "digits-mlp", *TINY, "--device", "cpu", "--detach", "--json")
    assert status == 0, err
    said = json.loads(out)
    launched = find_run(said["run_id"])
    assert said == {"run_id": launched.id, "run_dir": str(launched.path), "log": str(launched.log_path)}


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["train", "no-such-preset"], 2, "neither a preset nor a TOML file"),
        pytest.param(["train", "digits-mlp", "--device", "cuda"], 2, "CUDA is not available", marks=WITHOUT_CUDA),
        (["train", "digits-mlp", "--set", "optimizer.lr=-1"], 2, "optimizer.lr"),
        (["train", "digits-mlp", "--nproc-per-node", "0"], 2, "--nproc-per-node 0: a run needs at least 1 worker"),
        pytest.param(
            ["train", "digits-mlp", "--nproc-per-node", "2", "--device", "cuda"], 2, "CUDA is not available", marks=WITHOUT_CUDA
        ),
        (
            ["train", "digits-mlp", "--nproc-per-node", "2", "--device", "cpu", "--set", "data.batch_size=33"],
            2,
            "among 2 workers",
        ),
        (["train", "digits-mlp", "--nnodes", "2"], 2, "--rdzv-endpoint (missing)"),
    ],
    ids=["unknown preset", "missing device", "bad value", "no workers", "workers without CUDA", "uneven batch", "no endpoint"],
)
def test_train_refuses_bad_input_with_one_line_and_creates_no_run(capsys, argv, code, message) -> None:
    status, _, err = run(capsys, *argv)
    assert status == code and message in err and len(err.strip().splitlines()) == 1
    assert list_runs() == []


def test_delete_asks_refuses_without_a_terminal_and_deletes_with_yes(capsys, monkeypatch) -> None:
    run(capsys, "train", "digits-mlp", *TINY)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    status, _, err = run(capsys, "delete", "latest")
    assert status == 1 and "--yes" in err and len(list_runs()) == 1
    path = find_run("latest").path
    status, out, _ = run(capsys, "delete", "latest", "--yes")
    assert status == 0 and "deleted" in out and not path.exists() and list_runs() == []


@pytest.mark.slow
def test_delete_refuses_a_run_in_progress_at_once_without_asking(capsys, monkeypatch) -> None:
    """It asked "delete run ...?" first and refused only after a yes."""
    starting = create_run(load_experiment("digits-mlp"))  # its process has not started yet
    running = create_run(load_experiment("digits-mlp"))
    running.update_status(state="running")
    holder = hold_lock(running)  # the "trainer" process
    monkeypatch.setattr(sys, "stdin", _Terminal())

    def asked(prompt: str) -> str:
        raise AssertionError(f"asked {prompt!r}")

    monkeypatch.setattr(Console, "input", lambda self, prompt="", **_: asked(prompt))
    try:
        for live, state in ((starting, "starting"), (running, f"running (pid {holder.pid})")):
            status, out, err = run(capsys, "delete", live.id)
            assert status == 1 and out == "" and live.path.is_dir()
            assert err.strip() == f"error: run {live.id} is {state}; stop it first: workbench stop {live.id}"
    finally:
        holder.kill()
        holder.wait()


class _Terminal(io.StringIO):
    """Standard input that says it is a terminal: where delete would ask."""

    def isatty(self) -> bool:
        return True


def test_eval_prints_what_it_computed_even_when_the_report_cannot_be_saved(capsys) -> None:
    """The results were lost with a generic error when eval/ could not be written."""
    run(capsys, "train", "digits-mlp", *TINY)
    eval_dir = find_run("latest").eval_dir
    shutil.rmtree(eval_dir, ignore_errors=True)
    eval_dir.write_text("a file where the folder should be")  # fails for root too, unlike a chmod
    status, out, err = run(capsys, "eval", "latest")
    assert status == 1 and "test  loss" in out and "report: not saved" in out
    assert err.strip().startswith("error: the evaluation above could not be saved:") and len(err.strip().splitlines()) == 1


def test_an_experiment_that_cannot_fit_the_device_is_refused_with_the_numbers_before_loading(capsys) -> None:
    """10^6 features twice made training ask the allocator for terabytes (or swap for minutes)."""
    status, _, err = run(
        capsys,
        "train",
        "digits-mlp",
        "--set",
        "model.layers.1.out_features=1000000",
        "--set",
        "model.layers.3.out_features=1000000",
    )
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "error: model: ~11 TiB to train (weights and gradients 7.3 TiB, optimizer 3.6 TiB" in err and "more than the" in err
    assert list_runs() == []  # refused before a run folder was made
