"""Sweeps in the app: a numeric field of the Optimize screen made a sweep axis and the sweep
started, a sweep's table over the Runs screen with its best point loaded by one key, and a
sweep that ends told with a toast and the bell."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import DataTable, Input, Select

from workbench.experiment.presets import load_experiment
from workbench.experiment.sweep_points import plan_points
from workbench.scheduling import queue
from workbench.scheduling.sweep import create_sweep, find_sweep, point_entry_id
from workbench.schema.sweep import SweepSpec, parse_axis
from workbench.tui.app import WorkbenchApp
from workbench.tui.runs.screen import RunsScreen
from workbench.tui.runs.sweep_view import SweepScreen
from workbench.tui.setup.optimize import OptimizeScreen
from workbench.tui.setup.sweep_dialog import SweepAxisScreen
from workbench.tui.widgets.charts import ChartDeck

from .helpers import SIZE, screen_text, wait_for
from .runs import recorded_run


@pytest.mark.slow
async def test_w_makes_the_focused_field_a_sweep_axis_and_starts_the_sweep(
    fixed_app: Callable[..., WorkbenchApp], feeder_stand_in: None
) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, OptimizeScreen)
        screen.focus_field("optimizer.lr")
        await pilot.press("escape", "w")
        await wait_for(pilot, lambda: isinstance(app.screen, SweepAxisScreen))
        values = app.screen.query_one("#values", Input)
        assert values.value == "0.0333,0.1,0.3"  # a third, the value, three times
        values.value = "0.01,0.1"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        assert [a.text() for a in screen.sweep_plan.axes] == ["optimizer.lr=0.01,0.1"]
        assert "sweep: optimizer.lr=0.01,0.1 (2 points)" in screen_text(app)
        screen.focus_field("optimizer.momentum")
        await pilot.press("escape", "w")
        await wait_for(pilot, lambda: isinstance(app.screen, SweepAxisScreen))
        app.screen.query_one("#values", Input).value = "fast"
        await pilot.pause()
        assert "'fast' is not a number" in screen_text(app)
        app.screen.query_one("#values", Input).value = "0.5,0.9"
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: app.current_mode == "runs", what="the sweep to start")
        entries = queue.read_queue().entries
        assert [e.label for e in entries] == [
            "optimizer.lr=0.01 optimizer.momentum=0.5",
            "optimizer.lr=0.01 optimizer.momentum=0.9",
            "optimizer.lr=0.1 optimizer.momentum=0.5",
            "optimizer.lr=0.1 optimizer.momentum=0.9",
        ]
        assert find_sweep(entries[0].sweep).read_meta()["axes"] == ["optimizer.lr=0.01,0.1", "optimizer.momentum=0.5,0.9"]
        assert app.draft.config.optimizer.lr == 0.1  # the draft itself is unchanged


@pytest.mark.slow
async def test_the_sweep_dialog_chooses_the_sampler_and_the_pruner(
    fixed_app: Callable[..., WorkbenchApp], feeder_stand_in: None
) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, OptimizeScreen)
        screen.focus_field("optimizer.lr")
        await pilot.press("escape", "w")
        await wait_for(pilot, lambda: isinstance(app.screen, SweepAxisScreen))
        dialog = app.screen
        dialog.query_one("#values", Input).value = "log-uniform:1e-3:1e-1"
        dialog.query_one("#sampler", Select).value = "tpe"
        dialog.query_one("#pruner", Select).value = "median"
        await wait_for(pilot, lambda: "give how many with samples" in screen_text(app), what="the sampler's samples asked for")
        dialog.query_one("#samples", Input).value = "3"
        await wait_for(pilot, lambda: "(3 samples, tpe, median" in screen_text(app), what="the plan's line")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: app.current_mode == "runs", what="the sweep to start")
        entries = queue.read_queue().entries
        assert len(entries) == 3 and all(e.label == "a point the tpe sampler draws" for e in entries)
        meta = find_sweep(entries[0].sweep).read_meta()
        assert (meta["sampler"], meta["pruner"], meta["count"]) == ("tpe", "median", 3)


async def test_w_on_a_field_that_is_not_a_number_says_so(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        app.screen.focus_field("optimizer.name")
        await pilot.press("w")
        await pilot.pause()
        assert not isinstance(app.screen, SweepAxisScreen)
        assert any("numeric field" in n.message for n in app._notifications)


def _sweep_of_three() -> tuple[str, list[str]]:
    """A sweep of three points over optimizer.lr, recorded as finished runs (val_acc 0.6, 0.9, 0.7)."""
    base = load_experiment("spirals-mlp")
    spec = SweepSpec((parse_axis("optimizer.lr=0.01,0.1,0.3"),))
    sweep = create_sweep(base, spec, plan_points(base, spec))
    runs = []
    for number, (lr, acc) in enumerate(((0.01, 0.6), (0.1, 0.9), (0.3, 0.7)), start=1):
        entry = point_entry_id(sweep.id, number)
        runs.append(recorded_run("spirals-mlp", "spirals-mlp", lr=lr, val_acc=(acc,), sweep=sweep.id, queue_entry=entry).id)
    return sweep.id, runs


async def test_S_shows_the_sweeps_table_axes_first_best_on_top_and_b_loads_the_best_point(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    sweep_id, (_, best, _) = _sweep_of_three()
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.screen.shown) == 3)
        assert isinstance(app.screen, RunsScreen)
        app.screen.show_sweep(sweep_id)
        await wait_for(pilot, lambda: sweep_id in screen_text(app).split("\n", 3)[3], what="the run's sweep in its details")
        assert len(app.screen.shown) == 3
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.comparison)
        table = app.screen.query_one("#compare-runs", DataTable)
        assert [str(c.label) for c in table.ordered_columns][:3] == ["run", "optimizer.lr", "state"]
        lrs = [str(table.get_row_at(i)[1]) for i in range(3)]
        assert lrs == ["0.1", "0.3", "0.01"]  # val_acc best first
        await wait_for(pilot, lambda: "3 points: 3 ended · best val_acc 0.9 · b loads it" in screen_text(app))
        await pilot.press("b")
        await wait_for(pilot, lambda: app.draft.config.optimizer.lr == 0.1)
        assert isinstance(app.screen, RunsScreen) and best in app.draft.source


async def test_the_sweep_view_draws_the_search_best_so_far_and_marks_a_pruned_point(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    from workbench.engine.sinks import RunRecorder
    from workbench.runs import events as ev
    from workbench.runs.folder import RunDir
    from workbench.runs.status import PRUNE_MARK
    from workbench.runs.store import runs_with_status

    sweep_id, _ = _sweep_of_three()
    entry = point_entry_id(sweep_id, 4)
    cut = recorded_run("spirals-mlp", "spirals-mlp", lr=0.5, val_acc=(0.3,), finish=False, sweep=sweep_id, queue_entry=entry)
    (cut.path / PRUNE_MARK).write_text("{}")  # as the feeder marks a point its pruner stops
    RunRecorder(cut)(ev.RunFinished(state="stopped", epochs_done=1, best_epoch=1, best_value=0.3, monitor="val_acc"))
    assert dict((run.id, status.state) for run, status in runs_with_status())[cut.id] == "pruned"
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.screen.shown) == 4)
        assert isinstance(app.screen, RunsScreen)
        app.screen.show_sweep(sweep_id)
        await wait_for(pilot, lambda: sweep_id in screen_text(app).split("\n", 3)[3], what="the run's sweep in its details")
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.comparison)
        deck = app.screen.query_one(ChartDeck)
        await wait_for(pilot, lambda: deck.spec("search").series, what="the search chart")
        search = deck.spec("search")
        assert search.name == "val_acc by point" and "pruned" in [e.label for e in search.legend]
        points, pruned, best = search.series
        assert (list(points.xs), list(points.ys)) == ([1.0, 2.0, 3.0], [0.6, 0.9, 0.7])
        assert (list(pruned.xs), list(pruned.ys)) == ([4.0], [0.3])
        assert list(best.ys) == [0.6, 0.9, 0.9, 0.9]  # the best so far, by point
        assert deck.spec("axis0").name == "val_acc by optimizer.lr"
        assert "val_acc by point" in screen_text(app) and "pruned" in screen_text(app)
        assert RunDir(cut.path).read_status().state == "pruned"


async def test_a_sweep_that_ends_is_a_toast_and_the_bell(fixed_app: Callable[..., WorkbenchApp]) -> None:
    sweep_id, _ = _sweep_of_three()
    app = fixed_app(start="data")
    rings: list[int] = []
    app.bell = lambda: rings.append(1)  # type: ignore[method-assign]  # the terminal's bell, counted
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        find_sweep(sweep_id).mark_ended(f"sweep {sweep_id} ended: 3 points: 3 ended")  # as its feeder does
        await wait_for(pilot, lambda: rings, what="the bell")
        (note,) = [n for n in app._notifications if n.title.startswith("Sweep")]
        assert note.title == f"Sweep {sweep_id} ended" and note.message.endswith("3 points: 3 ended")
