"""A run that cannot start (a missing weights file, data file or device) is a problem of the
experiment, found without torch, so that ``workbench train``, ``create_run`` (the app's ``s`` and
the queue go through it) refuse it in one line before any run folder exists. Each try without
weights used to leave a "failed 0/8" run behind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.weight_files import write_weights
from workbench import paths
from workbench.cli import main
from workbench.errors import ConfigError
from workbench.experiment.devices import absent_device, visible_cuda_devices
from workbench.experiment.presets import load_experiment
from workbench.experiment.validation import problems, validate
from workbench.runs.store import create_run
from workbench.schema import config as config_io
from workbench.schema.config import LayerSpec, RunConfig

#: No machine has a hundred GPUs; where this cannot be told without torch (WSL, ROCm), the
#: engine refuses the device when the run starts, as before.
KNOWN = pytest.mark.skipif(visible_cuda_devices() is None, reason="CUDA devices cannot be counted without torch here")


def _finetune(weights: str) -> RunConfig:
    config = load_experiment("digits-cnn", ["data.subset=64"])
    config.model.layers = [LayerSpec("Backbone", params={"weights": weights, "input_size": 32})]
    return config


def _cannot_start(tmp_path: Path, case: str) -> tuple[RunConfig, str]:
    """An experiment that cannot start, and the start of its one problem."""
    if case == "weights":
        return _finetune(str(tmp_path / "resnet18.pth")), "model.layers.0.weights (backbone1, Backbone): no such file: "
    if case == "data":
        config = load_experiment("digits-cnn")
        config.data.dataset, config.data.options = "csv", {"path": str(tmp_path / "wine.csv")}
        config.model.layers = [LayerSpec("Linear", params={"out_features": "auto"})]
        return config, "data.options.path: no such file or folder: "
    config = load_experiment("digits-cnn")
    config.train.device = "cuda:99"
    return config, "train.device: 'cuda:99' requested but "


CASES = ["weights", "data", pytest.param("device", marks=KNOWN)]


@pytest.mark.parametrize("case", CASES)
def test_a_run_that_cannot_start_is_refused_before_its_folder_is_created(tmp_path: Path, case: str) -> None:
    config, problem = _cannot_start(tmp_path, case)
    [found] = problems(config)
    assert str(found).startswith(problem) and "\n" not in str(found)
    with pytest.raises(ConfigError, match=f"^{re.escape(problem)}"):
        create_run(config)
    assert not paths.runs_dir().exists() or list(paths.runs_dir().iterdir()) == []


@pytest.mark.parametrize("case", CASES)
def test_workbench_train_refuses_it_in_one_line_and_leaves_no_run(tmp_path: Path, case: str, capsys) -> None:
    config, problem = _cannot_start(tmp_path, case)
    config_io.write(config, tmp_path / "experiment.toml")
    status = main(["train", str(tmp_path / "experiment.toml")])
    err = capsys.readouterr().err
    assert status == 2 and problem in err and len(err.strip().splitlines()) == 1, err
    assert not paths.runs_dir().exists() or list(paths.runs_dir().iterdir()) == []


def test_a_weights_file_that_is_there_can_start(tmp_path: Path) -> None:
    path = write_weights("resnet18", tmp_path)
    assert problems(_finetune(str(path))) == []


def test_a_checkpoints_experiment_is_not_refused_for_the_weights_file_or_device_it_trained_with(tmp_path: Path) -> None:
    """Evaluating, exporting or predicting takes the weights from the checkpoint, perhaps on another machine."""
    config = _finetune(str(tmp_path / "gone.pth"))
    config.train.device = "cuda:99"
    assert validate(config, machine=False).model.layers[0].params["weights"] == str(tmp_path / "gone.pth")


@KNOWN
def test_a_device_this_machine_lacks_is_said_in_the_engines_words() -> None:
    count = visible_cuda_devices()
    assert count is not None
    config = load_experiment("digits-cnn")
    config.train.device = "cuda:99"
    expected = absent_device("cuda:99", "train.device", cuda_count=count, mps=False)
    assert expected is not None and [str(problem) for problem in problems(config)] == [str(expected)]
    if count == 0:
        assert str(expected) == "train.device: 'cuda:99' requested but CUDA is not available on this machine; use auto or cpu"


def test_the_words_for_an_absent_device() -> None:
    where = "train.device"
    assert str(absent_device("cuda:2", where, cuda_count=2, mps=None)) == (
        "train.device: 'cuda:2' requested but this machine has 2 CUDA devices"
    )
    assert absent_device("cuda:1", where, cuda_count=2, mps=None) is None
    assert absent_device("cuda", where, cuda_count=None, mps=None) is None  # not known: the engine tells at the start
    assert str(absent_device("mps", where, cuda_count=0, mps=False)).endswith(
        "Apple's Metal backend is not available; use auto or cpu"
    )


def test_a_weights_file_that_is_not_what_its_name_says_is_refused_before_a_launched_runs_folder(tmp_path: Path) -> None:
    """The hash a torchvision name carries was checked only where the weights load: in the app
    (a launched run) a random file under the published name left a 'failed 0/8' run behind."""
    from workbench.scheduling.plan import plan_new_run

    real = write_weights("resnet18", tmp_path / "good")
    wrong = write_weights("resnet18", tmp_path / "bad", seed=2, name=real.name)  # other weights, the same name
    with pytest.raises(
        ConfigError,
        match=rf"^model\.layers\.0\.weights \(backbone1, Backbone\): weights {re.escape(str(wrong))}: its SHA-256 starts [0-9a-f]{{8}} where its name says {real.name[9:17]}",
    ):
        plan_new_run(_finetune(str(wrong)))
    assert not paths.runs_dir().exists() or list(paths.runs_dir().iterdir()) == []
