"""An error of the user's code at any point of training is one line naming their file, line and
error, with where training stopped and the last good checkpoint; the traceback goes to the
run's log; the checkpoints already saved stay usable (evaluated with the run's copy)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.tiny import Recorder
from tests.usercode.user_files import NETS_EXIT_LINE, NETS_RAISE_LINE, POINTS_RAISE_LINE, forget_user_modules, write_user_code
from workbench.engine.evaluate import evaluate_checkpoint
from workbench.engine.trainer import Trainer, TrainingFailed
from workbench.experiment.presets import load_experiment
from workbench.runs import events as ev
from workbench.runs.store import find_run

#: Probe children (the experiment is validated by running the code once) and whole runs.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def user_modules_leave(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The user's modules these in-process runs imported leave this process with the module's tests."""
    yield
    forget_user_modules(tmp_path_factory.getbasetemp())


#: 64 points: 46 train (3 steps of 16 a epoch), 5 validation, 13 test.
STEPS_PER_EPOCH = 3


def fail(experiment: Path, *overrides: str, sinks: tuple[ev.Sink, ...] = ()) -> TrainingFailed:
    with pytest.raises(TrainingFailed) as raised:
        Trainer(load_experiment(str(experiment), list(overrides)), sinks).run()
    return raised.value


def check_kept(failure: TrainingFailed, line: str) -> None:
    """The run records the one line, its log the user's traceback, and its epoch-1 checkpoint evaluates."""
    run = find_run("latest")
    status = run.read_status()
    assert status.state == "failed" and status.message == str(failure)
    assert "\n" not in str(failure)
    log = run.log_path.read_text()
    assert "Traceback" in log and line in log
    assert line in failure.details
    evaluation = evaluate_checkpoint(run.last_checkpoint)
    assert evaluation.epoch == 1 and evaluation.num_samples == 13


def test_a_forward_that_raises_in_epoch_2_is_one_line_and_the_epoch_1_checkpoint_stays_usable(tmp_path: Path) -> None:
    experiment = write_user_code(tmp_path / "mine", net_args=f"fail_call = {STEPS_PER_EPOCH + 2}")
    failure = fail(experiment)
    assert re.match(
        rf"nets.py line {NETS_RAISE_LINE}: ValueError: call 5 went wrong( \(Net.forward\))? at epoch 2, step 2; "
        r"training stopped. Last good checkpoint: .*last.pt \(epoch 1\). A resume runs the run's own copy of the code "
        r"\(code/ in its folder\): fix your file and train a new run. The traceback is in the run's log$",
        str(failure),
    ), str(failure)
    check_kept(failure, f'nets.py", line {NETS_RAISE_LINE}, in forward')


def test_sys_exit_in_forward_is_one_line_and_does_not_end_the_process(tmp_path: Path) -> None:
    experiment = write_user_code(tmp_path / "mine", net_args=f'fail_call = {STEPS_PER_EPOCH + 1}, how = "exit"')
    failure = fail(experiment)
    assert str(failure).startswith(f"nets.py line {NETS_EXIT_LINE}: the code called sys.exit(3)")
    assert " at epoch 2, step 1; training stopped." in str(failure)
    check_kept(failure, f'nets.py", line {NETS_EXIT_LINE}, in forward')


class FailFromEpoch2:
    """A sink that makes the data set's items fail once epoch 1 has ended (they read a flag file)."""

    def __init__(self, flag: Path) -> None:
        self.flag = flag

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.EpochEnded):
            self.flag.touch()


@pytest.mark.parametrize("workers", [0, 1], ids=["read-here", "read-by-a-dataloader-worker"])
def test_a_getitem_that_raises_in_epoch_2_is_one_line_naming_the_users_line(tmp_path: Path, workers: int) -> None:
    flag = tmp_path / "broken-now"
    experiment = write_user_code(tmp_path / "mine", data_args=f'n = 64, fail_when = "{flag}"')
    overrides = ("data.options.storage=stream", f"data.options.workers={workers}")
    failure = fail(experiment, *overrides, sinks=(FailFromEpoch2(flag), Recorder()))
    assert re.match(
        rf"points.py line {POINTS_RAISE_LINE}: ValueError: row \d+ cannot be read \(Points\[\d+\]\) at epoch 2, step \d; "
        r"training stopped. Last good checkpoint: .*\(epoch 1\)",
        str(failure),
    ), str(failure)
    flag.unlink()  # the data can be read again: the checkpoint is evaluated
    check_kept(failure, f'points.py", line {POINTS_RAISE_LINE}, in __getitem__')
