"""Splits and batches: seeded order, no overlap, augmentation and normalisation from train only."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from workbench.data.augment import crop_and_flip
from workbench.data.loading import load_splits
from workbench.data.registry import describe, split_sizes
from workbench.data.splitting import batch_bounds, steps_per_epoch
from workbench.schema.config import AugmentConfig, DataConfig


def epoch_batches(batches, epoch):
    return [(x.clone(), y.clone()) for x, y in batches.epoch(epoch)]


def all_rows(batches, epoch=0):
    inputs, targets = zip(*batches.epoch(epoch), strict=True)
    return torch.cat(inputs), torch.cat(targets)


def as_row_set(rows: torch.Tensor) -> set[tuple[float, ...]]:
    return {tuple(row) for row in rows.reshape(len(rows), -1).tolist()}


def test_same_seed_and_epoch_give_the_same_batches_even_after_reloading():
    data = DataConfig(dataset="digits", batch_size=100)
    first = epoch_batches(load_splits(data, seed=3, device="cpu").train, epoch=4)
    resumed = epoch_batches(load_splits(data, seed=3, device="cpu").train, epoch=4)
    assert len(first) == len(resumed)
    for (x1, y1), (x2, y2) in zip(first, resumed, strict=True):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)


def test_each_epoch_visits_every_training_sample_once_in_a_new_order():
    splits = load_splits(DataConfig(dataset="spirals", batch_size=64, normalize=False), seed=0, device="cpu")
    x1, _ = all_rows(splits.train, epoch=1)
    x2, _ = all_rows(splits.train, epoch=2)
    assert not torch.equal(x1, x2)
    assert as_row_set(x1) == as_row_set(x2) and len(as_row_set(x1)) == splits.train.num_samples == len(x1)


def test_different_seeds_shuffle_differently():
    data = DataConfig(dataset="spirals", val_fraction=0.0)
    x1, _ = all_rows(load_splits(data, seed=1, device="cpu").train, epoch=1)
    x2, _ = all_rows(load_splits(data, seed=2, device="cpu").train, epoch=1)
    assert not torch.equal(x1, x2)


def test_train_val_and_test_do_not_overlap_and_cover_the_dataset():
    data = DataConfig(dataset="spirals", normalize=False, val_fraction=0.25)
    splits = load_splits(data, seed=5, device="cpu")
    train, val, test = (as_row_set(all_rows(b)[0]) for b in (splits.train, splits.val, splits.test))
    assert not (train & val) and not (train & test) and not (val & test)
    assert len(train) + len(val) + len(test) == 3 * 400
    assert len(val) == round(splits.info.train_size * 0.25)


def test_the_test_split_never_depends_on_seed_or_validation():
    a = load_splits(DataConfig(dataset="digits", val_fraction=0.1), seed=1, device="cpu")
    b = load_splits(DataConfig(dataset="digits", val_fraction=0.3, subset=100), seed=99, device="cpu")
    assert torch.equal(a.test.raw_images(range(a.test.num_samples)), b.test.raw_images(range(b.test.num_samples)))
    assert torch.equal(all_rows(a.test)[1], all_rows(b.test)[1])


def test_the_validation_split_depends_on_the_seed():
    a = load_splits(DataConfig(dataset="digits"), seed=1, device="cpu")
    b = load_splits(DataConfig(dataset="digits"), seed=2, device="cpu")
    assert not torch.equal(a.val.raw_images(range(50)), b.val.raw_images(range(50)))


def test_subset_limits_training_samples_only():
    splits = load_splits(DataConfig(dataset="digits", subset=200, batch_size=64), seed=0, device="cpu")
    assert splits.train.num_samples == 200 and len(splits.train) == 4
    assert splits.val.num_samples == round(splits.info.train_size * 0.1)
    assert splits.test.num_samples == splits.info.test_size


def test_no_validation_split_when_the_fraction_is_zero():
    assert load_splits(DataConfig(dataset="spirals", val_fraction=0.0), seed=0, device="cpu").val is None


def test_evaluation_batches_come_in_sample_order_and_match_raw_images():
    splits = load_splits(DataConfig(dataset="digits", normalize=False, eval_batch_size=50), seed=0, device="cpu")
    inputs, _ = all_rows(splits.test)
    raw = splits.test.raw_images(range(splits.test.num_samples))
    assert raw.dtype == torch.uint8 and raw.shape == (splits.test.num_samples, 1, 8, 8)
    assert torch.allclose(inputs, raw.float() / 255)
    assert [len(y) for _, y in splits.test.epoch(0)][:2] == [50, 50]


def test_normalisation_uses_training_statistics_for_every_split():
    splits = load_splits(DataConfig(dataset="digits"), seed=0, device="cpu")
    train_raw = splits.train.raw_images(range(splits.train.num_samples)).double()
    mean, std = train_raw.mean(), train_raw.std(unbiased=False)
    test_inputs, _ = all_rows(splits.test)
    expected = (splits.test.raw_images(range(splits.test.num_samples)).double() - mean) / std
    assert torch.allclose(test_inputs.double(), expected, atol=1e-4)
    train_inputs, _ = all_rows(splits.train)
    assert abs(train_inputs.mean().item()) < 1e-4 and abs(train_inputs.std().item() - 1) < 1e-3
    assert abs(test_inputs.mean().item()) > 1e-3  # the test split was not standardised by its own statistics


def test_tabular_features_and_regression_targets_are_standardised_with_training_statistics():
    splits = load_splits(DataConfig(dataset="diabetes", val_fraction=0.2), seed=0, device="cpu")
    train_x, train_y = all_rows(splits.train)
    assert torch.allclose(train_x.mean(0), torch.zeros(10), atol=1e-4)
    assert torch.allclose(train_x.std(0, unbiased=False), torch.ones(10), atol=1e-3)
    assert train_y.dtype == torch.float32 and train_y.shape[1] == 1
    assert abs(train_y.mean().item()) < 1e-4 and abs(train_y.std(unbiased=False).item() - 1) < 1e-3
    val_x, _ = all_rows(splits.val)
    assert val_x.mean(0).abs().max() > 1e-3


def test_augmentation_keeps_shapes_and_changes_only_training_batches():
    plain = DataConfig(dataset="digits", batch_size=128)
    augment = AugmentConfig(random_crop_padding=2, horizontal_flip=True)
    augmented = DataConfig(dataset="digits", batch_size=128, augment=augment)
    a, b = load_splits(plain, seed=0, device="cpu"), load_splits(augmented, seed=0, device="cpu")
    changed = 0
    for (x1, y1), (x2, y2) in zip(a.train.epoch(1), b.train.epoch(1), strict=True):
        assert x1.shape == x2.shape and torch.equal(y1, y2)
        changed += int(not torch.equal(x1, x2))
    assert changed == len(a.train)
    for split in ("val", "test"):
        for (x1, _), (x2, _) in zip(getattr(a, split).epoch(1), getattr(b, split).epoch(1), strict=True):
            assert torch.equal(x1, x2)


def test_augmentation_is_reproducible_per_epoch():
    data = DataConfig(dataset="digits", augment=AugmentConfig(random_crop_padding=1, horizontal_flip=True))
    first = epoch_batches(load_splits(data, seed=0, device="cpu").train, 2)
    again = epoch_batches(load_splits(data, seed=0, device="cpu").train, 2)
    assert all(torch.equal(x1, x2) for (x1, _), (x2, _) in zip(first, again, strict=True))


def test_vectorised_crop_and_flip_match_transforming_each_image_alone():
    images = torch.randint(0, 256, (6, 3, 5, 7), dtype=torch.uint8)
    padding = 2
    offsets = torch.tensor([[0, 0], [4, 4], [2, 2], [1, 3], [4, 0], [0, 4]])
    flips = torch.tensor([False, True, False, True, True, False])
    cropped = crop_and_flip(images, offsets, None, padding)
    both = crop_and_flip(images, offsets, flips, padding)
    only_flipped = crop_and_flip(images, None, flips, 0)
    for i, (image, (dy, dx)) in enumerate(zip(images, offsets.tolist(), strict=True)):
        window = F.pad(image, (padding,) * 4)[:, dy : dy + 5, dx : dx + 7]
        assert torch.equal(cropped[i], window)
        assert torch.equal(both[i], window.flip(2) if flips[i] else window)
        assert torch.equal(only_flipped[i], image.flip(2) if flips[i] else image)
    assert torch.equal(cropped[2], images[2])  # the centred window is the image itself


def test_a_last_training_batch_of_one_sample_is_dropped_but_evaluation_keeps_it():
    assert batch_bounds(129, 64, training=True) == [(0, 64), (64, 128)]
    assert batch_bounds(129, 64, training=False)[-1] == (128, 129)
    assert batch_bounds(130, 64, training=True)[-1] == (128, 130)


def test_raw_images_refuses_datasets_without_images():
    from workbench.errors import DataError

    splits = load_splits(DataConfig(dataset="spirals"), seed=0, device="cpu")
    with pytest.raises(DataError):
        splits.train.raw_images([0])


def test_digit_images_are_stored_as_uint8_scaled_to_255():
    from sklearn.datasets import load_digits

    splits = load_splits(DataConfig(dataset="digits", val_fraction=0.0), seed=0, device="cpu")
    raw = splits.train.raw_images(range(splits.train.num_samples))
    assert raw.dtype == torch.uint8 and int(raw.max()) == 255
    originals = {tuple(np.rint(img * 255 / 16).astype(int).ravel()) for img in load_digits().images}
    assert as_row_set(raw.int()) <= originals


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (["mps"] if torch.backends.mps.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_batches_are_on_the_requested_device_and_equal_to_the_cpu_ones(device):
    data = DataConfig(dataset="digits", augment=AugmentConfig(random_crop_padding=2, horizontal_flip=True))
    here, reference = load_splits(data, seed=4, device=device), load_splits(data, seed=4, device="cpu")
    for split in ("train", "val", "test"):
        for (x, y), (x_cpu, y_cpu) in zip(getattr(here, split).epoch(2), getattr(reference, split).epoch(2), strict=True):
            assert x.device.type == y.device.type == torch.device(device).type
            assert torch.allclose(x.cpu(), x_cpu, atol=1e-5) and torch.equal(y.cpu(), y_cpu)
    assert here.train.raw_images([0, 1]).device.type == "cpu"


@pytest.mark.parametrize(("val_fraction", "subset", "batch_size"), [(0.1, 0, 64), (0.0, 0, 1437), (0.3, 100, 33), (0.5, 5000, 1)])
def test_split_sizes_and_steps_predict_what_loading_delivers(val_fraction, subset, batch_size):
    data = DataConfig(dataset="digits", val_fraction=val_fraction, subset=subset, batch_size=batch_size)
    sizes = split_sizes(data, describe(data))
    splits = load_splits(data, seed=0, device="cpu")
    val = splits.val.num_samples if splits.val else 0
    assert (sizes.train, sizes.val, sizes.test) == (splits.train.num_samples, val, splits.test.num_samples)
    assert steps_per_epoch(sizes.train, batch_size) == len(splits.train) == sum(1 for _ in splits.train.epoch(0))
