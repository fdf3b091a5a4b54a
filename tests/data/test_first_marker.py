"""first-marker: token sequences whose class is the marker that comes first (order matters)."""

from __future__ import annotations

import numpy as np
import torch

from workbench.data.loading import load_splits
from workbench.data.preview import preview_samples
from workbench.data.reading import read_raw
from workbench.data.registry import dataset_options, describe
from workbench.schema.config import DataConfig

OPTIONS = {"classes": 3, "length": 10, "filler_tokens": 5, "samples_per_class": 40}


def test_each_sequence_holds_two_different_markers_and_its_class_is_the_first() -> None:
    data = DataConfig(dataset="first-marker", options=OPTIONS)
    raw = read_raw("first-marker", dataset_options(data))
    for split in (raw.train, raw.test):
        assert split.inputs.dtype == np.int64 and split.inputs.shape[1] == 10
        assert split.inputs.min() >= 0 and split.inputs.max() < describe(data).vocab_size == 8
        for tokens, label in zip(split.inputs, split.targets, strict=True):
            places = np.flatnonzero(tokens < 3)
            assert len(places) == 2 and tokens[places[0]] != tokens[places[1]]
            assert tokens[places[0]] == label
    assert np.bincount(np.concatenate([raw.train.targets, raw.test.targets])).tolist() == [40, 40, 40]


def test_the_same_data_seed_gives_the_same_sequences_and_another_seed_others() -> None:
    def tokens(seed: int) -> np.ndarray:
        data = DataConfig(dataset="first-marker", options={**OPTIONS, "data_seed": seed})
        return read_raw("first-marker", dataset_options(data)).train.inputs

    assert np.array_equal(tokens(0), tokens(0))
    assert not np.array_equal(tokens(0), tokens(1))


def test_token_ids_reach_the_model_as_integers_even_with_normalize_on() -> None:
    data = DataConfig(dataset="first-marker", options=OPTIONS, normalize=True, val_fraction=0.0)
    splits = load_splits(data, seed=0, device="cpu")
    inputs, _ = next(iter(splits.test.epoch(0)))
    raw = read_raw("first-marker", dataset_options(data)).test.inputs
    assert inputs.dtype == torch.int64
    assert torch.equal(inputs, torch.from_numpy(raw[: len(inputs)]))


def test_preview_spells_each_sequence_with_its_markers() -> None:
    samples = preview_samples(DataConfig(dataset="first-marker", options=OPTIONS), count=6)
    assert [s.label for s in samples] == ["A", "B", "C"] * 2
    for sample in samples:
        markers = sample.text.replace("·", "")
        assert len(sample.text) == 10 and len(markers) == 2 and markers[0] == sample.label
