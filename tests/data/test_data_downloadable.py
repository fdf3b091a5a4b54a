"""Downloadable datasets, from files the tests write in the real formats into the cache.

torchvision's own classes read them, exactly as for users. Where torchvision checks md5 sums
against the official files, the tests put the sums of the files they wrote into the class's
checksum lists: those lists are data; the reading and unpacking code is the real one.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.datasets as tv
from dataset_files import md5, write_cifar10_archive, write_cifar100_folder, write_mnist, write_svhn

from workbench import paths
from workbench.data.download import download
from workbench.data.loading import load_splits
from workbench.data.preview import preview_samples
from workbench.data.registry import describe, is_cached
from workbench.errors import DataError
from workbench.schema.config import DataConfig

FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "kmnist": "KMNIST"}


def load(name: str, **data):
    return load_splits(DataConfig(dataset=name, val_fraction=0.0, normalize=False, **data), seed=0, device="cpu")


def every_raw_image(batches) -> torch.Tensor:
    return batches.raw_images(range(batches.num_samples))


def every_target(batches) -> torch.Tensor:
    return torch.cat([y for _, y in batches.epoch(0)])


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "kmnist"])
def test_mnist_family_loads_idx_files_from_the_cache(name):
    written = write_mnist(paths.datasets_dir() / name / FOLDERS[name] / "raw", train=30, test=12)
    assert is_cached(name) and describe(DataConfig(dataset=name)).cached
    splits = load(name, eval_batch_size=5)
    assert (splits.info.train_size, splits.info.test_size, splits.info.input_shape) == (30, 12, (1, 28, 28))
    assert splits.info.class_names == describe(DataConfig(dataset=name)).class_names
    test_images = every_raw_image(splits.test)
    assert torch.equal(test_images[:, 0], torch.from_numpy(written["t10k-images-idx3-ubyte"]))
    assert every_target(splits.test).tolist() == written["t10k-labels-idx1-ubyte"].tolist()
    assert sorted(every_raw_image(splits.train)[:, 0].reshape(30, -1).tolist()) == sorted(
        written["train-images-idx3-ubyte"].reshape(30, -1).tolist()
    )


def test_mnist_gz_archives_in_the_cache_are_unpacked_without_a_network(monkeypatch, no_network):
    raw = paths.datasets_dir() / "mnist" / "MNIST" / "raw"
    written = write_mnist(raw, train=20, test=10, gz=True)
    resources = [(f"{name}.gz", md5(raw / f"{name}.gz")) for name in written]
    monkeypatch.setattr(tv.MNIST, "resources", resources)
    assert is_cached("mnist")
    splits = load("mnist")
    assert torch.equal(every_raw_image(splits.test)[:, 0], torch.from_numpy(written["t10k-images-idx3-ubyte"]))
    assert (raw / "train-images-idx3-ubyte").is_file()


def test_cifar10_archive_is_unpacked_and_read_with_progress(monkeypatch, no_network):
    root = paths.datasets_dir() / "cifar10"
    classes = describe(DataConfig(dataset="cifar10")).class_names
    sums, written = write_cifar10_archive(root, per_batch=4, classes=classes)
    monkeypatch.setattr(tv.CIFAR10, "tgz_md5", sums["cifar-10-python.tar.gz"])
    monkeypatch.setattr(tv.CIFAR10, "train_list", [[f"data_batch_{i}", sums[f"data_batch_{i}"]] for i in range(1, 6)])
    monkeypatch.setattr(tv.CIFAR10, "test_list", [["test_batch", sums["test_batch"]]])
    monkeypatch.setattr(tv.CIFAR10, "meta", {**tv.CIFAR10.meta, "md5": sums["batches.meta"]})
    assert is_cached("cifar10")  # the archive alone is enough to load offline
    reports = []
    assert download("cifar10", progress=lambda done, total: reports.append((done, total))) == root
    assert reports[-1] == ((root / "cifar-10-python.tar.gz").stat().st_size,) * 2
    splits = load("cifar10")
    assert (splits.train.num_samples, splits.test.num_samples) == (20, 4)
    images, labels = written["test_batch"]
    assert torch.equal(every_raw_image(splits.test), torch.from_numpy(images))
    assert every_target(splits.test).tolist() == labels.tolist()
    inputs, _ = next(iter(splits.test.epoch(0)))
    assert inputs.shape == (4, 3, 32, 32) and float(inputs.max()) <= 1.0


def test_cifar100_folder_is_read_with_fine_labels(monkeypatch):
    root = paths.datasets_dir() / "cifar100"
    classes = describe(DataConfig(dataset="cifar100")).class_names
    sums, written = write_cifar100_folder(root, train=12, test=6, classes=classes)
    monkeypatch.setattr(tv.CIFAR100, "train_list", [["train", sums["train"]]])
    monkeypatch.setattr(tv.CIFAR100, "test_list", [["test", sums["test"]]])
    monkeypatch.setattr(tv.CIFAR100, "meta", {**tv.CIFAR100.meta, "md5": sums["meta"]})
    splits = load("cifar100")
    assert splits.info.num_outputs == 100
    assert every_target(splits.test).tolist() == written["test"][1].tolist()


def test_svhn_mat_files_are_read_with_digit_zero_as_class_zero(monkeypatch):
    root = paths.datasets_dir() / "svhn"
    train_images, _ = write_svhn(root, "train_32x32.mat", 15, seed=50)
    test_images, test_digits = write_svhn(root, "test_32x32.mat", 10, seed=60)
    split_list = dict(tv.SVHN.split_list)
    for split in ("train", "test"):
        url, name, _ = split_list[split]
        split_list[split] = [url, name, md5(root / name)]
    monkeypatch.setattr(tv.SVHN, "split_list", split_list)
    splits = load("svhn")
    assert torch.equal(every_raw_image(splits.test), torch.from_numpy(test_images))
    assert every_target(splits.test).tolist() == test_digits.tolist()
    assert 0 in test_digits


def test_missing_download_without_network_names_dataset_folder_and_offline_presets(no_network):
    with pytest.raises(DataError) as caught:
        load("mnist")
    message = str(caught.value)
    folder = paths.datasets_dir() / "mnist" / "MNIST" / "raw"
    assert message.startswith("mnist: the download failed")
    assert str(folder) in message and "train-images-idx3-ubyte.gz" in message
    assert "digits-cnn, digits-mlp, spirals-mlp, diabetes-regression" in message
    assert "\n" not in message


def test_preview_of_a_missing_download_says_where_to_put_files_without_downloading():
    with pytest.raises(DataError) as caught:
        preview_samples(DataConfig(dataset="svhn"))
    message = str(caught.value)
    assert "not downloaded yet" in message and str(paths.datasets_dir() / "svhn") in message
    assert "train_32x32.mat" in message and "digits-cnn" in message
    assert not (paths.datasets_dir() / "svhn").exists()


def test_corrupt_cached_files_are_a_clear_error():
    raw = paths.datasets_dir() / "kmnist" / "KMNIST" / "raw"
    write_mnist(raw, train=5, test=5)
    (raw / "train-images-idx3-ubyte").write_bytes(b"not an idx file")
    with pytest.raises(DataError) as caught:
        load("kmnist")
    assert str(raw.parent.parent) in str(caught.value) and "cannot read" in str(caught.value)


def test_preview_of_a_cached_download_shows_test_images():
    written = write_mnist(paths.datasets_dir() / "mnist" / "MNIST" / "raw", train=10, test=10)
    samples = preview_samples(DataConfig(dataset="mnist"), count=10)
    assert [s.label for s in samples] == [str(d) for d in range(10)]
    shown = {s.image.tobytes() for s in samples}
    assert shown == {image[:, :, None].tobytes() for image in written["t10k-images-idx3-ubyte"]}
    assert all(s.image.shape == (28, 28, 1) and s.image.dtype == np.uint8 for s in samples)
