"""The LR finder in the app: f on the Optimize screen, the ramp off the UI thread, u takes the
suggestion as one undo step, escape cancels."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Static

from workbench.tui.app import WorkbenchApp
from workbench.tui.setup.lr_find_dialog import LRFindScreen, rounded
from workbench.tui.torch_thread import on_torch_thread
from workbench.tui.widgets.lr_find_chart import LRFindChart

from .helpers import SIZE, wait_for


async def test_f_finds_an_lr_u_takes_it_into_the_draft_and_undo_restores_it(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        app.screen.focus_main_widget()  # out of the form's fields: the screen's keys act
        await pilot.press("f")
        dialog = app.screen
        assert isinstance(dialog, LRFindScreen)
        await wait_for(pilot, lambda: dialog.result is not None, timeout=90, what="for the ramp")
        result = dialog.result
        assert result is not None and result.suggestion is not None
        assert dialog.query_one(LRFindChart).result is result
        note = str(dialog.query_one("#lr-find-note", Static).render())
        assert f"suggested optimizer.lr {rounded(result.suggestion):g}" in note and "a bit lower" in note
        assert "took" in str(dialog.query_one("#lr-find-status", Static).render())
        assert app.draft.config.optimizer.lr == 0.1  # nothing taken without asking
        await pilot.press("u")
        await wait_for(pilot, lambda: not isinstance(app.screen, LRFindScreen))
        assert app.draft.config.optimizer.lr == rounded(result.suggestion)
        await pilot.pause()  # the dialog's closing settled (focus back on the screen) before the next key
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: app.draft.config.optimizer.lr == 0.1, what="the undo")


async def test_escape_cancels_the_ramp_and_frees_the_torch_thread(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        app.screen.focus_main_widget()
        await pilot.press("f")
        dialog = app.screen
        assert isinstance(dialog, LRFindScreen)
        await wait_for(pilot, lambda: dialog.steps_done > 0, timeout=90, what="for the ramp to start")
        await pilot.press("escape")
        assert not isinstance(app.screen, LRFindScreen)
        await on_torch_thread(lambda: None)  # returns once the ramp has stopped: the thread is free again
        assert app.draft.config.optimizer.lr == 0.1 and not app.draft.can_undo
