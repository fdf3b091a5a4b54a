"""Focus never traps a screen's keys: Escape leaves any text field for the screen's main widget,
and from there (or from any other widget that is not a text field) the screen keys act."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from workbench.tui.app import WorkbenchApp
from workbench.tui.runs.screen import RunsScreen

from ..marks import slow_unless
from .helpers import SIZE, screen_text, wait_for
from .runs import recorded_run

#: The screens with text fields, and the widget Escape returns to (the Model screen's fields
#: are all choices; its text fields are in the layer editor, a dialog).
MAIN_WIDGETS = {"data": "catalog", "optimize": "forms", "runs": "runs"}


def every_screen(modes: Iterable[str]) -> list[Any]:
    """A tour of ``modes``: the Data screen's in the quick suite, every other screen's in the slow one."""
    return slow_unless(modes, lambda mode: mode == "data")


@pytest.mark.parametrize("mode", every_screen(MAIN_WIDGETS))
async def test_escape_from_every_text_field_returns_to_the_main_widget_and_the_screen_keys_act(
    fixed_app: Callable[..., WorkbenchApp], mode: str
) -> None:
    app = fixed_app(start=mode)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.devices)  # the device field becomes a choice then
        await pilot.pause()
        if mode == "runs":
            await pilot.press("slash")  # the filter is a field only once / asks for it
        fields = [f for f in app.screen.query(Input) if f.focusable and f.region.area]
        assert fields, f"the {mode} screen has a text field to try"
        for field in fields:
            app.screen.set_focus(field)
            # the footer says that keys go to the field, and how to get the screen's keys back
            await wait_for(pilot, lambda: "done typing" in screen_text(app).splitlines()[-1])
            await pilot.press("escape")
            assert app.focused is not None and app.focused.id == MAIN_WIDGETS[mode], field.id
            if mode == "runs":
                await pilot.press("slash")
        await pilot.press("escape")
        away = "5" if mode != "runs" else "1"
        await pilot.press(away)
        await wait_for(pilot, lambda: app.current_mode != mode)


@pytest.mark.parametrize("mode", every_screen(["data", "model", "optimize", "train", "runs"]))
async def test_from_every_widget_that_is_not_a_text_field_the_screen_keys_act(
    fixed_app: Callable[..., WorkbenchApp], mode: str
) -> None:
    recorded_run("alpha", val_acc=(0.9,))  # the Runs screen's table and checkpoints hold something
    app = fixed_app(start=mode)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.devices)  # the device field becomes a choice then
        await pilot.pause()
        widgets = [w for w in app.screen.query("*") if w.focusable and not isinstance(w, Input) and w.region.area]
        assert widgets or mode == "train"
        for widget in widgets:
            app.screen.set_focus(widget)
            await pilot.pause()
            await pilot.press("5" if mode != "runs" else "1")
            await wait_for(pilot, lambda: app.current_mode != mode, timeout=5, what=repr(widget))
            app.switch_mode(mode)
            await wait_for(pilot, lambda: app.current_mode == mode and app.screen.is_current)


async def test_the_runs_filter_gives_the_keys_back_after_escape(fixed_app: Callable[..., WorkbenchApp]) -> None:
    """The reported trap: after / type BackSpace Escape, 1-5 were typed into the filter and the
    arrows did not move the selection."""
    for name in ("alpha", "beta", "gamma"):
        recorded_run(name, val_acc=(0.9,))
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await wait_for(pilot, lambda: len(screen.shown) == 3)
        await pilot.press("slash", "a", "l", "backspace", "escape")
        table = screen.query_one("#runs", DataTable)
        assert app.focused is table
        assert screen.query_one("#filter", Input).value == "a"
        assert len(screen.shown) == 3  # alpha, beta and gamma all have an "a"
        row = table.cursor_row
        await pilot.press("up" if row else "down")
        assert table.cursor_row == (row - 1 if row else 1)
        await pilot.press("m")
        assert len(screen.marked) == 1
        await pilot.press("2")
        await wait_for(pilot, lambda: app.current_mode == "model")


async def test_tab_on_the_runs_screen_moves_between_table_and_checkpoints_not_into_the_filter(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    recorded_run("alpha", val_acc=(0.9,))
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.screen.shown) == 1)
        seen = []
        for _ in range(3):
            await pilot.press("tab")
            seen.append(app.focused.id if app.focused else None)
        assert "filter" not in seen
        assert seen == ["checkpoints", "runs", "checkpoints"]
