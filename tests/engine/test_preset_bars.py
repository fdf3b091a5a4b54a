"""Learning bars of the offline presets, trained exactly as shipped (the slowest engine tests).

PRESET BARS: digits-cnn >= 97% test accuracy, spirals-mlp > 95%, diabetes-regression R2 > 0.3,
first-marker-gru > 97%.
"""

from __future__ import annotations

import pytest

from workbench.engine.trainer import Trainer
from workbench.experiment.presets import load_experiment

pytestmark = pytest.mark.slow  # each trains a whole preset


def test_preset_bar_digits_cnn_reaches_97_percent_test_accuracy() -> None:
    finished = Trainer(load_experiment("digits-cnn")).run()
    assert finished.state == "finished"
    assert finished.test["acc"] >= 0.97


def test_preset_bar_spirals_mlp_passes_95_percent_test_accuracy() -> None:
    finished = Trainer(load_experiment("spirals-mlp")).run()
    assert finished.test["acc"] > 0.95


def test_preset_bar_diabetes_regression_explains_over_30_percent_of_the_variance() -> None:
    finished = Trainer(load_experiment("diabetes-regression")).run()
    assert finished.test["r2"] > 0.3


def test_preset_bar_first_marker_gru_passes_97_percent_test_accuracy() -> None:
    finished = Trainer(load_experiment("first-marker-gru")).run()
    assert finished.test["acc"] > 0.97
