"""The LR finder: a short LR ramp on the real model and data that suggests where to start."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.engine.lr_find import DIVERGED, LRFindCancelled, find_lr, suggest
from workbench.experiment.presets import load_experiment
from workbench.optim.lr_ramp import check_ramp, ramp_lrs

from .tiny import tiny_spirals

#: LRs that train digits-cnn (Adam, cosine, 12 epochs) to >= 95% test accuracy, measured with
#: `workbench train digits-cnn --set optimizer.lr=...`: 1e-3 gave 98.9%, 3e-2 gave 97.2%, and the
#: finder's suggestion (5.9e-3 with the preset's seed 0) 99.4%.
DIGITS_CNN_GOOD_LRS = (1e-3, 3e-2)


def test_the_finder_on_digits_cnn_suggests_an_lr_that_trains_it(workbench_home: Path) -> None:
    result = find_lr(load_experiment("digits-cnn"))
    low, high = DIGITS_CNN_GOOD_LRS
    assert result.suggestion is not None and low <= result.suggestion <= high, result.suggestion
    assert result.min_loss_lr is not None and result.suggestion < result.min_loss_lr  # the minimum is too high
    assert result.lrs[0] == pytest.approx(1e-7) and len(result.losses) == len(result.smoothed) == result.taken
    assert not (workbench_home / "data" / "runs").exists()  # nothing was saved


@pytest.mark.slow
def test_digits_cnn_reaches_95_percent_with_the_suggested_lr(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    suggestion = find_lr(load_experiment("digits-cnn")).suggestion
    assert main(["train", "digits-cnn", "--set", f"optimizer.lr={suggestion}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test"]["acc"] >= 0.95


def test_the_ramp_stops_once_the_smoothed_loss_diverges() -> None:
    result = find_lr(tiny_spirals(), steps=60)
    assert result.diverged and result.taken < 60
    assert result.smoothed[-1] > DIVERGED * min(result.smoothed[:-1])
    assert all(b > a for a, b in zip(result.lrs, result.lrs[1:], strict=False))


def test_cancelling_stops_the_ramp_before_the_next_step() -> None:
    seen: list[int] = []
    with pytest.raises(LRFindCancelled):
        find_lr(tiny_spirals(), progress=lambda step, steps: seen.append(step), cancelled=lambda: len(seen) >= 3)
    assert seen == [1, 2, 3]


def test_the_suggestion_is_the_steepest_descent_below_the_minimum() -> None:
    lrs = ramp_lrs(1e-6, 1.0, 61)  # ten steps a decade
    # flat to 1e-4, falls fastest around 1e-3, bottoms out at 1e-2, then a noisy drop while blowing up
    curve = [2.0 - 1.5 / (1 + math.exp(-3 * (math.log10(lr) + 3))) for lr in lrs]
    curve = [loss if lr <= 1e-2 else loss + 40 * (math.log10(lr) + 2) ** 2 for lr, loss in zip(lrs, curve, strict=True)]
    curve[-3] = curve[-4] - 10  # a steep drop past the minimum (still above it) must not be taken
    suggestion, lowest, note = suggest(lrs, curve)
    assert suggestion == pytest.approx(1e-3, rel=0.3)
    assert lowest == pytest.approx(1e-2, rel=0.3)
    assert "a bit lower" in note


def test_a_loss_that_never_falls_gets_no_suggestion_and_says_why() -> None:
    lrs = ramp_lrs(1e-3, 10.0, 40)
    suggestion, _lowest, note = suggest(lrs, [1.0 + i for i in range(40)])
    assert suggestion is None and note.startswith("no suggestion: the loss never fell")


@pytest.mark.parametrize(
    ("start", "end", "steps", "message"),
    [(1.0, 0.1, 100, "--end: 0.1 must be above --start"), (0.0, 1.0, 100, "--start: 0"), (1e-7, 10.0, 3, "--steps: 3")],
)
def test_a_ramp_that_cannot_run_is_refused_in_one_line(start: float, end: float, steps: int, message: str) -> None:
    from workbench.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match=message):
        check_ramp(start, end, steps)
