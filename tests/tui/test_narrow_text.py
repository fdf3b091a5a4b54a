"""Readable at 80x24: a problem is never cut mid-sentence with no way to read the rest, and a
dialog's columns keep a gap. Drives the real app with the pilot, with real run folders."""

from __future__ import annotations

from collections.abc import Callable

from workbench.experiment.presets import load_experiment
from workbench.runs.store import create_run
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.dialogs import OpenScreen, ProblemsScreen

from .helpers import SIZE, screen_text, wait_for


async def test_the_problems_list_shows_a_long_problem_whole_and_the_status_bar_says_how(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    app = preset_app("digits-cnn", start="model")
    app.draft.set_dataset("spirals")  # points, not images: the first Conv2d's problem is a long sentence
    problem = str(app.draft.problems[0])
    assert len(problem) > 76, problem  # longer than a line of the dialog
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "(! shows it)" in screen_text(app).splitlines()[-2] or "(! lists them)" in screen_text(app))
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, ProblemsScreen))
        shown = " ".join(" ".join(line.strip(" │") for line in screen_text(app).splitlines()).split())
        assert " ".join(problem.split()) in shown  # wrapped over two lines, every word there
        assert "…" not in "".join(line for line in screen_text(app).splitlines() if "│" in line)


async def test_the_open_dialog_keeps_a_gap_after_a_long_run_id(fixed_app: Callable[..., WorkbenchApp]) -> None:
    run = create_run(load_experiment("digits-cnn"))
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o", *"digits")  # presets and runs of digits: more presets than rows without it
        await wait_for(pilot, lambda: isinstance(app.screen, OpenScreen) and run.id in screen_text(app))
        row = next(line for line in screen_text(app).splitlines() if run.id in line)
        assert f"{run.id}  digits:" in row, row
        preset = next(line for line in screen_text(app).splitlines() if "preset      digits-cnn" in line)
        assert "digits-cnn  " in preset
