"""The dataset registry: names, options, and describe() without torch."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workbench.data.loading import load_splits
from workbench.data.registry import DATASETS, dataset_options, dataset_spec, describe, is_cached
from workbench.errors import ConfigError
from workbench.schema.config import AugmentConfig, DataConfig


@pytest.mark.slow
def test_describe_needs_no_torch_for_digits_and_spirals():
    code = """
import json, sys
from workbench.schema.config import DataConfig
from workbench.data.registry import describe
infos = [describe(DataConfig(dataset=name)) for name in ("digits", "spirals")]
print(json.dumps({"torch": "torch" in sys.modules, "shapes": [list(i.input_shape) for i in infos],
                  "classes": [list(i.class_names) for i in infos]}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seen = json.loads(result.stdout)
    assert seen["torch"] is False
    assert seen["shapes"] == [[1, 8, 8], [2]]
    assert seen["classes"] == [[str(d) for d in range(10)], ["0", "1", "2"]]


@pytest.mark.parametrize("name", ["digits", "diabetes", "spirals", "first-marker"])
def test_describe_matches_what_loading_delivers(name):
    data = DataConfig(dataset=name, val_fraction=0.0)
    info = describe(data)
    splits = load_splits(data, seed=0, device="cpu")
    assert splits.info == info
    assert splits.train.num_samples == info.train_size
    assert splits.test.num_samples == info.test_size
    inputs, targets = next(iter(splits.train.epoch(0)))
    assert tuple(inputs.shape[1:]) == info.input_shape
    if info.task == "classification":
        assert int(targets.max()) < info.num_outputs == len(info.class_names)
    else:
        assert tuple(targets.shape[1:]) == (info.num_outputs,)


def test_every_dataset_has_a_task_kind_licence_and_options_schema():
    for name, spec in DATASETS.items():
        assert spec.name == name
        assert spec.task in ("classification", "regression") and spec.kind in ("image", "tabular", "points", "tokens")
        assert spec.source and spec.licence and spec.help
        assert spec.offline == (spec.download is None) == (spec.download_mb is None)


def test_offline_facts_of_the_bundled_sets():
    digits, diabetes = describe(DataConfig(dataset="digits")), describe(DataConfig(dataset="diabetes"))
    assert (digits.task, digits.input_shape, digits.num_outputs, digits.train_size + digits.test_size) == (
        "classification",
        (1, 8, 8),
        10,
        1797,
    )
    assert (diabetes.task, diabetes.input_shape, diabetes.num_outputs, diabetes.class_names) == ("regression", (10,), 1, ())
    assert digits.offline and digits.cached


def test_spirals_options_change_classes_and_sizes():
    info = describe(DataConfig(dataset="spirals", options={"classes": 5, "samples_per_class": 50}))
    assert info.num_outputs == 5 and info.class_names == ("0", "1", "2", "3", "4")
    assert info.train_size + info.test_size == 250 and info.test_size == 50


def test_unknown_dataset_lists_the_allowed_names():
    with pytest.raises(ConfigError) as caught:
        dataset_spec("imagenet")
    assert caught.value.field == "data.dataset"
    assert "'imagenet'" in str(caught.value) and "digits" in str(caught.value) and "cifar10" in str(caught.value)


def test_bad_options_name_the_field_and_what_is_allowed():
    with pytest.raises(ConfigError) as caught:
        dataset_options(DataConfig(dataset="spirals", options={"classes": 9}))
    assert caught.value.field == "data.options.classes" and "<= 8" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        describe(DataConfig(dataset="digits", options={"noise": 0.1}))
    assert caught.value.field == "data.options.noise" and "allowed: none" in str(caught.value)


def test_options_get_their_defaults():
    assert dataset_options(DataConfig(dataset="spirals")) == {
        "classes": 3,
        "samples_per_class": 400,
        "noise": 0.02,
        "data_seed": 0,
    }


def test_augmentation_of_non_images_is_refused_by_describe():
    data = DataConfig(dataset="diabetes", augment=AugmentConfig(horizontal_flip=True))
    with pytest.raises(ConfigError) as caught:
        describe(data)
    assert caught.value.field == "data.augment.horizontal_flip" and "diabetes is tabular" in str(caught.value)


def test_downloadable_sets_are_not_cached_in_an_empty_home():
    for name, spec in DATASETS.items():
        assert is_cached(name) == spec.offline
    info = describe(DataConfig(dataset="cifar10"))
    facts = (info.cached, info.offline, info.input_shape, info.train_size, info.num_outputs)
    assert facts == (False, False, (3, 32, 32), 50000, 10)
    assert info.download_mb and info.download_mb > 100
