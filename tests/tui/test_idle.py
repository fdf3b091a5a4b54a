"""An app left open, attached to a run or not, wakes only for what it has to draw: on a small
machine each wake-up of the app stalls a run's threads (benchmarks/app_attached.py)."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets._progress_bar import Bar

from workbench.tui.app import WorkbenchApp
from workbench.tui.widgets.progress import StillProgressBar

from .helpers import SIZE


def _ticking(bar: StillProgressBar) -> list[str]:
    """What keeps waking the app for this bar: an animation, or a timer of its own."""
    problems = [f"{bar.id} animates" for inner in bar.query(Bar) if inner.auto_refresh is not None]
    return problems + [f"{bar.id} has a timer" for _ in bar._timers]


async def test_no_progress_bar_wakes_the_app_while_it_is_hidden_or_unchanged(fixed_app: Callable[..., WorkbenchApp]) -> None:
    """Textual's bar redrew its ETA every second on every screen, and the Data screen's hidden
    download bar animated 15 times a second for as long as the app was open."""
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        download = app.screen.query_one("#download-progress", StillProgressBar)
        await pilot.press("4")
        await pilot.pause()
        bars = [download, *app.screen.query(StillProgressBar)]
        assert [bar.id for bar in bars] == ["download-progress", "epoch-bar", "run-bar"]
        assert [problem for bar in bars for problem in _ticking(bar)] == []

        download.remove_class("hidden")
        download.update(total=None, progress=0)  # a download starts: its size is not known yet
        await pilot.pause()
        assert _ticking(download) == ["download-progress animates"]
        download.rest()  # it ended
        await pilot.pause()
        assert download.has_class("hidden") and _ticking(download) == []
