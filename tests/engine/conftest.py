"""Engine fixtures shared across modules."""

from __future__ import annotations

import pytest

from workbench.runs.folder import RunDir


@pytest.fixture(scope="session")
def trained_digits(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    """A real digits-cnn run (conv, BatchNorm, Dropout) trained for one epoch on 200 samples, in a
    home of its own: what model exports and predictions are checked on. Its test split is the
    full 359 samples. Tests that look it up by name set WORKBENCH_HOME to its home."""
    from workbench.engine.trainer import Trainer
    from workbench.experiment.presets import load_experiment
    from workbench.runs.store import find_run

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(tmp_path_factory.mktemp("digits-home")))
        Trainer(load_experiment("digits-cnn", ["data.subset=200", "train.epochs=1"])).run()
        return find_run("latest")
