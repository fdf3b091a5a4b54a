"""The Data screen with a data set of the user's own class: chosen in a dialog, what the class
gives (sizes, input shape, classes) and its pictures shown from one run in a child process (the
app never imports the user's code), and a class that fails or hangs: one line, the app stays up.

Every test writes real files into its own folder and the real probe's child runs them (hence
slow: a process that imports torch)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from tests.code_dataset_files import broken_dataset, write_pictures
from workbench.experiment.draft import Draft
from workbench.paths import user_presets_dir
from workbench.tui.app import WorkbenchApp
from workbench.tui.setup.data_code import CodeDatasetDialog
from workbench.tui.widgets.picture import PictureGrid

from .helpers import SIZE, fixed_experiment, screen_text, wait_for

pytestmark = pytest.mark.slow


def _app(folder: Path, code: str = "", args: dict | None = None, timeout_s: float = 60.0) -> WorkbenchApp:
    """The app on the Data screen; with ``code``, the experiment's data set is that class."""
    config = fixed_experiment()
    if code:
        config.data.dataset, config.data.options = "code", {"code": f"{folder}/{code}", "args": args or {}}
    return WorkbenchApp(Draft(config, source="test", probe_timeout_s=timeout_s), start="data")


def _imported_from(folder: Path) -> list[str]:
    """Modules of this process loaded from ``folder`` (other tests in the process may have
    imported a module of the same name from their own folders)."""
    return [
        name for name, module in list(sys.modules.items()) if str(getattr(module, "__file__", "") or "").startswith(str(folder))
    ]


def _about(app: WorkbenchApp) -> str:
    """The facts pane's text, each line whole (the pane wraps them at its width)."""
    console = Console(width=500, record=True, file=io.StringIO())
    console.print(app.screen.query_one("#about", Static).content)
    return console.export_text()


async def _still_answers_keys(pilot: Pilot, app: WorkbenchApp) -> None:
    await pilot.press("3")
    await wait_for(pilot, lambda: app.current_mode == "optimize", what="the Optimize screen")
    await pilot.press("1")
    await wait_for(pilot, lambda: app.current_mode == "data", what="the Data screen again")


async def test_the_class_chosen_in_the_dialog_shows_its_facts_and_pictures_without_the_app_importing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_pictures(tmp_path, count=30, size=8)
    monkeypatch.chdir(tmp_path)  # a relative path is read from the folder the app was started in
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        catalog = app.screen.query_one("#catalog", OptionList)
        catalog.highlighted = catalog.get_option_index("dataset:code")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CodeDatasetDialog), what="the dialog")
        app.screen.query_one("#class-file", Input).value = "mydata.py:MyDataset"
        app.screen.query_one("#class-args", Input).value = 'file = "train.txt"'
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.draft.config.data.dataset == "code", what="the code data set in use")
        assert app.draft.config.data.options["code"] == f"{tmp_path.resolve()}/mydata.py:MyDataset"
        assert app.draft.config.data.options["args"] == {"file": str((tmp_path / "train.txt").resolve())}
        await wait_for(pilot, lambda: "3 classes: circle square cross" in _about(app), what="the class's facts")
        assert "3x8x8 (image)" in _about(app) and "train 22 · validation 2 · test 6" in _about(app)
        grid = app.screen.query_one("#pictures", PictureGrid)
        await wait_for(pilot, lambda: grid.pictures, what="the pictures")
        assert {picture.caption for picture in grid.pictures} == {"circle", "square", "cross"}
        assert grid.pictures[0].image.shape == (8, 8, 3)
        assert "Items your class gave" in screen_text(app)
        assert not _imported_from(tmp_path)  # the app never imported the user's code
        assert app.draft.problems == []
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: app.draft.config.data.dataset == "digits", what="undo")


async def test_a_presets_code_data_set_is_run_once_by_the_samples_worker_and_shown_with_arguments_beside_it(
    tmp_path: Path,
) -> None:
    write_pictures(tmp_path, count=30, size=8)
    user_presets_dir().mkdir(parents=True)
    (user_presets_dir() / "mine.toml").write_text(
        f'[data]\ndataset = "code"\n[data.options]\ncode = "{tmp_path}/mydata.py:MyDataset"\n'
        f'args = {{file = "{tmp_path}/train.txt", grey = true}}\n'
    )
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        catalog = app.screen.query_one("#catalog", OptionList)
        catalog.highlighted = catalog.get_option_index("preset:mine")
        await wait_for(pilot, lambda: "3 classes: circle square cross" in _about(app), what="the preset's class run once")
        assert "1x8x8 (image)" in _about(app) and 'arguments file = "train.txt", grey = true' in _about(app)
        grid = app.screen.query_one("#pictures", PictureGrid)
        await wait_for(pilot, lambda: grid.pictures, what="the pictures")
        assert grid.pictures[0].image.shape == (8, 8, 1)
        assert app.draft.config.data.dataset == "digits" and not _imported_from(tmp_path)


async def test_a_file_that_is_not_there_is_said_in_the_dialog_which_stays_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        catalog = app.screen.query_one("#catalog", OptionList)
        catalog.highlighted = catalog.get_option_index("dataset:code")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, CodeDatasetDialog), what="the dialog")
        app.screen.query_one("#class-file", Input).value = "absent.py:MyDataset"
        await pilot.press("enter")
        problem = app.screen.query_one("#problem", Static)
        await wait_for(pilot, lambda: "no such file" in str(problem.render()), what="the problem line")
        assert str(problem.render()) == f"data.options.code: no such file: {tmp_path.resolve()}/absent.py"
        assert isinstance(app.screen, CodeDatasetDialog) and app.draft.config.data.dataset == "digits"


@pytest.mark.parametrize(
    ("getitem", "expected"),
    [
        (
            "if index == 2:\n    raise ValueError('no picture')\nreturn torch.zeros(3), 0",
            "broken.py line 13: ValueError: no picture (Broken[2])",
        ),
        ("return torch.zeros(3)", "item 0: __getitem__ returned a Tensor, not an (x, y) pair of input and label"),
    ],
    ids=["raises-in-getitem", "not-a-pair"],
)
async def test_a_class_whose_items_fail_is_one_line_naming_the_file_and_the_app_stays_up(
    tmp_path: Path, getitem: str, expected: str
) -> None:
    broken_dataset(tmp_path, getitem)
    app = _app(tmp_path, "broken.py:Broken")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: expected in _about(app), what="the one line")
        assert _about(app).count("broken.py") <= 2 and "Traceback" not in screen_text(app)
        assert any(expected in str(problem) for problem in app.draft.problems)
        assert not app.screen.query_one("#pictures", PictureGrid).pictures
        await _still_answers_keys(pilot, app)


async def test_a_class_that_hangs_is_one_line_after_the_limit_and_the_app_answers_keys_meanwhile(tmp_path: Path) -> None:
    broken_dataset(tmp_path, "return torch.zeros(3), 0", extra="def __init__(self):\n    while True:\n        pass\n")
    app = _app(tmp_path, "broken.py:Broken", timeout_s=3)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "being run once, in the background" in _about(app), what="the pending line")
        await _still_answers_keys(pilot, app)
        await wait_for(pilot, lambda: "did not finish within 3 s" in _about(app), what="the time-out")
        assert "data.options.code (broken.py:Broken): broken.py:Broken did not finish within 3 s" in _about(app)
        await _still_answers_keys(pilot, app)
