"""The Runs screen: the table (live, sorted, filtered), the selected run, and its actions."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, SelectionList

from workbench.engine.sinks import RunRecorder
from workbench.runs import events as ev
from workbench.runs.folder import RunDir
from workbench.runs.listing import list_runs
from workbench.runs.store import all_runs
from workbench.tui.app import WorkbenchApp
from workbench.tui.runs import screen as runs_screen
from workbench.tui.runs.compare import CompareScreen
from workbench.tui.runs.dialogs import ColumnsScreen, EpochsScreen
from workbench.tui.runs.screen import RunsScreen
from workbench.tui.screens.dialogs import ConfirmScreen
from workbench.tui.train.screen import TrainScreen
from workbench.tui.widgets.charts import ChartDeck

from ..processes import hold_lock
from .helpers import SIZE, screen_text, wait_for
from .runs import recorded_run, train_run


def _runs(app: WorkbenchApp) -> RunsScreen:
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    return screen


def _names(app: WorkbenchApp) -> list[str]:
    return [s.name for s in _runs(app).shown]


def _calls_on_ui_thread(monkeypatch: pytest.MonkeyPatch, *functions: tuple[object, str]) -> list[str]:
    """Each function (its module or class, its name) still makes its real call, and notes the calls
    made on the UI thread in the list returned (a file read there stalls the app on a slow disk)."""
    on_ui_thread: list[str] = []

    def watched(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            if threading.current_thread() is threading.main_thread():
                on_ui_thread.append(name)
            return real(*args)

        return call

    for owner, name in functions:
        monkeypatch.setattr(owner, name, watched(name, getattr(owner, name)))
    return on_ui_thread


@pytest.mark.slow
async def test_a_run_trained_by_another_process_shows_as_running_and_moves_on_live(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    run = recorded_run("elsewhere", val_acc=(0.5,), finish=False)
    other = hold_lock(run)  # the "trainer" process
    try:
        app = fixed_app(start="runs")
        async with app.run_test(size=SIZE) as pilot:
            screen = _runs(app)
            await wait_for(pilot, lambda: screen.shown and screen.shown[0].state == "running")
            await wait_for(pilot, lambda: "running" in screen_text(app))  # drawn, not only read
            await wait_for(pilot, lambda: screen.details is not None and len(screen.details.history.epochs) == 1)
            await pilot.press("r")  # it trains: nothing to resume
            await pilot.pause()
            assert app.current_mode == "runs" and run.read_status().pid == other.pid and len(list_runs()) == 1

            record = RunRecorder(run)  # the other process reports its second epoch, then ends
            record(
                ev.EpochEnded(
                    epoch=2,
                    epochs=2,
                    train={"loss": 0.4, "acc": 0.8},
                    val={"loss": 0.5, "acc": 0.8},
                    lr=0.01,
                    duration_s=0.1,
                    samples_per_s=1000.0,
                    is_best=True,
                    best_epoch=2,
                    best_value=0.8,
                    monitor="val_acc",
                )
            )
            await wait_for(pilot, lambda: screen.shown[0].epochs_done == 2 and "2/2" in screen_text(app))
            await wait_for(pilot, lambda: len(screen.details.history.epochs) == 2)  # its curves too
            record(
                ev.RunFinished(
                    state="finished", epochs_done=2, best_epoch=2, best_value=0.8, monitor="val_acc", test={"acc": 0.75}
                )
            )
            await wait_for(pilot, lambda: screen.shown[0].state == "finished" and "acc 0.750" in screen_text(app))
    finally:
        other.kill()
        other.wait()


async def test_the_filter_keeps_matching_runs_and_o_changes_the_order(fixed_app: Callable[..., WorkbenchApp]) -> None:
    recorded_run("beta-digits", val_acc=(0.9,))
    recorded_run("alpha-spirals", "spirals-mlp", val_acc=(0.6,))
    recorded_run("gamma-digits", val_acc=(0.7,))
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(_runs(app).shown) == 3)
        assert _names(app) == ["gamma-digits", "alpha-spirals", "beta-digits"]  # newest first
        await pilot.press("o")  # by name
        assert _names(app) == ["alpha-spirals", "beta-digits", "gamma-digits"]
        await pilot.press("O")
        assert _names(app) == ["gamma-digits", "beta-digits", "alpha-spirals"]
        await pilot.press("o", "o", "o", "o")  # dataset, state, best, test: best test accuracy first
        assert _names(app) == ["beta-digits", "gamma-digits", "alpha-spirals"]
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"spirals")
        await pilot.pause()
        assert _names(app) == ["alpha-spirals"]
        assert "1 of 3 runs" in screen_text(app)
        await pilot.press("enter")  # back to the table: keys act again
        assert isinstance(app.focused, DataTable)


async def test_d_deletes_the_run_after_asking(fixed_app: Callable[..., WorkbenchApp]) -> None:
    keep, gone = recorded_run("keep-me"), recorded_run("delete-me")
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _runs(app).highlighted_id == gone.id)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        assert gone.path.is_dir()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: [s.id for s in _runs(app).shown] == [keep.id])
    assert not gone.path.exists() and keep.path.is_dir()


async def test_d_looks_into_and_deletes_the_runs_folder_off_the_ui_thread(
    fixed_app: Callable[..., WorkbenchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large model's checkpoints take a while to remove: the app keeps drawing meanwhile."""
    gone = recorded_run("delete-me")
    gone.last_checkpoint.write_bytes(b"")  # what the question counts: its files, not what they hold
    on_ui_thread = _calls_on_ui_thread(monkeypatch, (runs_screen, "delete_run"), (runs_screen, "listed_checkpoints"))
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _runs(app).highlighted_id == gone.id)
        on_ui_thread.clear()  # the details of the highlighted run are read in a worker anyway
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert f"Delete run {gone.id} and its 1 checkpoint file?" in " ".join(screen_text(app).split())
        await pilot.press("y")
        await wait_for(pilot, lambda: not _runs(app).shown)
    assert not gone.path.exists() and on_ui_thread == []


async def test_the_details_look_for_new_curves_off_the_ui_thread_at_each_listing(
    fixed_app: Callable[..., WorkbenchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every listing asks whether the shown run's metrics.jsonl moved on: a stat each time, which
    on a slow or network disk stalls whatever does it. (A listing comes when a run changes.)"""
    run = recorded_run("looked-at")
    threads: list[bool] = []  # per look: was it on the UI thread
    stamp = runs_screen.metrics_stamp

    def watched(looked: RunDir) -> tuple[float, int]:  # the real look, and its thread
        threads.append(threading.current_thread() is threading.main_thread())
        return stamp(looked)

    monkeypatch.setattr(runs_screen, "metrics_stamp", watched)
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _runs(app).details is not None and _runs(app).details.run.id == run.id)
        for name in ("renamed", "renamed again"):  # the run changes: a listing each time
            run.update_status(name=name)
            await wait_for(pilot, lambda: app.listing is not None and app.listing[0].name == name, what="a listing")  # noqa: B023
        await wait_for(pilot, lambda: len(threads) >= 2, what="two looks")
    assert threads and not any(threads)


async def test_c_loads_the_runs_experiment_into_the_setup_screens(fixed_app: Callable[..., WorkbenchApp]) -> None:
    run = recorded_run("to-change", "spirals-mlp", lr=0.05)
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _runs(app).highlighted_id == run.id)
        await pilot.press("c")
        await pilot.pause()
        assert app.draft.config.data.dataset == "spirals"
        assert app.draft.config.optimizer.lr == 0.05
        assert app.draft.source == f"run {run.id}"


async def test_r_and_c_read_the_runs_files_off_the_ui_thread_and_say_the_same(
    fixed_app: Callable[..., WorkbenchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """r looked at the run's lock and checkpoint, and c read its config.toml, on the UI thread:
    on a slow or network disk the app stalled there."""
    run = recorded_run("no-checkpoint", "spirals-mlp", lr=0.05)  # finished, but its checkpoint is gone
    on_ui_thread = _calls_on_ui_thread(monkeypatch, (runs_screen, "check_resumable"), (RunDir, "read_config"))
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _runs(app).highlighted_id == run.id)
        on_ui_thread.clear()
        await pilot.press("r")
        refusal = f"run {run.id} has no checkpoint to resume from ({run.last_checkpoint} is missing)"
        await wait_for(pilot, lambda: any(n.message == refusal for n in app._notifications), what="the refusal")
        assert next(n for n in app._notifications if n.message == refusal).severity == "warning"
        await pilot.press("c")
        await wait_for(pilot, lambda: app.draft.source == f"run {run.id}", what="the run's experiment loaded")
        assert app.draft.config.data.dataset == "spirals" and app.draft.config.optimizer.lr == 0.05
        assert isinstance(app.screen, RunsScreen) and app.runs.shown is None  # nothing started
    assert on_ui_thread == []


async def test_two_marked_runs_are_compared_with_curves_overlaid_and_their_differences(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    slow, fast = recorded_run("slow", lr=0.01, val_acc=(0.3, 0.5)), recorded_run("fast", lr=0.1, val_acc=(0.6, 0.9))
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _runs(app).highlighted_id == fast.id)
        await pilot.press("m", "down", "v")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.histories)
        compare = app.screen
        assert [h.run_id for h in compare.histories] == [fast.id, slow.id]
        metric = compare.query_one(ChartDeck).spec("metric")
        validation = [s.ys for s in metric.series if s.dots]
        assert validation == [[0.6, 0.9], [0.3, 0.5]]
        text = screen_text(app)
        assert "optimizer.lr" in text and "0.1" in text and "0.01" in text
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def _compare_all(pilot: Pilot, app: WorkbenchApp, runs: int) -> CompareScreen:
    """Mark every listed run (once ``runs`` are listed) and open their comparison, read."""
    await wait_for(pilot, lambda: len(_runs(app).shown) == runs)
    await pilot.press("M", "v")
    await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison)
    assert isinstance(app.screen, CompareScreen)
    return app.screen


async def test_three_runs_compared_list_every_difference_most_telling_first_in_a_sortable_table(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    """The reported defect: 'what differs' was capped at 8 rows sorted by name, so comparing
    digits-cnn with an SGD copy never showed optimizer.name, schedule.name or train.epochs."""
    recorded_run("adam", lr=0.003, val_acc=(0.5, 0.9))
    recorded_run("sgd", lr=0.05, val_acc=(0.4, 0.6, 0.8), overrides=("optimizer.name=sgd", "schedule.name=step"))
    recorded_run("mlp", "digits-mlp", lr=0.1, val_acc=(0.7,))
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        compare = await _compare_all(pilot, app, 3)
        settings = [d.setting for d in compare.comparison.differences]
        assert settings[:2] == ["model.layers", "model.layers.0.kernel_size"]
        for setting in ("optimizer.name", "optimizer.lr", "schedule.name", "train.epochs"):
            assert setting in settings
        assert settings.index("optimizer.name") < settings.index("schedule.name") < settings.index("train.epochs")
        diff = compare.query_one("#compare-diff", DataTable)
        assert diff.row_count == len(settings) > 8  # every one listed, the table scrolls
        assert len(compare.query_one(ChartDeck).spec("loss").series) == 6  # train and validation of each run
        runs_table = compare.query_one("#compare-runs", DataTable)
        assert runs_table.row_count == 3 and app.focused is runs_table
        assert "optimizer.lr" in [str(c.label) for c in runs_table.ordered_columns]
        names = lambda: [str(runs_table.get_row_at(i)[0]).split(" ", 2)[2] for i in range(3)]  # noqa: E731
        assert names() == ["mlp", "sgd", "adam"]  # the order they were marked in: the listing's
        await pilot.press("o", "o", "o", "o")  # state, epochs, best, test: the best test first
        assert compare.sort_column == "test" and names() == ["adam", "sgd", "mlp"]
        await pilot.press("O")
        assert names() == ["mlp", "sgd", "adam"]
        await pilot.press("tab")
        assert app.focused is diff
        await pilot.press(*["down"] * 12)
        await pilot.pause()
        assert diff.cursor_row == 12 and diff.scroll_y > 0  # past the rows it shows at once
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_h_chooses_the_settings_shown_as_columns(fixed_app: Callable[..., WorkbenchApp]) -> None:
    recorded_run("slow", lr=0.01, val_acc=(0.3, 0.5))
    recorded_run("fast", lr=0.1, val_acc=(0.6, 0.9))
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        compare = await _compare_all(pilot, app, 2)
        assert compare.columns == ["optimizer.lr"]  # what differs (the names are in the run column)
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, ColumnsScreen))
        choices = app.screen.query_one(SelectionList)
        choices.select("data.batch_size")
        choices.deselect("optimizer.lr")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is compare)
        assert compare.columns == ["data.batch_size"]
        headers = [str(c.label) for c in compare.query_one("#compare-runs", DataTable).ordered_columns]
        assert headers[-1] == "data.batch_size" and "optimizer.lr" not in headers


def _finished_shown(app: WorkbenchApp) -> bool:
    shown = app.runs.shown
    return shown is not None and shown.history.state == "finished" and not shown.live


@pytest.mark.slow
async def test_r_resumes_a_stopped_run_in_a_process_shown_on_the_train_screen_and_asks_for_more_epochs_once_done(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    run = train_run("digits-cnn", epochs=2, stop_after=1)
    assert run.state() == "stopped"
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _runs(app).highlighted_id == run.id)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.current_mode == "train" and app.runs.shown_id == run.id)
        await wait_for(pilot, lambda: _finished_shown(app), timeout=120)
        train = app.screen
        assert isinstance(train, TrainScreen)
        assert train.history.state == "finished"
        assert [e.epoch for e in train.history.epochs] == [1, 2]  # epoch 1 from before the stop, on the same charts
        assert run.read_status().epochs_done == 2

        await pilot.press("5")
        await wait_for(pilot, lambda: _runs(app).highlighted_id == run.id and _runs(app).shown[0].state == "finished")
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, EpochsScreen)
        app.screen.query_one(Input).value = "3"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_mode == "train")
        await wait_for(pilot, lambda: _finished_shown(app) and app.runs.shown.history.epochs[-1].epoch == 3, timeout=120)
    assert [s.epochs_done for s in list_runs()] == [3]
    assert len(all_runs()) == 1 and os.path.isfile(run.epoch_checkpoint(3))


async def test_e_on_a_run_whose_files_cannot_be_read_says_why_not_that_it_has_no_checkpoint(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    run = recorded_run("unreadable", val_acc=(0.5,))
    run.metrics_path.unlink()
    run.metrics_path.mkdir()  # read_bytes fails with IsADirectoryError, as a file this user may not read
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        screen = _runs(app)
        await wait_for(pilot, lambda: screen.details is not None and bool(screen.details.error))
        await pilot.press("e")
        await wait_for(pilot, lambda: bool(app._notifications))
        (note,) = list(app._notifications)
        assert note.message.startswith(f"{run.id} cannot be evaluated: ") and "metrics.jsonl" in note.message
        assert "no checkpoint" not in note.message


async def test_with_no_runs_yet_the_screen_says_how_to_train_one(fixed_app) -> None:
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "No runs yet: 4 then s trains the" in screen_text(app))  # wraps there


async def test_at_80_columns_the_runs_table_keeps_its_results_and_time_leaving_out_the_rest(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    recorded_run("a-long-run-name", val_acc=(0.5,))
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(_runs(app).shown) == 1)
        await pilot.pause()
        header = screen_text(app).splitlines()[2]
        assert header.split() == ["state", "name", "epochs", "test", "best", "time"]
        await pilot.resize_terminal(150, 30)
        await wait_for(pilot, lambda: "started" in screen_text(app).splitlines()[2])
        assert "params" in screen_text(app).splitlines()[2]


@pytest.mark.slow  # makes 1,001 runs
async def test_the_runs_count_writes_its_figures_as_the_cli_does(fixed_app: Callable[..., WorkbenchApp]) -> None:
    """The line above the runs said "1001 of 1001 runs" where `workbench runs` writes 1,001."""
    import json
    import shutil

    template = recorded_run("template")
    for i in range(1000):
        copy = template.path.with_name(f"{template.id}-{i:04d}")
        shutil.copytree(template.path, copy)
        status = json.loads((copy / "status.json").read_text())
        (copy / "status.json").write_text(json.dumps(status | {"id": copy.name}))
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(_runs(app).shown) == 1001)
        await wait_for(pilot, lambda: "1,001 of 1,001 runs · sort" in screen_text(app))


async def test_the_runs_screen_is_built_and_filled_before_it_is_first_shown(fixed_app: Callable[..., WorkbenchApp]) -> None:
    """Its first opening at a thousand runs took 0.5 s, later ones 0.1 s (issue 31): the warm
    app builds it ahead, hidden, and it fills its table from the first listing."""
    runs = [recorded_run(f"run-{i}") for i in range(3)]
    app = fixed_app(start="data")
    async with app.run_test(size=SIZE) as pilot:

        def built() -> RunsScreen | None:  # the hidden screen of the mode (Textual keeps it privately)
            stack = app._screen_stacks.get("runs", [])
            return stack[0] if stack and isinstance(stack[0], RunsScreen) else None

        await wait_for(pilot, lambda: (screen := built()) is not None and screen.query_one("#runs", DataTable).row_count == 3)
        assert app.current_mode == "data"
        hidden = built()
        await pilot.press("5")
        await wait_for(pilot, lambda: app.current_mode == "runs")
        assert app.screen is hidden and {s.id for s in hidden.shown} == {run.id for run in runs}


@pytest.mark.slow
async def test_the_details_of_a_run_in_progress_catch_up_between_two_epochs(fixed_app: Callable[..., WorkbenchApp]) -> None:
    """The listing changes when a run's status does (an epoch's end), no longer every 2 s: the
    details of a run that trains catch up as the app follows it, mid-epoch too."""
    run = recorded_run("elsewhere", val_acc=(0.5,), finish=False)
    other = hold_lock(run)  # the "trainer" process
    try:
        app = fixed_app(start="runs")
        async with app.run_test(size=SIZE) as pilot:
            screen = _runs(app)
            await wait_for(pilot, lambda: screen.details is not None and run.id in app.runs.followed)
            progress = ev.Progress(
                epoch=2,
                step=3,
                steps_per_epoch=10,
                global_step=13,
                loss=0.4,
                acc=0.8,
                lr=0.01,
                samples_per_s=1000.0,
                elapsed_s=1.0,
                eta_s=5.0,
            )
            RunRecorder(run)(progress)  # metrics.jsonl only: its status is as it was
            await wait_for(pilot, lambda: screen.details is not None and screen.details.stamp == runs_screen.metrics_stamp(run))
    finally:
        other.kill()
        other.wait()
