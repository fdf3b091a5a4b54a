"""The Train screen: training digits-cnn by pressing keys, live charts, pause, stop and quit."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from textual.widgets import DataTable

from workbench.store import RunDir, list_runs
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.dialogs import ConfirmScreen
from workbench.tui.screens.evaluation import EvaluationScreen
from workbench.tui.screens.train import TrainScreen
from workbench.tui.widgets.charts import ChartDeck

from .helpers import SIZE, screen_text, wait_for
from .runs import wait_until_trained

#: Long enough to pause, switch screens and stop in the middle (digits epochs take ~0.1 s).
LONG_RUN = "400"


def _screen(app: WorkbenchApp) -> TrainScreen:
    screen = app.screen
    assert isinstance(screen, TrainScreen)
    return screen


def _only_run() -> RunDir:
    (summary,) = list_runs()
    return RunDir(Path(summary.path))


async def test_pressing_s_trains_two_epochs_with_live_charts_then_lists_and_evaluates_the_run(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    from workbench.evaluate import evaluate_checkpoint

    app = preset_app("digits-cnn", start="train")
    app.draft.set_text("train.epochs", "2")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_until_trained(pilot, app)
        screen = _screen(app)
        history = screen.history
        assert history.state == "finished" and [e.epoch for e in history.epochs] == [1, 2]
        deck = screen.query_one(ChartDeck)
        assert sum(len(s.xs) for s in deck.chart("loss").spec.series) >= 4  # train and validation loss, both epochs
        assert sum(len(s.xs) for s in deck.spec("metric").series) >= 4  # waiting to be drawn: g shows it
        assert len(deck.spec("lr").series[0].xs) >= 2
        assert screen.query_one("#epochs", DataTable).row_count == 2
        test_acc = history.finished.test["acc"]
        assert f"acc {test_acc:.3f}" in screen_text(app).splitlines()[1]  # the test result, on the headline
        run = _only_run()
        assert run.id == history.run_id
        for name in ("best.pt", "last.pt", "epoch-001.pt", "epoch-002.pt"):
            assert (run.checkpoints_dir / name).is_file()

        await pilot.press("5")
        await wait_for(pilot, lambda: app.screen.highlighted_id == run.id)  # the finished run is selected
        assert "finished" in screen_text(app) and "acc" in screen_text(app)
        await wait_for(pilot, lambda: app.screen.details is not None and app.screen.details.run.id == run.id)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EvaluationScreen) and app.screen.report is not None)
        shown = app.screen.report
        engine = evaluate_checkpoint(run.best_checkpoint)
        assert shown["metrics"]["acc"] == engine.metrics["acc"]
        assert f"acc {engine.metrics['acc']:.3f}" in screen_text(app)


async def test_start_is_refused_with_the_reason_while_the_experiment_has_problems(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    app = preset_app("digits-cnn", start="train")
    async with app.run_test(size=SIZE) as pilot:
        app.draft.set_layer_text(10, "in_features", "100")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert app.training is None
        headline = screen_text(app).splitlines()[1]
        assert "✗ 1 problem: model.layers.10" in headline


async def test_pause_holds_the_run_other_screens_show_it_and_stop_checkpoints_it(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    app = preset_app("digits-cnn", start="train")
    app.draft.set_text("train.epochs", LONG_RUN)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        screen = _screen(app)
        await wait_for(pilot, lambda: len(screen.history.epochs) >= 2)
        await pilot.press("p")
        await wait_for(pilot, lambda: screen.history.state == "paused")
        held = len(screen.history.epochs), screen.history.progress
        await pilot.pause(0.6)
        assert (len(screen.history.epochs), screen.history.progress) == held  # nothing trains while paused
        assert app.activity.startswith("‖ paused")
        await pilot.press("p")
        await wait_for(pilot, lambda: screen.history.state == "running")

        await pilot.press("1")  # the run goes on behind the Data screen, shown in its status bar
        await pilot.pause()
        done = len(screen.history.epochs)
        await wait_for(pilot, lambda: len(screen.history.epochs) > done + 1)
        assert app.current_mode == "data"
        status = screen_text(app).splitlines()[-2]
        assert "▶ epoch" in status and "loss" in status

        await pilot.press("4", "x")
        await wait_until_trained(pilot, app)
        assert screen.history.state == "stopped"
        run = _only_run()
        assert json.loads(run.status_path.read_text())["state"] == "stopped"
        assert run.last_checkpoint.is_file()
        assert "stopped" in screen_text(app).splitlines()[1]
        assert app.activity == ""


async def test_quitting_mid_run_asks_then_leaves_a_checkpoint_and_a_stopped_run(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    app = preset_app("digits-cnn", start="train")
    app.draft.set_text("train.epochs", LONG_RUN)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: len(_screen(app).history.epochs) >= 1)
        session = app.training
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.is_running)
    assert session is not None and not session.is_running()  # the trainer's thread has ended
    (summary,) = list_runs()
    assert summary.state == "stopped" and 1 <= summary.epochs_done < int(LONG_RUN)
    assert _only_run().last_checkpoint.is_file()
    assert app.return_code == 0
