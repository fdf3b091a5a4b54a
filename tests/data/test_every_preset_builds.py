"""Every shipped preset loads its data and builds its model, through the paths users get.

Downloadable datasets are written by the test in their real on-disk formats into the temp
WORKBENCH_HOME (CIFAR's archive with its md5 sums put in torchvision's checksum lists), a folder
of pictures for the image-folder presets and the published weights of pretrained backbones;
then each preset's dataset is loaded, its model built, and one training batch (of 4 samples) goes
forward and backward through its loss.
"""

from __future__ import annotations

import pytest
import torchvision.datasets as tv
from dataset_files import write_cifar10_archive, write_image_classes, write_mnist

from tests.marks import slow_unless
from tests.weight_files import write_published_weights
from workbench import paths
from workbench.data.registry import describe
from workbench.engine.setup import build_parts
from workbench.experiment.presets import list_presets, load_experiment, read_experiment
from workbench.model.backbones import BACKBONE
from workbench.schema.config import DataConfig

MNIST_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def _write_dataset(name: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Write the preset's dataset; returns the settings that point the preset at it."""
    if name == "image-folder":
        folder = paths.cache_dir().parent / "pictures"
        write_image_classes(folder, {"cat": 6, "dog": 6})
        return [f"data.options.path={folder}", "data.options.size=32"]
    if name in MNIST_FOLDERS:
        write_mnist(paths.datasets_dir() / name / MNIST_FOLDERS[name] / "raw", train=40, test=10)
    elif name == "cifar10":
        classes = describe(DataConfig(dataset="cifar10")).class_names
        sums, _ = write_cifar10_archive(paths.datasets_dir() / "cifar10", per_batch=8, classes=classes)
        monkeypatch.setattr(tv.CIFAR10, "tgz_md5", sums["cifar-10-python.tar.gz"])
        monkeypatch.setattr(tv.CIFAR10, "train_list", [[f"data_batch_{i}", sums[f"data_batch_{i}"]] for i in range(1, 6)])
        monkeypatch.setattr(tv.CIFAR10, "test_list", [["test_batch", sums["test_batch"]]])
        monkeypatch.setattr(tv.CIFAR10, "meta", {**tv.CIFAR10.meta, "md5": sums["batches.meta"]})
    return []


def _runs_users_code(preset: str) -> bool:
    """A preset of the user's own model or dataset class: checking it runs the class once in a
    child process that imports torch (over a second each), so its case is in the slow suite."""
    stored = read_experiment(preset)
    return bool(stored.model.code) or stored.data.dataset == "code"


@pytest.mark.parametrize("preset", slow_unless([entry.name for entry in list_presets()], lambda name: not _runs_users_code(name)))
def test_every_preset_loads_its_data_builds_its_model_and_takes_a_step(preset: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = read_experiment(preset)
    # A step of 4 samples goes through the same paths as one of the preset's (a resnet18 at 224x224 took 10 s)
    config = load_experiment(preset, [*_write_dataset(stored.data.dataset, monkeypatch), "data.batch_size=4"])
    for layer in config.model.layers:
        if layer.type == BACKBONE and layer.params.get("weights", "imagenet") == "imagenet":
            write_published_weights(layer.params["model"], monkeypatch)
    parts = build_parts(config, device="cpu", for_training=True)
    inputs, targets = next(iter(parts.splits.train.epoch(1)))
    outputs = parts.prepared.model(parts.prepared.inputs(inputs))
    assert outputs.shape == (len(inputs), parts.num_outputs)
    loss = parts.loss_fn(outputs, targets)
    loss.backward()
    assert loss.isfinite()
