"""The Model screen with a model of the user's own class: the tree of its named modules from one
run in a child process, the class chosen in a dialog, the file opened in the user's editor, and
code that fails, exits, hangs or prints: one line each, and the app stays up and answers keys.

Every test writes a real Python file into its own folder and the real probe's child runs it
(hence slow: a process that imports torch)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from workbench.experiment.draft import Draft
from workbench.schema.config import LayerSpec
from workbench.tui.app import WorkbenchApp
from workbench.tui.setup.layer_dialogs import LayerEditor
from workbench.tui.setup.model_code import CodeModelDialog
from workbench.tui.widgets.bars import StatusBar

from .helpers import SIZE, fixed_experiment, screen_text, wait_for

pytestmark = pytest.mark.slow

BLOCKS_NET = """
    from collections import OrderedDict

    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self, hidden=32):
            super().__init__()
            self.conv = nn.Sequential(OrderedDict([
                ("conv1", nn.Conv2d(1, 6, 3, padding=1)),
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),
            ]))
            self.dense = nn.Sequential(OrderedDict([
                ("dense1", nn.Linear(6 * 4 * 4, hidden)),
                ("relu2", nn.ReLU()),
                ("dense2", nn.Linear(hidden, 10)),
            ]))

        def forward(self, x):
            return self.dense(self.conv(x).flatten(1))
"""


def _net(body: str) -> str:
    """A tutorial-like Net (one conv, one Linear to the 10 digits) with ``body`` put into it."""
    return textwrap.dedent(
        """
        import sys
        import time

        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 6, 3)
                self.fc1 = nn.Linear(6 * 6 * 6, 10)
                {init}

            def forward(self, x):
                {forward}
                return self.fc1(F.relu(self.conv1(x)).flatten(1))
        """
    ).format(**body_parts(body))


def body_parts(body: str) -> dict[str, str]:
    init, _, forward = body.partition("|")
    return {"init": init.strip() or "pass", "forward": forward.strip() or "pass"}


def _code_app(folder: Path, source: str, *, timeout_s: float = 60.0, file: str = "nets.py") -> WorkbenchApp:
    """The app on the Model screen, its model the class Net of ``source`` written to ``folder``."""
    (folder / file).write_text(textwrap.dedent(source))
    config = fixed_experiment()
    config.model.layers = []
    config.model.code = f"{folder / file}:Net"
    return WorkbenchApp(Draft(config, source="test", probe_timeout_s=timeout_s), start="model")


def _line(app: WorkbenchApp) -> str:
    """The line under the totals: what is running, or the one problem."""
    return str(app.screen.query_one("#stack-error", Static).render())


def _totals(app: WorkbenchApp) -> str:
    return str(app.screen.query_one("#totals", Static).render())


def _rows(app: WorkbenchApp) -> list[list[str]]:
    table = app.screen.query_one("#layers", DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


async def _wait_ran(pilot: Pilot, app: WorkbenchApp) -> None:
    await wait_for(pilot, lambda: not app.draft.pending_probes and "running" not in _line(app), what="the class run once")


async def _still_answers_keys(pilot: Pilot, app: WorkbenchApp) -> None:
    """The app is up and its keys act: the code view opens and closes, another screen shows."""
    await pilot.press("c")
    await wait_for(pilot, lambda: not app.screen.query_one("#code").has_class("hidden"), what="the code view")
    await pilot.press("c", "3")
    await wait_for(pilot, lambda: app.current_mode == "optimize", what="the Optimize screen")
    await pilot.press("2")
    await wait_for(pilot, lambda: app.current_mode == "model", what="the Model screen again")


async def test_a_blocks_net_shows_its_named_modules_as_a_tree_with_shapes_and_params(tmp_path: Path) -> None:
    app = _code_app(tmp_path, BLOCKS_NET, file="blocks.py")
    async with app.run_test(size=SIZE) as pilot:
        await _wait_ran(pilot, app)
        rows = [[cell.strip() for cell in row] for row in _rows(app)]
        assert rows == [
            ["conv", "", "", "60"],
            ["conv.conv1", "Conv2d", "6x8x8", "60"],
            ["conv.relu1", "ReLU", "6x8x8", "0"],
            ["conv.pool1", "MaxPool2d", "6x4x4", "0"],
            ["dense", "", "", "3,434"],
            ["dense.dense1", "Linear", "32", "3,104"],
            ["dense.relu2", "ReLU", "32", "0"],
            ["dense.dense2", "Linear", "10", "330"],
        ]
        assert _rows(app)[1][0] == "  conv.conv1"  # indented under its block
        assert "blocks.py:Net() · 3,494 params · input 1x8x8 → output 10" in _totals(app)
        assert _line(app) == ""
        assert app.draft.problems == []
        mine = [name for name, module in list(sys.modules.items()) if str(tmp_path) in str(getattr(module, "__file__", ""))]
        assert mine == []  # the app never imported the user's file (the child did)


async def test_while_the_class_runs_a_line_says_so_and_the_app_answers_keys_then_a_hang_is_one_line(tmp_path: Path) -> None:
    app = _code_app(tmp_path, _net("while True: time.sleep(0.05)"), timeout_s=3)
    async with app.run_test(size=SIZE) as pilot:
        assert _line(app) == "⋯ running nets.py:Net once…"
        assert "nets.py:Net() · shapes once it has run" in _totals(app)
        await _still_answers_keys(pilot, app)
        await _wait_ran(pilot, app)
        assert _line(app).startswith("✗ model.code (nets.py:Net): nets.py:Net did not finish within 3 s when run once")
        assert "\n" not in _line(app).strip()
        await _still_answers_keys(pilot, app)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("raise ValueError('no such size')", "nets.py line 14: ValueError: no such size (Net())"),
        ("| raise RuntimeError('forward broke')", "nets.py line 17: RuntimeError: forward broke (Net.forward)"),
        ("sys.exit(3)", "nets.py line 14: the code called sys.exit(3) (Net())"),
    ],
    ids=["raises-in-init", "raises-in-forward", "sys-exit"],
)
async def test_code_that_fails_is_one_line_naming_the_file_and_line_and_the_app_stays_up(
    tmp_path: Path, body: str, expected: str
) -> None:
    app = _code_app(tmp_path, _net(body))
    async with app.run_test(size=SIZE) as pilot:
        await _wait_ran(pilot, app)
        assert _line(app) == f"✗ model.code (nets.py:Net): {expected}"
        assert _rows(app) == []
        assert "nets.py:Net() · no shapes" in _totals(app)
        assert "Traceback" not in screen_text(app)
        await _still_answers_keys(pilot, app)
        assert app.is_running


async def test_what_the_class_prints_never_reaches_the_screen(tmp_path: Path) -> None:
    app = _code_app(
        tmp_path, _net("print('HELLO FROM INIT'); print('[bold]x[/]', file=sys.stderr) | print('HELLO FROM FORWARD')")
    )
    async with app.run_test(size=SIZE) as pilot:
        await _wait_ran(pilot, app)
        assert [row[0].strip() for row in _rows(app)] == ["conv1", "fc1"]
        assert _line(app) == ""
        shown = screen_text(app)
        assert "HELLO" not in shown and "[bold]" not in shown
        await _still_answers_keys(pilot, app)


async def test_an_output_that_does_not_fit_the_task_is_the_problem_line_under_the_tree(tmp_path: Path) -> None:
    app = _code_app(tmp_path, _net("self.fc1 = nn.Linear(6 * 6 * 6, 84)"))
    async with app.run_test(size=SIZE) as pilot:
        await _wait_ran(pilot, app)
        assert [row[0].strip() for row in _rows(app)] == ["conv1", "fc1"]
        assert _line(app) == "✗ model.code (nets.py:Net): Net returns 84 outputs; digits has 10 classes"
        assert "returns 84" in _totals(app)


async def test_the_class_is_chosen_in_a_dialog_from_the_current_folder_and_ctrl_z_brings_the_layers_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "blocks.py").write_text(textwrap.dedent(BLOCKS_NET))
    monkeypatch.chdir(tmp_path)
    app = WorkbenchApp(Draft(fixed_experiment(), source="test"), start="model")
    layers = app.draft.config.model.layers
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, CodeModelDialog), what="the class dialog")
        assert [field.region.height for field in app.screen.query(Input)] == [3, 3]  # one line of text each, at 80x24
        base = str(app.screen.query_one("#base", Static).render())
        assert base == f"A relative path is read from the folder the app was started in: {tmp_path}"
        await pilot.press(*"missing.py:Net", "enter")
        problem = app.screen.query_one("#problem", Static)
        assert str(problem.render()) == f"model.code: no such file: {tmp_path / 'missing.py'}"
        app.screen.query_one("#class-field", Input).value = "blocks.py:Net"
        app.screen.query_one("#args-field", Input).value = "hidden = "
        await pilot.press("enter")
        assert str(problem.render()).startswith("model.args: ")
        assert isinstance(app.screen, CodeModelDialog)  # still open: nothing was applied
        app.screen.query_one("#args-field", Input).value = "hidden = 16"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, CodeModelDialog), what="the dialog closed")
        assert app.draft.config.model.code == f"{tmp_path / 'blocks.py'}:Net"
        assert app.draft.config.model.args == {"hidden": 16}
        assert app.draft.config.model.layers == []
        await _wait_ran(pilot, app)
        assert ["dense.dense1", "Linear", "16", "1,552"] in [[cell.strip() for cell in row] for row in _rows(app)]
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: app.draft.config.model.layers == layers, what="the layers back")
        assert app.draft.config.model.code == ""
        assert _rows(app)[0][2] == "Conv2d"  # the layer table again


async def test_v_opens_the_file_in_the_editor_and_the_tree_follows_the_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, pathlib\np = pathlib.Path(sys.argv[1])\np.write_text(p.read_text().replace('hidden=32', 'hidden=8'))\n"
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    app = _code_app(tmp_path, BLOCKS_NET)
    async with app.run_test(size=SIZE) as pilot:
        await _wait_ran(pilot, app)
        assert "3,494 params" in _totals(app)
        await pilot.press("v")
        await wait_for(pilot, lambda: "hidden=8" in (tmp_path / "nets.py").read_text(), what="the editor's change")
        await _wait_ran(pilot, app)
        await wait_for(pilot, lambda: "926 params" in _totals(app), what="the tree of the edited file")
        await pilot.press("c")
        await wait_for(pilot, lambda: "def __init__(self, hidden=8)" in screen_text(app), what="the file in the code view")


async def test_v_without_an_editor_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    app = _code_app(tmp_path, BLOCKS_NET)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")
        await wait_for(
            pilot,
            lambda: any("Neither $VISUAL nor $EDITOR is set" in str(n.message) for n in app._notifications),
            what="the notice",
        )
        assert app.is_running


BLOCK = """
    import time

    import torch.nn as nn


    class Block(nn.Module):
        def __init__(self, width=32):
            super().__init__()
            if width != 32:  # a moment to build, so that the running line is on screen to be seen
                time.sleep(1.0)
            self.fc = nn.Linear(64, width)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.fc(x))
"""


async def test_a_code_layer_runs_off_the_ui_thread_in_the_table_and_in_its_editor(tmp_path: Path) -> None:
    (tmp_path / "block.py").write_text(textwrap.dedent(BLOCK))
    config = fixed_experiment()
    config.model.layers = [
        LayerSpec("Flatten"),
        LayerSpec("Code", params={"code": f"{tmp_path / 'block.py'}:Block", "args": {}}),
        LayerSpec("Linear", params={"out_features": "auto"}),
    ]
    app = WorkbenchApp(Draft(config, source="test"), start="model")
    async with app.run_test(size=SIZE) as pilot:
        assert _line(app) == "⋯ running block.py:Block once…"
        await _wait_ran(pilot, app)
        assert [row[4] for row in _rows(app)] == ["64", "32", "10"]
        assert [row[3] for row in _rows(app)][2] == "in=32 out=10"
        app.screen.table.move_cursor(row=1)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, LayerEditor), what="the layer editor")
        preview = app.screen.query_one("#preview", Static)
        assert str(preview.render()) == "→ output 32 · 2,080 params"
        app.screen.query_one("#field-args", Input).value = "{width = 8}"
        await wait_for(pilot, lambda: str(preview.render()) == "⋯ running block.py:Block once…", what="the editor's running line")
        await wait_for(pilot, lambda: str(preview.render()) == "→ output 8 · 520 params", what="the edited block's shape")
        await pilot.press("enter")
        await wait_for(pilot, lambda: [row[4] for row in _rows(app)] == ["64", "8", "10"], what="the table after the edit")


async def test_while_the_class_is_run_once_the_status_bar_says_so_and_s_starts_once_it_answered(tmp_path: Path) -> None:
    """Not "✗ 1 problem": the user's code being run once answers itself. s pressed meanwhile is
    not refused: the run's name is asked as soon as the answer comes (here: when the test lets
    the class's __init__ return)."""
    from workbench.tui.train.name_dialog import RunNameScreen

    go = tmp_path / "go"
    app = _code_app(tmp_path, _net(f"while not __import__('os').path.exists({str(go)!r}): time.sleep(0.05)"))

    def status_line() -> str:
        return str(app.screen.query_one(StatusBar).query_one("#problems", Static).render())

    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "running nets.py:Net once" in status_line(), what="the running line")
        assert "problem" not in status_line()
        await pilot.press("4", "s")
        notice = "nets.py:Net is being run once to check it: the run starts as soon as it has answered"
        await wait_for(pilot, lambda: any(n.message == notice for n in app._notifications), what="the notice")
        assert not isinstance(app.screen, RunNameScreen)
        go.touch()
        await wait_for(pilot, lambda: isinstance(app.screen, RunNameScreen), what="the run's name asked")
