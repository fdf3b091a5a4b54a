"""The evaluation view: the engine's numbers for a checkpoint, as ``workbench eval`` gives them."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input, Static

from workbench.runs.folder import RunDir
from workbench.tui.app import WorkbenchApp
from workbench.tui.runs.dialogs import FileScreen
from workbench.tui.runs.evaluation import EvaluationScreen
from workbench.tui.screens.dialogs import ConfirmScreen
from workbench.tui.widgets.confusion import heat_map
from workbench.tui.widgets.picture import PictureGrid

from .helpers import SIZE, screen_text, wait_for
from .runs import train_run


def _tested_checkpoint(run: RunDir) -> Path:
    return Path(run.read_status().test_checkpoint)


def _evaluation(app: WorkbenchApp) -> EvaluationScreen:
    screen = app.screen
    assert isinstance(screen, EvaluationScreen)
    return screen


async def _open_evaluation(pilot, app: WorkbenchApp, run_id: str) -> EvaluationScreen:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: getattr(app.screen, "details", None) is not None and app.screen.details.run.id == run_id)
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, EvaluationScreen) and app.screen.report is not None, timeout=60)
    return _evaluation(app)


async def test_the_view_shows_the_engines_figures_confusion_and_mistakes_of_a_checkpoint(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    from workbench.engine.evaluate import evaluate_checkpoint

    run = train_run("digits-mlp", epochs=1, overrides=("optimizer.lr=0.001",))  # a weak model makes mistakes to show
    tested = _tested_checkpoint(run)
    engine = evaluate_checkpoint(tested)
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        view = await _open_evaluation(pilot, app, run.id)
        assert view.checkpoint == tested  # the checkpoint the run's own test used
        assert view.reused  # the report the end of training saved
        assert view.report["metrics"] == pytest.approx(engine.metrics)
        assert view.report["confusion"] == engine.confusion
        text = screen_text(app)
        assert f"acc {engine.metrics['acc']:.3f}" in text and f"top5 {engine.metrics['top5']:.3f}" in text
        assert "Confusion matrix" in text

        wrong = [w for w in engine.worst if not w["correct"]]
        grid = view.query_one("#mistakes", PictureGrid)
        await wait_for(pilot, lambda: len(grid.pictures) == len(wrong) > 0)
        assert grid.pictures[0].caption.startswith(f"{wrong[0]['true']}→{wrong[0]['predicted']}")

        await pilot.press("e")  # evaluate again, now
        await wait_for(pilot, lambda: view.report is not None and not view.reused, timeout=60)
        assert view.report["metrics"] == pytest.approx(engine.metrics)
        await pilot.press("escape")
        assert not isinstance(app.screen, EvaluationScreen)


async def test_a_regression_run_shows_mse_mae_r2_and_a_predicted_against_true_scatter(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    run = train_run("diabetes-regression", epochs=2)
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        view = await _open_evaluation(pilot, app, run.id)
        metrics = view.report["metrics"]
        assert {"mse", "mae", "r2"} <= set(metrics)
        text = screen_text(app)
        assert f"mae {metrics['mae']:.4f}" in text and f"r2 {metrics['r2']:.3f}" in text
        scatter = view.query_one("#scatter")
        assert scatter.display and sum(len(d.x) for d in scatter._datasets) == len(view.report["pairs"]) + 2


async def test_a_damaged_checkpoint_is_reported_in_one_line(fixed_app: Callable[..., WorkbenchApp]) -> None:
    run = train_run("digits-mlp", epochs=1)
    damaged = _tested_checkpoint(run)
    damaged.write_bytes(b"not a checkpoint")
    later = time.time() + 10
    os.utime(damaged, (later, later))  # written after its report: it is evaluated again, and refused
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: getattr(app.screen, "details", None) is not None)
        await pilot.press("e")
        await wait_for(
            pilot, lambda: isinstance(app.screen, EvaluationScreen) and f"{damaged.name}:" in screen_text(app), timeout=60
        )
        text = screen_text(app)
        assert "refused: not a checkpoint that can be read safely" in " ".join(text.split())
        assert "Traceback" not in text and _evaluation(app).report is None


def test_a_hundred_class_matrix_keeps_one_row_per_class_for_scrolling() -> None:
    names = [f"class{i}" for i in range(100)]
    matrix = [[(5 if i == j else (1 if j == (i + 1) % 100 else 0)) for j in range(100)] for i in range(100)]
    lines = heat_map(matrix, names).plain.splitlines()
    assert len(lines) == 101  # the header and one row per true class
    assert all(len(line) == len(lines[0]) > 300 for line in lines)  # wider than a terminal: it scrolls
    console = Console(width=80, color_system="256", record=True)
    console.print(heat_map(matrix[:10], names[:10]))
    assert "\x1b[" in console.export_text(styles=True)  # cells are coloured from the 256-colour palette


async def _answer(pilot, app: WorkbenchApp, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Type ``path`` into the file dialog and press enter."""
    await wait_for(pilot, lambda: isinstance(app.screen, FileScreen))
    app.screen.query_one(Input).value = str(path)
    await pilot.press("enter")


async def test_p_predicts_on_a_file_as_workbench_predict_does_and_offers_to_resize_one_of_another_size(
    fixed_app: Callable[..., WorkbenchApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    from workbench.data.reading import read_raw
    from workbench.engine.evaluate import evaluate_checkpoint

    run = train_run("digits-mlp", epochs=1)
    example = evaluate_checkpoint(_tested_checkpoint(run)).examples[3]
    sample = tmp_path / "sample.png"
    Image.fromarray(read_raw("digits", {}).test.inputs[example["index"], 0], "L").save(sample)
    too_big = tmp_path / "big.png"
    Image.new("L", (28, 28)).save(too_big)
    monkeypatch.chdir(tmp_path)
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        view = await _open_evaluation(pilot, app, run.id)
        await pilot.press("p")
        await _answer(pilot, app, Path("nowhere.png"))  # refused in the dialog, which stays
        await wait_for(pilot, lambda: "nowhere.png: no such file" in screen_text(app))
        await _answer(pilot, app, sample)
        await wait_for(pilot, lambda: view.predictions is not None, timeout=60)
        assert view.predictions[0]["top"][0]["class"] == example["predicted"]
        # The view's own line, as `workbench predict` prints it (the screen may wrap it beside other panels).
        shown = f"sample.png {example['predicted']} {example['confidence']:.1%}"
        prediction = view.query_one("#prediction", Static)
        await wait_for(pilot, lambda: shown in " ".join(str(prediction.content).split()), what=f"{shown!r} shown")

        await pilot.press("p")
        await _answer(pilot, app, too_big)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))  # asked: resize it anyway?
        assert "28x28 pixels, but digits images are 8x8" in " ".join(screen_text(app).split())
        assert "--resize" not in screen_text(app) and "Traceback" not in screen_text(app)
        view.predictions = None
        await pilot.press("y")
        await wait_for(pilot, lambda: view.predictions is not None, timeout=60)
        assert view.predictions[0]["source"] == str(too_big)
