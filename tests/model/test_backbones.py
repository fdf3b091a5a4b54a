"""Pretrained backbones: the torch-free table against torchvision, published weights from the
cache (written here in their real format, never downloaded), freezing during real training,
the per-batch resize, the code view and one clear line for each bad setting."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import torch
import torchvision.models
import torchvision.transforms.v2.functional as TF

from tests.engine.test_trainer import _assert_identical, _final_state, _stop_when, run_of, train
from tests.engine.tiny import DETERMINISTIC
from tests.weight_files import write_published_weights, write_weights
from workbench import paths
from workbench.data.normalise import Normaliser
from workbench.data.resize import InputResize, ResizingNormaliser, resizing
from workbench.engine.checkpoint_io import read_checkpoint
from workbench.engine.control import Control
from workbench.engine.evaluate import evaluate_checkpoint
from workbench.engine.setup import input_resize
from workbench.engine.trainer import Trainer
from workbench.errors import DataError
from workbench.experiment.presets import load_experiment
from workbench.experiment.validation import problems
from workbench.model.backbones import BACKBONES, IMAGENET_MEAN, IMAGENET_STD, backbone_input
from workbench.model.build import build_model
from workbench.model.codegen import model_source
from workbench.model.memory import training_memory
from workbench.model.shapes import analyse
from workbench.runs import events as ev
from workbench.schema.config import LayerSpec, ModelConfig

from ..marks import slow_unless
from .stacks import layer
from .test_shapes_match_torch import assert_matches_torch

QUICK = ("resnet18", "mobilenet_v3_small")
#: The others take seconds each to build: checked in the slow suite.
BACKBONE_CASES = slow_unless(BACKBONES, lambda name: name in QUICK)


def backbone(**params) -> LayerSpec:
    return layer("Backbone", **params)


def torchvision_model(name: str) -> torch.nn.Module:
    spec = BACKBONES[name]
    return getattr(importlib.import_module(f"torchvision.models.{spec.module}"), name)(weights=None)


# ----------------------------------------------------------------------------- the table


@pytest.mark.parametrize("name", BACKBONES)
def test_each_backbone_names_torchvisions_default_weights_and_their_published_file(name: str) -> None:
    spec = BACKBONES[name]
    weights = getattr(torchvision.models, spec.weights_enum)
    assert weights.DEFAULT is weights[spec.weights_member]
    assert weights.DEFAULT.url == spec.url and spec.file_name == spec.url.rsplit("/", 1)[-1]
    assert weights.DEFAULT.transforms().crop_size == [224]
    assert weights.DEFAULT.transforms().mean == list(IMAGENET_MEAN) and weights.DEFAULT.transforms().std == list(IMAGENET_STD)
    assert weights.DEFAULT.transforms().interpolation.value == spec.interpolation
    assert round(weights.DEFAULT.meta["_file_size"], 1) == spec.download_mb


@pytest.mark.parametrize("name", BACKBONE_CASES)
def test_each_backbones_head_width_and_parameter_count_are_torchvisions(name: str) -> None:
    spec, model = BACKBONES[name], torchvision_model(name)
    head = model.get_submodule(spec.head)
    assert isinstance(head, torch.nn.Linear) and head.in_features == spec.features
    assert sum(p.numel() for p in model.parameters()) - sum(p.numel() for p in head.parameters()) == spec.body_params


@pytest.mark.parametrize("name", BACKBONE_CASES)
def test_inferred_shapes_and_parameter_counts_equal_torchs_for_each_backbone(name: str) -> None:
    layers = [backbone(model=name, weights="none", freeze="none", out_features=6, input_size=32), layer("ReLU"), layer("Linear")]
    assert analyse(layers, (1, 8, 8), 3).input_shape == (3, 32, 32)  # grey 8x8 digits, resized and repeated
    assert_matches_torch(layers, (1, 8, 8), 3)


# ----------------------------------------------------------------------------- published weights


def test_published_weights_are_loaded_from_the_cache_without_a_network(no_network: None, monkeypatch) -> None:
    path = write_published_weights("resnet18", monkeypatch)
    published = torch.load(path, weights_only=True)
    model = build_model(ModelConfig([backbone()]), (3, 32, 32), 10)
    loaded = model.backbone1.state_dict()
    assert loaded.keys() == published.keys()
    for key, value in published.items():
        if not key.startswith("fc."):
            assert torch.equal(loaded[key], value), key
    assert loaded["fc.weight"].shape == (10, 512)  # the head replaced to fit ten classes


def test_weights_missing_offline_name_the_file_where_it_comes_from_and_the_folder(no_network: None) -> None:
    with pytest.raises(DataError) as caught:
        build_model(ModelConfig([backbone(model="mobilenet_v3_small")]), (3, 32, 32), 10)
    message = str(caught.value)
    folder = paths.cache_dir() / "weights"
    assert message.startswith("mobilenet_v3_small: the weights are not in the cache and the download failed (")
    assert f"download mobilenet_v3_small-047dcff4.pth (9.8 MB) from {BACKBONES['mobilenet_v3_small'].url}" in message
    assert f"put it in {folder}" in message and "\n" not in message


def test_a_damaged_weights_file_is_refused_in_one_line_naming_it(no_network: None) -> None:
    folder = paths.cache_dir() / "weights"
    folder.mkdir(parents=True)
    (folder / BACKBONES["resnet18"].file_name).write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match=r"^resnet18: .*resnet18-f37072fd.pth is not usable \(") as caught:
        build_model(ModelConfig([backbone()]), (3, 32, 32), 10)
    assert "\n" not in str(caught.value)


def test_a_random_file_under_the_published_name_is_refused_by_the_hash_its_name_carries(no_network: None) -> None:
    """It was loaded and trained from without a word: torchvision's names carry their SHA-256's start."""
    cache = paths.cache_dir() / "weights"
    write_weights("resnet18", cache, name=BACKBONES["resnet18"].file_name)
    with pytest.raises(DataError) as caught:
        build_model(ModelConfig([backbone()]), (3, 32, 32), 10)
    message = str(caught.value)
    assert message.startswith(f"resnet18: {cache / 'resnet18-f37072fd.pth'} is not usable (its SHA-256 starts ")
    assert "where its name says f37072fd: a damaged or different file); download resnet18-f37072fd.pth" in message
    assert "\n" not in message


def _built_backbone(weights: Path, **params) -> torch.nn.Module:
    return build_model(ModelConfig([backbone(weights=str(weights), input_size=32, **params)]), (3, 32, 32), 10).backbone1


@pytest.mark.parametrize("name", [None, "resnet18.pth"], ids=["named by its hash", "any name"])
def test_a_weights_file_given_by_its_path_is_loaded_all_but_the_head(no_network: None, tmp_path: Path, name: str | None) -> None:
    path = write_weights("resnet18", tmp_path / "mine", seed=5, name=name)
    written = torch.load(path, weights_only=True)
    loaded = _built_backbone(path).state_dict()
    assert all(torch.equal(loaded[key], value) for key, value in written.items() if not key.startswith("fc."))
    assert loaded["fc.weight"].shape == (10, 512)


def test_a_fine_tuned_file_with_another_head_is_taken_since_the_head_is_replaced(tmp_path: Path) -> None:
    model = torchvision_model("resnet18")
    model.fc = torch.nn.Linear(512, 7)
    torch.save(model.state_dict(), tmp_path / "tuned.pth")
    loaded = _built_backbone(tmp_path / "tuned.pth", freeze="none").state_dict()
    assert torch.equal(loaded["conv1.weight"], model.state_dict()["conv1.weight"])


def _saved(tmp_path: Path, value: object, name: str = "weights.pth") -> Path:
    torch.save(value, tmp_path / name)
    return tmp_path / name


@pytest.mark.parametrize(
    ("contents", "problem"),
    [
        (
            lambda tmp: write_weights("resnet18", tmp, name="resnet18-00000000.pth"),
            r"its SHA-256 starts [0-9a-f]{8} where its name says 00000000: a damaged or different file",
        ),
        (
            lambda tmp: write_weights("mobilenet_v3_small", tmp, name="small.pth"),
            r"not resnet18's weights: it lacks conv1\.weight, bn1\.weight and 118 more and has features\.0\.0\.weight, "
            r"features\.0\.1\.weight and \d+ more, which resnet18 has not",
        ),
        (
            lambda tmp: _saved(tmp, {**torchvision_model("resnet18").state_dict(), "conv1.weight": torch.zeros(64, 1, 7, 7)}),
            r"not resnet18's weights: conv1\.weight is \(64, 1, 7, 7\), resnet18's is \(64, 3, 7, 7\)",
        ),
        (lambda tmp: _saved(tmp, {"model": torchvision_model("resnet18").state_dict()}), r"not a state dict \(a dict of tensors"),
        (lambda tmp: _saved(tmp, "text"), r"not a state dict"),
        (lambda tmp: (tmp / "junk.pth").write_bytes(b"not a torch file") and tmp / "junk.pth", r"\S"),
    ],
    ids=["hash in its name differs", "another architecture", "a shape differs", "a training checkpoint", "not a dict", "junk"],
)
def test_a_weights_file_that_is_not_the_architectures_is_refused_in_one_line_naming_it(
    tmp_path: Path, contents, problem: str
) -> None:
    path = contents(tmp_path)
    with pytest.raises(DataError) as caught:
        _built_backbone(path, freeze="none")
    message = str(caught.value)
    assert re.fullmatch(rf"resnet18: weights {re.escape(str(path))}: {problem}.*", message), message
    assert "\n" not in message


def test_a_missing_weights_file_is_a_problem_of_the_experiment_naming_the_layer(tmp_path: Path) -> None:
    config = load_experiment("digits-cnn")
    config.model.layers = [backbone(weights=str(tmp_path / "resnet18.pth"), input_size=32)]
    assert [str(problem) for problem in problems(config)] == [
        f"model.layers.0.weights (backbone1, Backbone): no such file: {tmp_path / 'resnet18.pth'}"
    ]
    config.model.layers[0].params["weights"] = str(tmp_path)
    assert [str(problem) for problem in problems(config)] == [
        f"model.layers.0.weights (backbone1, Backbone): {tmp_path} is a folder; name the weights file in it"
    ]
    write_weights("resnet18", tmp_path, name="resnet18.pth")
    config.model.layers[0].params["weights"] = str(tmp_path / "resnet18.pth")
    assert problems(config) == []


# ----------------------------------------------------------------------------- freezing in training


def tiny_finetune(weights: Path, *overrides: str):
    """The preset's resnet18 (with the ``weights`` file) on 32 digits resized to 32x32, no validation split."""
    config = load_experiment(
        "cifar10-finetune",
        [
            f"model.layers.0.weights={weights}",
            "data.dataset=digits",
            "data.subset=32",
            "data.batch_size=16",
            "data.val_fraction=0",
            "train.checkpoint.monitor=train_loss",
            "train.early_stopping.monitor=train_loss",
            "data.augment.random_crop_padding=0",
            "model.layers.0.input_size=32",
            "train.precision=fp32",
            "train.channels_last=false",
            *overrides,
        ],
    )
    return config


@pytest.mark.slow  # trains an epoch of a backbone
def test_a_frozen_backbone_is_bit_identical_after_an_epoch_of_training_and_only_its_head_learns(
    no_network: None, tmp_path: Path
) -> None:
    weights = write_weights("resnet18", tmp_path)
    published = torch.load(weights, weights_only=True)
    finished, _ = train(tiny_finetune(weights, "model.layers.0.unfreeze_after=0", "train.epochs=1"))
    saved = _final_state(finished)
    trained = {key.removeprefix("backbone1."): value for key, value in saved["model"].items()}
    for key, value in published.items():  # parameters and BatchNorm statistics alike
        if not key.startswith("fc."):
            assert torch.equal(trained[key], value), key
    # The optimizer holds the head alone, its weight and bias, and they trained (momentum buffers).
    assert [len(group["params"]) for group in saved["optimizer"]["param_groups"]] == [2]
    assert [state["momentum_buffer"].shape for state in saved["optimizer"]["state"].values()] == [(10, 512), (10,)]
    # The checkpoint holds every weight: evaluating it needs no published weights (nor a network).
    weights.unlink()
    assert evaluate_checkpoint(Path(finished.checkpoint)).metrics == finished.test


@pytest.mark.slow
def test_unfreezing_trains_everything_from_then_on_and_a_resume_across_it_is_bit_identical(tmp_path: Path) -> None:
    weights = write_weights("resnet18", tmp_path)
    published = torch.load(weights, weights_only=True)
    straight, _ = train(tiny_finetune(weights, "train.epochs=2", DETERMINISTIC))  # the preset: frozen for epoch 1, unfrozen after
    control = Control()
    after_one = _stop_when(control, lambda e: isinstance(e, ev.EpochEnded) and e.epoch == 1)
    _, first = train(tiny_finetune(weights, "train.epochs=2", DETERMINISTIC), control, after_one)
    resumed = Trainer.resume(run_of(first)).run()
    _assert_identical(_final_state(straight), _final_state(resumed))
    epoch_one = read_checkpoint(run_of(first).epoch_checkpoint(1))["model"]
    assert torch.equal(epoch_one["backbone1.conv1.weight"], published["conv1.weight"])  # frozen in epoch 1
    assert not torch.equal(_final_state(straight)["model"]["backbone1.conv1.weight"], published["conv1.weight"])


def test_frozen_batchnorm_layers_stay_in_eval_mode_and_follow_an_unfreeze(monkeypatch) -> None:
    write_published_weights("resnet18", monkeypatch)
    model = build_model(ModelConfig([backbone(input_size=32)]), (3, 32, 32), 10).train()
    model(torch.zeros(2, 3, 32, 32))
    assert not model.backbone1.bn1.training
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    model.train()(torch.zeros(2, 3, 32, 32))
    assert model.backbone1.bn1.training


# ----------------------------------------------------------------------------- inputs


def test_batches_are_resized_repeated_to_rgb_and_normalised_as_torchvisions_transforms_do() -> None:
    grey = torch.randint(0, 256, (4, 1, 8, 8), dtype=torch.uint8)
    resize = InputResize(32, "bilinear", IMAGENET_MEAN, IMAGENET_STD)
    prepared = resizing(Normaliser.fit(grey, standardise=False), resize)(grey)
    expected = TF.resize(grey.float() / 255, [32, 32], antialias=True).expand(-1, 3, -1, -1)
    expected = TF.normalize(expected, list(IMAGENET_MEAN), list(IMAGENET_STD))
    assert prepared.shape == (4, 3, 32, 32)
    torch.testing.assert_close(prepared, expected, atol=1e-5, rtol=1e-5)


def test_without_published_weights_the_datasets_own_statistics_are_kept() -> None:
    images = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    own = Normaliser.fit(images, standardise=True)
    prepared = resizing(own, InputResize(16, "bilinear"))
    assert isinstance(prepared, ResizingNormaliser) and torch.equal(prepared.mean, own.mean)


def test_the_data_note_says_the_size_the_statistics_and_whose_weights() -> None:
    wanted = backbone_input([backbone()])
    assert wanted is not None
    assert wanted.note() == "inputs resized to 224 and normalised with ImageNet statistics for resnet18's weights"
    assert input_resize(ModelConfig([layer("Flatten"), backbone()])) is None  # only a backbone that starts the model


# ----------------------------------------------------------------------------- the code view


def test_the_code_view_builds_the_same_module_with_the_same_frozen_parameters(monkeypatch) -> None:
    write_published_weights("mobilenet_v3_small", monkeypatch)
    layers = [backbone(model="mobilenet_v3_small", out_features=32, input_size=32), layer("ReLU"), layer("Linear")]
    analysis = analyse(layers, (3, 32, 32), 10)
    source = model_source(analysis, init="kaiming_normal")
    assert "torchvision.models.mobilenet_v3_small(weights=torchvision.models.MobileNet_V3_Small_Weights.IMAGENET1K_V1)" in source
    namespace: dict = {}
    exec(source.replace("torchvision.models.MobileNet_V3_Small_Weights.IMAGENET1K_V1", "None"), namespace)  # no download
    built = build_model(ModelConfig(layers, init="kaiming_normal"), (3, 32, 32), 10)
    generated = namespace["model"]
    assert {k: v.shape for k, v in generated.state_dict().items()} == {k: v.shape for k, v in built.state_dict().items()}
    assert [p.requires_grad for p in generated.parameters()] == [p.requires_grad for p in built.parameters()]


@pytest.mark.parametrize("stored", [8, 32], ids=["resized", "already that size"])
def test_the_code_views_preprocess_prepares_images_as_the_run_does(stored: int) -> None:
    """Resized for the backbone, grey repeated to 3 channels, standardised with ImageNet's mean and std."""
    analysis = analyse([backbone(input_size=32)], (1, stored, stored), 10)
    namespace: dict = {}
    exec(model_source(analysis).replace("torchvision.models.ResNet18_Weights.IMAGENET1K_V1", "None"), namespace)
    grey = torch.randint(0, 256, (4, 1, stored, stored), dtype=torch.uint8)
    runs = resizing(Normaliser.fit(grey, standardise=True), input_resize(ModelConfig([backbone(input_size=32)])))
    torch.testing.assert_close(namespace["preprocess"](grey), runs(grey), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- bad settings


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"model": "resnet19"},
            "model.layers.0.model (backbone1, Backbone): 'resnet19' is not allowed; expected one of " + ", ".join(BACKBONES),
        ),
        (
            {"freeze": "all"},
            'model.layers.0 (backbone1, Backbone): freeze="all" leaves nothing to train in this model; '
            'use freeze="all_but_head", or add a layer after it that trains',
        ),
        (
            {"weights": "none"},
            'model.layers.0 (backbone1, Backbone): freeze="all_but_head" would keep random weights fixed; '
            'use weights="imagenet" or freeze="none"',
        ),
    ],
)
def test_each_bad_backbone_setting_is_one_line_naming_the_layer(params: dict, expected: str) -> None:
    config = load_experiment("digits-cnn")
    config.model.layers = [backbone(**params)]
    assert [str(problem) for problem in problems(config)] == [expected]


def test_a_backbone_after_other_layers_or_on_tabular_data_is_refused_naming_why() -> None:
    config = load_experiment("diabetes-regression")
    config.model.layers = [backbone()]
    [problem] = problems(config)
    assert str(problem) == (
        "model.layers.0 (backbone1, Backbone): takes images resized to (3, 224, 224) but gets (10,); "
        "a Backbone must be the first layer, on image data (1 or 3 channels)"
    )


def test_the_memory_estimate_counts_the_layers_inside_a_backbone_that_trains() -> None:
    """The table's activation count is every leaf module's output for one 224x224 image."""
    model, values = torchvision_model("resnet18").eval(), []
    for module in model.modules():
        if not list(module.children()):
            module.register_forward_hook(lambda module, inputs, output: values.append(output.numel()))
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    assert sum(values) == BACKBONES["resnet18"].activations
    trained = analyse([backbone(freeze="none")], (3, 32, 32), 10)
    frozen = analyse([backbone()], (3, 32, 32), 10)
    memory = training_memory(trained, batch_size=8, optimizer="sgd")
    assert memory.activations == 2 * 8 * 4 * (sum(values) + 10)  # outputs and their gradients, 4 bytes each
    assert training_memory(frozen, batch_size=8, optimizer="sgd").activations == 2 * 8 * 4 * 10  # nothing kept inside
