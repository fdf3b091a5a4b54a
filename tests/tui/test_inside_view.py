"""The inside view: ``i`` on the Runs screen shows the run's layers, their figures across
epochs, histograms at one epoch and the first conv's filters, from the run's inside.jsonl."""

from __future__ import annotations

from collections.abc import Callable

from workbench.outputs.inside import read_inside
from workbench.tui.app import WorkbenchApp
from workbench.tui.runs.inside import InsideScreen
from workbench.tui.widgets.picture import PictureGrid

from .helpers import SIZE, screen_text, wait_for
from .runs import train_run


async def test_i_opens_the_runs_layers_with_their_figures_filters_and_epochs(fixed_app: Callable[..., WorkbenchApp]) -> None:
    run = train_run("digits-cnn", epochs=2, overrides=("data.subset=256",))
    recorded = read_inside(run)
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: getattr(app.screen, "details", None) is not None)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, InsideScreen) and app.screen.records is not None)
        view = app.screen
        assert isinstance(view, InsideScreen)
        text = screen_text(app)
        assert f"Inside {run.id} · epoch 2 of 2" in text
        assert "conv1 (Conv2d)" in text and "weight 32x1x3x3" in text
        conv1 = recorded[-1].layer("conv1")
        assert conv1 is not None
        std = f"{conv1.tensors[0].weight.std:.3g}"
        assert any(line.split("│")[-1].split()[:1] == ["2"] and std in line for line in text.splitlines())
        grid = view.query_one("#inside-filters", PictureGrid)
        assert len(grid.pictures) == 32  # the first conv's filters, under its figures

        await pilot.press("down", "down")  # relu1: its outputs on the probe batch, no filters
        await wait_for(pilot, lambda: view.layer_name == "relu1")
        text = screen_text(app)
        assert "relu1 (ReLU)" in text and "outputs on the probe batch" in text
        assert grid.pictures == []

        await pilot.press("left")
        assert view.record is not None and view.record.epoch == 1
        assert "epoch 1 of 2" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, InsideScreen)
