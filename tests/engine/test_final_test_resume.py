"""A run killed in its final test is brought to its end by a resume: it runs the test, not more
epochs (it showed "interrupted 3/3" and resume answered "pass --epochs N" for good)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workbench.cli import main
from workbench.engine.trainer import Trainer
from workbench.experiment.presets import load_experiment
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory
from workbench.runs.resume_rules import needs_new_total
from workbench.runs.store import find_run

pytestmark = pytest.mark.slow

#: Trains an experiment and is killed (SIGKILL) right after the checkpoint of epoch ARGV[1] is
#: recorded: the state a kill anywhere in the final test leaves (every epoch durable, no end).
KILLED_AT_THE_TEST = """
import os, signal, sys
from workbench.engine.trainer import Trainer
from workbench.experiment.presets import load_experiment
from workbench.runs import events as ev

def kill(event):
    if isinstance(event, ev.CheckpointSaved) and event.epoch == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)

Trainer(load_experiment("spirals-mlp", sys.argv[2:]), [kill]).run()
"""
SPIRALS = ["data.options.samples_per_class=40", "train.epochs=3"]
EARLY = [*SPIRALS, "train.epochs=10", "train.early_stopping.enabled=true", "train.early_stopping.patience=2"]
EARLY += ["train.early_stopping.min_delta=100.0"]  # nothing after the first epoch counts as better: it ends after epoch 3


def killed_in_the_final_test(kill_epoch: int, overrides: list[str]) -> RunDir:
    done = subprocess.run([sys.executable, "-c", KILLED_AT_THE_TEST, str(kill_epoch), *overrides], capture_output=True)
    assert done.returncode == -9, done.stderr.decode()
    run = find_run("latest")
    assert run.state() == "interrupted" and not run.read_status().test
    return run


@pytest.mark.parametrize(
    ("overrides", "outcome"), [(SPIRALS, "finished"), (EARLY, "early_stopped")], ids=["every-epoch", "early-stopped"]
)
def test_resume_runs_the_final_test_of_a_run_killed_in_it_and_it_ends_finished(
    overrides: list[str], outcome: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = killed_in_the_final_test(3, overrides)
    assert main(["resume", run.id]) == 0
    status = run.read_status()
    assert (status.state, status.outcome, status.epochs_done) == ("finished", outcome, 3)
    history = RunHistory.from_records(run.read_events())
    assert [e.epoch for e in history.epochs] == [1, 2, 3]  # no epoch trained again, none twice
    assert "testing " + run.id in capsys.readouterr().out
    (said,) = [line.text for line in history.log if "final test" in line.text]
    assert said == "Resumed on cpu for the final test (its training had ended)"
    straight = Trainer(load_experiment("spirals-mlp", overrides)).run()
    assert status.test == straight.test  # the result the run would have had uninterrupted


def test_only_a_run_that_recorded_its_end_needs_a_larger_total_to_resume() -> None:
    """The rule the app's r shares with resume: an interrupted or failed 3/3 run is resumed as it is."""
    assert needs_new_total(3, 3, "finished")
    assert not needs_new_total(3, 3, "interrupted") and not needs_new_total(3, 3, "failed")
    assert not needs_new_total(2, 3, "finished")
