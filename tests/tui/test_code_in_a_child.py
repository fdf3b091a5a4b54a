"""The app never imports the user's code: evaluating a run of their model and data set, and the
LR finder on a draft of them, run in a child process; whatever the child does (prints, exits,
dies, raises) comes back as its answer or one line, and the app's own modules stay its own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import Static

from tests.usercode.user_files import write_user_code
from workbench.data.prediction_inputs import ImageSizeError
from workbench.errors import WorkbenchError
from workbench.experiment.draft import Draft
from workbench.experiment.presets import load_experiment
from workbench.runs.store import find_run
from workbench.tui.app import WorkbenchApp
from workbench.tui.runs.evaluation import EvaluationScreen
from workbench.tui.setup.lr_find_dialog import LRFindScreen
from workbench.tui.torch_thread import ChildCancelled, in_child_process, report_progress

from .helpers import SIZE, wait_for


def users_modules(*folders: Path) -> list[str]:
    """The modules of this process (the app's) whose file lies in one of ``folders``."""
    roots = [folder.resolve() for folder in folders]
    found = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and any(Path(file).resolve().is_relative_to(root) for root in roots):
            found.append(name)
    return found


@pytest.mark.slow
async def test_evaluating_a_run_of_the_users_code_runs_it_in_a_child_and_imports_none_of_it(tmp_path: Path) -> None:
    experiment = write_user_code(tmp_path / "mine")
    trained = subprocess.run([sys.executable, "-m", "workbench", "train", str(experiment)], capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr
    run = find_run("latest")
    app = WorkbenchApp(Draft(load_experiment("digits-mlp"), source="test"), start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: getattr(app.screen, "details", None) is not None and app.screen.details.run.id == run.id)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EvaluationScreen) and app.screen.report is not None)
        view = app.screen
        assert isinstance(view, EvaluationScreen) and view.reused  # the report training saved
        saved = view.report
        assert saved is not None
        await pilot.press("e")  # evaluate again, now: the run's model from nets.py, its data from points.py
        try:
            await wait_for(pilot, lambda: view.report is not None and not view.reused, timeout=60, what="for the evaluation")
        except AssertionError:
            raise AssertionError(str(view.query_one("#eval-metrics", Static).render())) from None
        assert view.user_code
        assert view.report["metrics"] == pytest.approx(saved["metrics"])
        assert view.report["num_samples"] == 13
    assert users_modules(tmp_path / "mine", run.path) == []


@pytest.mark.slow
async def test_an_altered_copy_is_refused_in_one_line_and_the_app_stays_up(tmp_path: Path) -> None:
    experiment = write_user_code(tmp_path / "mine")
    assert subprocess.run([sys.executable, "-m", "workbench", "train", str(experiment)], capture_output=True).returncode == 0
    run = find_run("latest")
    copied = run.path / "code" / "nets.py"
    copied.write_text(copied.read_text() + "\nimport os\nos._exit(9)\n")
    app = WorkbenchApp(Draft(load_experiment("digits-mlp"), source="test"), start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: getattr(app.screen, "details", None) is not None and app.screen.details.run.id == run.id)
        await pilot.press("e", "e")  # open it, and evaluate now rather than show the saved report
        view = app.screen
        assert isinstance(view, EvaluationScreen)
        metrics = view.query_one("#eval-metrics", Static)
        await wait_for(pilot, lambda: "changed since the run copied it" in str(metrics.render()), what="for the refusal")
        assert str(metrics.render()) == (
            f"{copied}: changed since the run copied it (its SHA-256 is not the recorded one); add --trust-code to run it anyway"
        )
        await pilot.press("escape")
        assert not isinstance(app.screen, EvaluationScreen)
    assert users_modules(tmp_path / "mine", run.path) == []


@pytest.mark.slow
async def test_the_lr_finder_on_a_draft_of_the_users_code_ramps_in_a_child(tmp_path: Path) -> None:
    experiment = write_user_code(tmp_path / "mine")
    app = WorkbenchApp(Draft(load_experiment(str(experiment)), source="test"), start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        app.screen.focus_main_widget()
        await pilot.press("f")
        dialog = app.screen
        assert isinstance(dialog, LRFindScreen)
        await wait_for(pilot, lambda: dialog.result is not None, what="for the ramp")
        assert dialog.steps_done > 0  # its progress came through the child's pipe
        assert dialog.result is not None and dialog.result.taken > 0
    assert users_modules(tmp_path / "mine") == []


# ----------------------------------------------------------------------------- the child itself


def counted(steps: int) -> int:
    print("the user's code prints here")  # into nothing: the child has no terminal
    for step in range(steps):
        report_progress(step)
    return steps


def dies() -> None:
    os._exit(7)


def exits() -> None:
    sys.exit(3)


def refuses_a_size() -> None:
    raise ImageSizeError("digit.png is 28x28, not 8x8")


async def test_a_childs_answer_and_progress_come_back() -> None:
    seen: list[int] = []
    assert await in_child_process("counting", counted, 3, progress=seen.append) == 3
    assert seen == [0, 1, 2]


async def test_a_child_that_dies_or_exits_is_one_line() -> None:
    with pytest.raises(WorkbenchError, match=r"^dying: its process ended before it answered \(exit status 7\)$"):
        await in_child_process("dying", dies)
    with pytest.raises(WorkbenchError, match=r"^SystemExit: 3$"):
        await in_child_process("exiting", exits)


async def test_a_childs_error_comes_back_as_it_was_raised() -> None:
    with pytest.raises(ImageSizeError) as raised:
        await in_child_process("predicting", refuses_a_size)
    assert raised.value.reason == "digit.png is 28x28, not 8x8"


async def test_a_cancelled_child_is_ended() -> None:
    started = time.monotonic()
    with pytest.raises(ChildCancelled):
        await in_child_process("sleeping", time.sleep, 60, cancelled=lambda: time.monotonic() - started > 0.5)
    assert time.monotonic() - started < 30
    await asyncio.sleep(0)
