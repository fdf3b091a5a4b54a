"""Write one SVG screenshot per screen into screens/, from the real app.

    python scripts/screenshots.py [--size 100x30] [--out screens]

Runs the app headless (Textual's pilot) on the offline default preset in a throw-away
WORKBENCH_HOME: Data, Model, Optimize, Train in the middle of a run, Runs, the evaluation
view of the finished run, and that run compared with a second one trained with SGD. The pictures in the README come from this command.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


async def _wait(pilot, condition: Callable[[], object], timeout: float = 120.0) -> None:
    waited = 0.0
    while not condition():
        if waited > timeout:
            raise TimeoutError("the app did not get there in time")
        await pilot.pause(0.1)
        waited += 0.1


async def take(out: Path, size: tuple[int, int]) -> list[Path]:
    from workbench.tui.app import build_app
    from workbench.tui.runs.compare import CompareScreen
    from workbench.tui.runs.evaluation import EvaluationScreen
    from workbench.tui.train.name_dialog import RunNameScreen
    from workbench.tui.train.screen import TrainScreen

    app = build_app("digits-cnn")
    written: list[Path] = []

    def shoot(name: str) -> None:
        written.append(Path(app.save_screenshot(filename=f"{name}.svg", path=str(out))))

    async with app.run_test(size=size) as pilot:
        await pilot.pause(3.0)  # sample pictures are drawn by a worker
        shoot("data")
        await pilot.press("2")
        await pilot.pause(0.5)
        shoot("model")
        await pilot.press("3")
        await pilot.pause(4.0)  # torch loads, then the LR preview is computed
        shoot("optimize")

        app.draft.set_text("train.epochs", "40")  # long enough to be caught in the middle
        await pilot.press("4")
        await pilot.pause(0.5)
        await pilot.press("s")
        await _wait(pilot, lambda: isinstance(app.screen, RunNameScreen))
        await pilot.press("enter")  # the run's name, as proposed
        train = app.screen
        assert isinstance(train, TrainScreen)
        await _wait(pilot, lambda: len(train.history.epochs) >= 15)
        shoot("train")
        await pilot.press("x")  # stop: checkpoints first, then the run is evaluated from the Runs screen
        await _wait(pilot, lambda: train.history.state in ("finished", "stopped", "failed"))

        await pilot.press("5")
        await pilot.pause(1.5)
        shoot("runs")
        await pilot.press("e")
        await _wait(pilot, lambda: isinstance(app.screen, EvaluationScreen) and app.screen.report is not None)
        await pilot.pause(1.0)
        shoot("evaluation")

        # A second run, with SGD, to compare with the first (trained headless, as `workbench
        # train` would, so the picture waits for no process of its own).
        await asyncio.to_thread(_train_headless, "digits-cnn", ["train.epochs=15", "optimizer.name=sgd", "optimizer.lr=0.05"])
        await pilot.press("escape", "5")
        runs = app.screen
        await _wait(pilot, lambda: len(getattr(runs, "shown", [])) == 2)
        await pilot.press("M", "v")
        await _wait(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        await pilot.pause(1.0)
        shoot("compare")
    return written


def _train_headless(preset: str, overrides: list[str]) -> None:
    from workbench.engine.control import Control
    from workbench.engine.trainer import Trainer
    from workbench.experiment.presets import load_experiment

    Trainer(load_experiment(preset, overrides), [], Control()).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100x30", help="terminal size as COLUMNSxROWS")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "screens"))
    args = parser.parse_args()
    columns, rows = (int(n) for n in args.size.split("x"))
    os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="workbench-screens-")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(take(out, (columns, rows))):
        print(path)


if __name__ == "__main__":
    main()
