"""The Train screen: runs in processes of their own, started, followed, paused and stopped from the app.

These tests start real training processes and drive the real app with the pilot; they wait on
the run's state, never on a fixed sleep.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, RichLog

from workbench.runs.folder import RunDir
from workbench.runs.listing import list_runs
from workbench.tui.app import WorkbenchApp
from workbench.tui.runs.evaluation import EvaluationScreen
from workbench.tui.screens.dialogs import QuitWithRunsScreen
from workbench.tui.train.screen import TrainScreen
from workbench.tui.widgets.charts import ChartDeck

from ..processes import LONG_EPOCHS, epochs_done, only_run, train_in_background, wait_until, workbench
from .helpers import SIZE, press_start, screen_text, wait_for

slow = pytest.mark.slow


def _screen(app: WorkbenchApp) -> TrainScreen:
    screen = app.screen
    assert isinstance(screen, TrainScreen)
    return screen


def _shown_state(app: WorkbenchApp) -> str:
    shown = app.runs.shown
    return shown.state if shown is not None else ""


@slow
async def test_pressing_s_trains_in_a_process_of_its_own_with_live_charts_then_lists_and_evaluates_the_run(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    from workbench.engine.evaluate import evaluate_checkpoint

    app = preset_app("digits-cnn", start="train")
    app.draft.set_text("train.epochs", "2")
    async with app.run_test(size=SIZE) as pilot:
        await press_start(pilot, app)
        await wait_for(pilot, lambda: app.runs.shown is not None and app.runs.shown.history.is_over, timeout=120)
        screen = _screen(app)
        history = screen.history
        assert history.state == "finished" and [e.epoch for e in history.epochs] == [1, 2]
        await wait_for(pilot, lambda: screen.query_one("#epochs", DataTable).row_count == 2)  # drawn (throttled)
        run = only_run()
        assert run.id == history.run_id and run.read_status().pid != os.getpid()  # trained by another process
        deck = screen.query_one(ChartDeck)
        assert sum(len(s.xs) for s in deck.chart("loss").spec.series) >= 4  # train and validation loss, both epochs
        assert sum(len(s.xs) for s in deck.spec("metric").series) >= 4  # waiting to be drawn: g shows it
        assert len(deck.spec("lr").series[0].xs) >= 2
        assert screen.query_one("#epochs", DataTable).row_count == 2
        test_acc = history.finished.test["acc"]
        # The test result, on the headline: drawn at the screen's next redraw (throttled), which may
        # come after the one that drew the second epoch's row.
        await wait_for(pilot, lambda: f"acc {test_acc:.3f}" in screen_text(app).splitlines()[1], what="the headline's test")
        for name in ("best.pt", "last.pt", "epoch-001.pt", "epoch-002.pt"):
            assert (run.checkpoints_dir / name).is_file()
        # The log box keeps to what matters (a save a line per epoch pushed it out); the stats say the last save.
        log = " ".join(" ".join(strip.text.split()) for strip in screen.query_one("#log", RichLog).lines)
        assert "Started on" in log and "Finished after 2 epochs" in log and "Saved" not in log
        assert "saved    epoch 2" in screen_text(app)

        await pilot.press("5")
        await wait_for(pilot, lambda: app.screen.highlighted_id == run.id)  # the run shown is selected
        assert "finished" in screen_text(app) and "acc" in screen_text(app)
        await wait_for(pilot, lambda: app.screen.details is not None and app.screen.details.run.id == run.id)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EvaluationScreen) and app.screen.report is not None)
        shown = app.screen.report
        engine = evaluate_checkpoint(run.best_checkpoint)
        assert shown["metrics"]["acc"] == engine.metrics["acc"]


async def test_start_is_refused_with_the_reason_while_the_experiment_has_problems(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    app = preset_app("digits-cnn", start="train")
    async with app.run_test(size=SIZE) as pilot:
        app.draft.set_layer_text(10, "in_features", "100")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert app.runs.shown is None and list_runs() == []
        headline = screen_text(app).splitlines()[1]
        assert "✗ 1 problem (! shows it): model.layers.10" in headline


@slow
async def test_pause_continue_and_stop_reach_the_run_process_and_other_screens_show_it(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    app = preset_app("digits-cnn", start="train")
    app.draft.set_text("train.epochs", LONG_EPOCHS)
    async with app.run_test(size=SIZE) as pilot:
        await press_start(pilot, app)
        await wait_for(pilot, lambda: app.runs.shown is not None and len(app.runs.shown.history.epochs) >= 1, timeout=120)
        screen = _screen(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: _shown_state(app) == "paused")
        await wait_for(pilot, lambda: app.activity.startswith("‖ paused") and "paused" in screen_text(app).splitlines()[1])
        await pilot.press("p")
        await wait_for(pilot, lambda: _shown_state(app) == "running")
        await pilot.press("1")  # the run goes on behind the Data screen, shown in its status bar
        done = len(screen.history.epochs)
        await wait_for(pilot, lambda: len(screen.history.epochs) > done)
        assert app.current_mode == "data"
        await wait_for(
            pilot, lambda: "▶ epoch" in screen_text(app).splitlines()[-2] and "loss" in screen_text(app).splitlines()[-2]
        )
        await pilot.press("4", "x")
        await wait_for(pilot, lambda: _shown_state(app) == "stopped", timeout=60)
        run = only_run()
        assert run.read_status().state == "stopped" and run.last_checkpoint.is_file()
        await wait_for(pilot, lambda: "stopped" in screen_text(app).splitlines()[1])
        assert app.activity == ""


@slow
async def test_a_run_outlives_the_app_and_a_fresh_app_attaches_with_its_whole_history_then_stops_it(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    first = preset_app("digits-cnn", start="train")
    first.draft.set_text("train.epochs", LONG_EPOCHS)
    async with first.run_test(size=SIZE) as pilot:
        await press_start(pilot, first)
        await wait_for(pilot, lambda: first.runs.shown is not None and len(first.runs.shown.history.epochs) >= 1, timeout=120)
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(first.screen, QuitWithRunsScreen))
        assert "keeps training after you quit" in screen_text(first)
        await pilot.press("y")
        await wait_for(pilot, lambda: not first.is_running)
    assert first.goodbye and "workbench attach" in first.goodbye[0]
    run = only_run()
    left_at = epochs_done(run)
    await _until(lambda: epochs_done(run) > left_at + 1)  # still training with no app at all
    assert run.state() == "running"

    second = preset_app("digits-cnn")
    async with second.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: second.runs.shown is not None and second.runs.shown.id == run.id, timeout=60)
        assert any(f"{run.id} is training; 4 shows it" == note.message for note in second._notifications)
        await pilot.press("4")
        reached = epochs_done(run)
        await wait_for(pilot, lambda: len(_screen(second).history.epochs) >= reached)
        assert [e.epoch for e in _screen(second).history.epochs] == list(range(1, len(_screen(second).history.epochs) + 1))
        await pilot.press("x")
        await wait_for(pilot, lambda: _shown_state(second) == "stopped", timeout=60)
    assert run.state() == "stopped" and run.last_checkpoint.is_file()


@slow
async def test_a_run_started_by_workbench_train_in_another_terminal_shows_live_and_kill_9_shows_interrupted(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    process, run = train_in_background()
    app = preset_app("digits-cnn", start="train")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.runs.shown is not None and app.runs.shown.id == run.id, timeout=60)
        seen = len(_screen(app).history.epochs)
        await wait_for(pilot, lambda: len(_screen(app).history.epochs) > seen)  # live
        await wait_for(pilot, lambda: "▶ training" in screen_text(app).splitlines()[1])
        process.send_signal(signal.SIGKILL)
        process.wait()
        await wait_for(pilot, lambda: "interrupted" in screen_text(app).splitlines()[1])
        # from the lock the dead process let go: its status file, which it had no time to write, says running
        assert _shown_state(app) == "interrupted" and run.read_status().state == "running"


async def _until(condition: Callable[[], object], timeout: float = 90.0) -> None:
    import asyncio

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        await asyncio.sleep(0.05)


@slow
async def test_the_app_and_the_cli_write_the_same_config_toml_for_the_same_preset(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    app = preset_app("digits-cnn", start="train")
    async with app.run_test(size=SIZE) as pilot:
        await press_start(pilot, app)
        await wait_for(pilot, lambda: _shown_state(app) in ("running", "finished"), timeout=120)
        await pilot.press("x")
        await wait_for(pilot, lambda: _shown_state(app) in ("stopped", "finished"), timeout=120)
    app_run = only_run()
    cli = workbench("train", "digits-cnn")  # as typed in a terminal
    wait_until(lambda: len(list_runs()) == 2, what="the command's run folder")
    cli.send_signal(signal.SIGINT)  # Ctrl+C: its folder, config.toml included, is written before the first step
    cli.wait()
    (cli_run,) = [RunDir(Path(summary.path)) for summary in list_runs() if summary.id != app_run.id]
    from_app = app_run.config_path.read_bytes()
    assert from_app == cli_run.config_path.read_bytes()
    assert b"label_smoothing" in from_app and b"weight_decay" in from_app  # catalog defaults, filled in


@slow
async def test_Q_puts_the_experiment_in_the_queue_as_train_queue_does_and_says_how_to_see_it(
    preset_app: Callable[..., WorkbenchApp], feeder_stand_in: None
) -> None:
    """Queueing one run was the CLI's alone (`workbench train EXP --queue`). A stand-in holds the
    queue's lock as its feeder: the entry waits there and nothing trains."""
    from workbench import paths
    from workbench.scheduling import queue
    from workbench.tui.train.name_dialog import RunNameScreen

    app = preset_app("digits-mlp", start="train")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "Q Queue" in screen_text(app), what="Q in the footer")
        await pilot.press("Q")
        await wait_for(pilot, lambda: isinstance(app.screen, RunNameScreen), what="the run's name dialog")
        assert "Queue a run named" in screen_text(app) and "enter queue · escape cancel" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(n.title == "Queued digits-mlp" for n in app._notifications), what="the notice")
        (entry,) = queue.read_queue().entries
        (notice,) = [n for n in app._notifications if n.title == "Queued digits-mlp"]
        assert "see: workbench queue" in notice.message and f"cancel: workbench queue cancel {entry.id}" in notice.message
        assert app.current_mode == "train" and app.runs.shown is None
    assert entry.name == "digits-mlp" and entry.experiment().data.dataset == "digits"
    assert not paths.runs_dir().exists() or list(paths.runs_dir().iterdir()) == []  # waiting, not started


async def test_d_chooses_the_device_and_workers_into_the_experiment_refusing_more_workers_than_gpus(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    from textual.widgets import Input, OptionList, Static

    from workbench.tui.train.where_dialog import WhereScreen

    app = preset_app("digits-mlp", start="train")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.devices, what="the devices detected")
        app.devices = (("cpu", "CPU (2 threads)"), ("cuda:0", "NVIDIA H200, 139 GiB"))  # as detected on a GPU box
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, WhereScreen))
        assert "cuda:0   NVIDIA H200, 139 GiB" in screen_text(app)
        dialog = app.screen
        dialog.query_one("#devices", OptionList).highlighted = 0  # auto: takes the GPU here
        dialog.query_one("#workers", Input).value = "2"
        dialog.query_one("#workers", Input).focus()
        await pilot.press("enter")
        note = dialog.query_one("#note", Static)
        await wait_for(pilot, lambda: "2 workers on this machine but it has 1 CUDA device," in str(note.content))
        assert isinstance(app.screen, WhereScreen) and app.draft.config.train.workers == 1  # refused, nothing changed
        dialog.query_one("#devices", OptionList).highlighted = 1  # cpu
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, WhereScreen))
        train = app.draft.config.train
        assert (train.device, train.workers) == ("cpu", 2)
        assert "on cpu ×2 workers" in screen_text(app).splitlines()[1]
        await pilot.press("ctrl+z")  # one undo step puts both back
        await pilot.pause()
        assert (app.draft.config.train.device, app.draft.config.train.workers) == ("auto", 1)


async def test_s_proposes_a_name_for_a_changed_experiment_and_escape_starts_nothing(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    from textual.widgets import Input

    from workbench.tui.train.name_dialog import RunNameScreen

    app = preset_app("digits-mlp", start="train")
    app.draft.delete_layer(3)  # the 64-wide Linear
    async with app.run_test(size=SIZE) as pilot:
        assert "s trains digits-2fc for" in screen_text(app).splitlines()[1]  # the headline says the name too
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, RunNameScreen))
        assert app.screen.query_one(Input).value == "digits-2fc"
        assert "digits-mlp with data digits, model 2 fc" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
        assert app.runs.shown is None and list_runs() == []


@slow
async def test_the_name_typed_in_the_dialog_names_the_run(preset_app: Callable[..., WorkbenchApp]) -> None:
    from workbench.tui.train.name_dialog import RunNameScreen

    app = preset_app("digits-mlp", start="train")
    app.draft.delete_layer(3)  # the 64-wide Linear
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, RunNameScreen))
        await pilot.press("ctrl+u")  # clear the field
        await pilot.press("enter")
        assert isinstance(app.screen, RunNameScreen) and "needs a name" in screen_text(app)  # an empty name is refused
        await pilot.press(*"shallow", "enter")
        await wait_for(pilot, lambda: app.runs.shown is not None, timeout=60)
        status = only_run().read_status()
        assert status.name == "shallow" and only_run().read_config().description == "digits-mlp with data digits, model 2 fc"
        await pilot.press("x")
        await wait_for(pilot, lambda: _shown_state(app) in ("stopped", "finished", "failed"), timeout=120)


async def test_a_stopped_runs_progress_rows_show_where_it_stopped_as_the_headline_does(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    from workbench.engine.sinks import RunRecorder
    from workbench.runs import events as ev

    from .runs import recorded_run

    run = recorded_run("stopped", val_acc=(0.5,), finish=False)  # 2 epochs of 10 steps; epoch 1 done
    record = RunRecorder(run)
    record(ev.Progress(2, 3, 10, 13, 0.5, 0.5, 0.01, 1000.0, elapsed_s=1.0, eta_s=1.0))  # the last report
    record(ev.RunFinished("stopped", 1, 1, 0.5, "val_acc", duration_s=1.5, epoch=2, step=7, steps_per_epoch=10))
    app = fixed_app(start="train")
    async with app.run_test(size=SIZE) as pilot:
        app.show_run(run)
        await wait_for(pilot, lambda: "stopped" in screen_text(app).splitlines()[1])
        lines = screen_text(app).splitlines()
        assert "in epoch 2 at step 7/10" in lines[1]
        assert "epoch 2/2" in lines[2] and "stopped at step 7/10" in lines[2], lines[2]
        assert _screen(app).query_one("#epoch-bar").progress == 7
