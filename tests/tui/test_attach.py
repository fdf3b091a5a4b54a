"""Attaching: the Train screen shows any run from its folder, and the status bar counts the runs in progress."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import DataTable

from workbench.engine.sinks import RunRecorder
from workbench.runs import events as ev
from workbench.runs.history import RunHistory
from workbench.tui.app import WorkbenchApp, build_app
from workbench.tui.live_runs import FollowedRun, LiveRuns, activity_text
from workbench.tui.train.screen import TrainScreen

from ..processes import hold_lock
from .helpers import SIZE, screen_text, wait_for
from .runs import recorded_run, run_started


async def test_attach_opens_the_train_screen_on_a_finished_run_with_its_whole_history() -> None:
    run = recorded_run("earlier", val_acc=(0.5, 0.7, 0.9))
    app = build_app("digits-cnn", attach=run.id)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.runs.shown is not None)
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        await wait_for(pilot, lambda: screen.query_one("#epochs", DataTable).row_count == 3)
        assert app.runs.shown.state == "finished" and app.runs.shown.history.state == "finished"
        await wait_for(pilot, lambda: "✓ test" in screen_text(app).splitlines()[1])
        assert "acc 0.900" in screen_text(app).splitlines()[1]


async def test_enter_on_the_runs_screen_shows_that_run_on_the_train_screen(fixed_app: Callable[..., WorkbenchApp]) -> None:
    first = recorded_run("first", val_acc=(0.5,))
    recorded_run("second", val_acc=(0.5, 0.6))
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.screen.shown) == 2)
        await pilot.press("down" if app.screen.highlighted_id != first.id else "up")
        await wait_for(pilot, lambda: app.screen.highlighted_id == first.id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.runs.shown is not None)
        assert app.runs.shown_id == first.id
        await wait_for(pilot, lambda: len(app.screen.history.epochs) == 1)


def _live(name: str, epoch: int) -> FollowedRun:
    run = recorded_run(name, val_acc=(0.5,), finish=False)
    history = RunHistory()
    history.add(run_started(run, name, num_params=1, epochs=10, steps_per_epoch=5, sizes=(10, 0, 0)))
    history.add(
        ev.Progress(
            epoch=epoch,
            step=2,
            steps_per_epoch=5,
            global_step=2,
            loss=0.25,
            acc=0.5,
            lr=0.1,
            samples_per_s=10.0,
            elapsed_s=1.0,
            eta_s=5.0,
        )
    )
    return FollowedRun(run, history, "running")


def test_the_status_bar_line_says_where_the_shown_run_is_how_many_train_and_which_is_shown() -> None:
    runs = LiveRuns()
    assert activity_text(runs) == ""
    one = _live("one", 3)
    runs.followed[one.id] = one
    assert activity_text(runs) == "1 training"  # one trains, none is shown
    runs.shown_id = one.id
    assert activity_text(runs) == "▶ epoch 3/10 loss 0.2500"
    two = _live("two", 1)
    runs.followed[two.id] = two
    assert activity_text(runs) == "▶ one epoch 3/10 loss 0.2500 · 2 training"
    one.state = "paused"
    assert activity_text(runs).startswith("‖ paused, one epoch 3/10")
    one.requested = "stop"
    assert activity_text(runs).startswith("■ stopping, one epoch 3/10")


@pytest.mark.slow
@pytest.mark.parametrize("ending", ["finished", "failed"])
async def test_a_followed_run_that_ends_is_a_toast_and_the_bell_on_any_screen(
    fixed_app: Callable[..., WorkbenchApp], ending: str
) -> None:
    """Issue 13's 'told when it ends', in the app: whoever looked away (another screen, another
    window) hears the bell and reads how it ended."""
    run = recorded_run("elsewhere", val_acc=(0.5,), finish=False)
    other = hold_lock(run)  # the "trainer" process
    try:
        app = fixed_app(start="data")
        rings: list[int] = []
        app.bell = lambda: rings.append(1)  # type: ignore[method-assign]  # the terminal's bell, counted
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: run.id in app.runs.followed and app.runs.followed[run.id].live)
            record = RunRecorder(run)
            if ending == "finished":
                record(
                    ev.RunFinished(
                        state="finished", epochs_done=1, best_epoch=1, best_value=0.5, monitor="val_acc", test={"acc": 0.75}
                    )
                )
            else:
                record(ev.RunFailed(message="CUDA out of memory"))
            await wait_for(pilot, lambda: rings)
            (note,) = [n for n in app._notifications if n.title.startswith(f"Run {run.id}")]
            assert app.current_mode == "data" and rings == [1]
            if ending == "finished":
                assert note.title == f"Run {run.id} finished" and "test acc 0.750" in note.message
            else:
                assert note.severity == "error" and note.message.startswith("CUDA out of memory")
    finally:
        other.kill()
        other.wait()


@pytest.mark.slow
async def test_the_end_of_the_run_the_train_screen_shows_is_a_brief_toast_and_a_long_one_elsewhere(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    """The Train screen's headline says how its run ended: a toast kept there for 15 s covered
    the log and the epoch table that say it too."""
    from workbench.tui.app import RUN_END_TOAST_S, RUN_END_TOAST_WATCHED_S

    run = recorded_run("watched", val_acc=(0.5,), finish=False)
    other = hold_lock(run)  # the "trainer" process
    try:
        app = fixed_app(start="train")
        app.bell = lambda: None  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: run.id in app.runs.followed and app.runs.followed[run.id].live)
            app.show_run(run)
            RunRecorder(run)(ev.RunFinished(state="finished", epochs_done=1, best_epoch=1, best_value=0.5, monitor="val_acc"))
            await wait_for(pilot, lambda: any(n.title.startswith(f"Run {run.id}") for n in app._notifications))
            (note,) = [n for n in app._notifications if n.title.startswith(f"Run {run.id}")]
            assert note.timeout == RUN_END_TOAST_WATCHED_S < RUN_END_TOAST_S
    finally:
        other.kill()
        other.wait()
