"""The Runs screen's `w`: the highlighted run's metrics to metrics.csv in its folder."""

from __future__ import annotations

from collections.abc import Callable

from workbench.outputs.export import CSV_NAME, metrics_table
from workbench.tui.app import WorkbenchApp
from workbench.tui.runs.screen import RunsScreen

from .helpers import SIZE, wait_for
from .runs import recorded_run


def _messages(app: WorkbenchApp) -> list[tuple[str, str]]:
    return [(note.title, note.message) for note in app._notifications]


async def test_w_writes_the_highlighted_runs_csv_into_its_folder_and_says_where(fixed_app: Callable[..., WorkbenchApp]) -> None:
    run = recorded_run("exported")
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await wait_for(pilot, lambda: screen.highlighted_id == run.id)
        await pilot.press("w")
        path = run.path / CSV_NAME
        await wait_for(pilot, lambda: ("Metrics written", str(path)) in _messages(app))
    assert path.read_text(encoding="utf-8") == metrics_table(run).csv_text()


async def test_w_on_a_run_without_epochs_says_so_in_one_line(fixed_app: Callable[..., WorkbenchApp]) -> None:
    run = recorded_run("just-started", val_acc=(), finish=False)
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await wait_for(pilot, lambda: screen.highlighted_id == run.id)
        await pilot.press("w")
        await wait_for(pilot, lambda: any(title == "The metrics could not be exported" for title, _ in _messages(app)))
    message = next(message for title, message in _messages(app) if title == "The metrics could not be exported")
    assert message.startswith(f"run {run.id} has no finished epoch recorded yet") and "\n" not in message
    assert not (run.path / CSV_NAME).exists()
