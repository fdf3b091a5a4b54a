"""Snapshots of the static screens, fed with a fixed experiment (not the shipped presets).

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the report before accepting it.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input

from workbench.tui.app import WorkbenchApp
from workbench.tui.runs.compare import CompareScreen
from workbench.tui.setup.layer_dialogs import LayerEditor
from workbench.tui.widgets.charts import Chart
from workbench.tui.widgets.lr_chart import LRChart
from workbench.tui.widgets.picture import PictureGrid

from .helpers import SIZE, screen_text, wait_for
from .runs import fixed_run


def test_model_screen(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    assert snap_compare(fixed_app(start="model"), terminal_size=SIZE)


def test_model_screen_with_a_broken_stack(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    app.draft.set_layer_text(4, "in_features", "100")
    assert snap_compare(app, terminal_size=SIZE)


def test_model_code_view(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    assert snap_compare(fixed_app(start="model"), press=["c"], terminal_size=SIZE)


def test_help_screen(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    assert snap_compare(fixed_app(start="model"), press=["question_mark"], terminal_size=SIZE)


def test_layer_editor(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    async def editing(pilot: Pilot) -> None:
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LayerEditor))
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor is drawn or not, as the clock falls
        await pilot.pause()

    assert snap_compare(fixed_app(start="model"), terminal_size=SIZE, run_before=editing)


# ----------------------------------------------------------------------------- screens fed by workers
# Each waits for what its workers read (samples, the LR preview, the runs) before the picture.


def test_data_screen(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    async def samples_shown(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: pilot.app.screen.query_one(PictureGrid).pictures)

    assert snap_compare(fixed_app(start="data"), terminal_size=SIZE, run_before=samples_shown)


def test_optimize_screen(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    async def preview_drawn(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: pilot.app.screen.query_one(LRChart).preview is not None and pilot.app.devices)
        await pilot.pause()

    assert snap_compare(fixed_app(start="optimize"), terminal_size=SIZE, run_before=preview_drawn)


def test_train_screen_before_a_run(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    assert snap_compare(fixed_app(start="train"), terminal_size=SIZE)


async def _charts_drawn(pilot: Pilot) -> None:
    """The shown charts have their axes (textual-plot draws them a frame after the data)."""
    charts = [c for c in pilot.app.screen.query(Chart) if c.display]
    await wait_for(pilot, lambda: all(c.y_labels for c in charts))
    await pilot.pause()
    await pilot.pause()


def _three_fixed_runs() -> None:
    fixed_run("20260101-090000-adam", "2026-01-01T09:00:00+00:00", lr=0.003, val_acc=(0.5, 0.8, 0.9))
    sgd = ("optimizer.name=sgd", "schedule.name=step")
    fixed_run("20260101-100000-sgd", "2026-01-01T10:00:00+00:00", lr=0.05, val_acc=(0.4, 0.6), overrides=sgd)
    fixed_run("20260101-110000-mlp", "2026-01-01T11:00:00+00:00", preset="digits-mlp", lr=0.1, val_acc=(0.7,))


def test_runs_screen_with_fixed_runs(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    _three_fixed_runs()

    async def details_shown(pilot: Pilot) -> None:
        screen = pilot.app.screen
        await wait_for(pilot, lambda: len(screen.shown) == 3 and screen.details is not None)
        await _charts_drawn(pilot)

    assert snap_compare(fixed_app(start="runs"), terminal_size=SIZE, run_before=details_shown)


def test_three_runs_compared(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    _three_fixed_runs()

    async def compared(pilot: Pilot) -> None:
        runs = pilot.app.screen
        await wait_for(pilot, lambda: len(runs.shown) == 3)
        await pilot.press("M")
        await wait_for(pilot, lambda: len(runs.marked) == 3, what="all three runs marked")
        await pilot.press("v")
        await wait_for(
            pilot,
            lambda: isinstance(pilot.app.screen, CompareScreen) and pilot.app.screen.comparison is not None,
            what="the comparison read",
        )
        # Two runs of digits-cnn have no model.layers.0.kernel_size among their differences.
        assert len(pilot.app.screen.comparison.runs) == 3
        # The tables size their columns when the app is next idle: on a loaded machine the
        # picture was once taken before, with every setting cut to "model.l".
        await wait_for(
            pilot,
            lambda: "model.layers.0.kernel_size" in screen_text(pilot.app),
            what="the first layer's kernel size among the differences",
            shown=lambda: (pilot.app.screen, pilot.app.screen.comparison.differences[:6], screen_text(pilot.app)),
        )
        await _charts_drawn(pilot)
        # M left an undo step: the footer draws ^z^y enabled once it next refreshes its
        # bindings, which under load came after the picture (a flake): refresh them now.
        pilot.app.screen.refresh_bindings()
        await pilot.pause()

    assert snap_compare(fixed_app(start="runs"), terminal_size=SIZE, run_before=compared)
