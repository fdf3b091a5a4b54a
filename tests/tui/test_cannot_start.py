"""The app never says "ready to train" for an experiment whose run could not start, and `s`
refuses it in one line without a run folder (a missing weights file used to fail 0/8 runs)."""

from __future__ import annotations

from pathlib import Path

from tests.weight_files import write_weights
from workbench import paths
from workbench.experiment.draft import Draft
from workbench.schema.config import LayerSpec
from workbench.tui.app import WorkbenchApp

from .helpers import SIZE, fixed_experiment, screen_text, wait_for


async def test_a_missing_weights_file_is_a_problem_and_s_starts_nothing(tmp_path: Path) -> None:
    config = fixed_experiment()
    missing = tmp_path / "resnet18.pth"
    config.model.layers = [LayerSpec("Backbone", params={"weights": str(missing), "input_size": 32})]
    app = WorkbenchApp(Draft(config, source="test"), start="train")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "problem" in screen_text(app), what="the problem in the status bar")
        assert "ready to train" not in screen_text(app)
        assert "✗ 1 problem" in screen_text(app)
        assert [str(problem) for problem in app.draft.problems] == [
            f"model.layers.0.weights (backbone1, Backbone): no such file: {missing}"
        ]
        await pilot.press("s")
        refusal = f"Cannot train yet: {app.draft.problems[0]}"
        await wait_for(pilot, lambda: any(n.message == refusal for n in app._notifications), what="the refusal")
        assert not paths.runs_dir().exists() or list(paths.runs_dir().iterdir()) == []
        write_weights("resnet18", tmp_path, name="resnet18.pth")  # placed where the layer points
        app.draft.recheck()
        await wait_for(pilot, lambda: "✓ ready to train" in screen_text(app), what="ready once the file is there")
