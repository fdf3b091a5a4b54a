"""The user's own data: a CSV file and a folder of images, written by the tests."""

from __future__ import annotations

import csv
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from dataset_files import write_image_classes
from PIL import Image

from workbench.data.loading import load_splits
from workbench.data.preview import preview_samples
from workbench.data.registry import describe
from workbench.data.resize import InputResize
from workbench.data.sources.image_folder import scan_image_folder
from workbench.errors import ConfigError, DataError
from workbench.schema.config import AugmentConfig, DataConfig


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def all_rows(batches):
    inputs, targets = zip(*batches.epoch(0), strict=True)
    return torch.cat(inputs), torch.cat(targets)


@pytest.fixture
def flowers_csv(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    labels = ["10", "2", "7"]  # numeric labels: classes ordered by value, not as text
    rows = [
        [f"{rng.normal(5, 2):.4f}", f"{rng.normal(-3, 0.5):.4f}", labels[i % 3], f"{rng.uniform(0, 100):.3f}"] for i in range(60)
    ]
    return write_csv(tmp_path / "flowers.csv", ["length", "width", "species", "weight"], rows)


def test_csv_classification_names_classes_from_the_target_values(flowers_csv):
    data = DataConfig(dataset="csv", options={"path": str(flowers_csv), "target": "species"}, val_fraction=0.0)
    info = describe(data)
    assert (info.task, info.input_shape, info.class_names, info.train_size + info.test_size) == (
        "classification",
        (3,),
        ("2", "7", "10"),
        60,
    )
    splits = load_splits(data, seed=0, device="cpu")
    inputs, targets = all_rows(splits.train)
    assert set(targets.tolist()) == {0, 1, 2} and targets.dtype == torch.int64
    assert torch.allclose(inputs.mean(0), torch.zeros(3), atol=1e-4)
    assert torch.allclose(inputs.std(0, unbiased=False), torch.ones(3), atol=1e-3)


def test_csv_regression_predicts_the_last_column_by_default(flowers_csv):
    data = DataConfig(dataset="csv", options={"path": str(flowers_csv), "task": "regression"})
    info = describe(data)
    assert (info.task, info.num_outputs, info.input_shape, info.class_names) == ("regression", 1, (3,), ())
    splits = load_splits(data, seed=0, device="cpu")
    _, targets = all_rows(splits.train)
    assert targets.shape == (splits.train.num_samples, 1) and targets.dtype == torch.float32


def test_csv_features_use_training_statistics_only(flowers_csv):
    data = DataConfig(dataset="csv", options={"path": str(flowers_csv), "target": "species"}, val_fraction=0.0)
    splits = load_splits(data, seed=0, device="cpu")
    test_inputs, _ = all_rows(splits.test)
    assert test_inputs.mean(0).abs().max() > 1e-3


def test_csv_preview_shows_raw_values_and_labels(flowers_csv):
    data = DataConfig(dataset="csv", options={"path": str(flowers_csv), "target": "species"})
    samples = preview_samples(data, count=3)
    assert sorted(s.label for s in samples) == ["10", "2", "7"]
    assert all(s.image is None and len(s.features) == 3 for s in samples)
    text = flowers_csv.read_text()
    assert all(f"{s.features[2]:.3f}" in text for s in samples)


def test_csv_without_a_path_names_the_option():
    with pytest.raises(ConfigError) as caught:
        describe(DataConfig(dataset="csv"))
    assert caught.value.field == "data.options.path"


def test_csv_unknown_target_lists_the_columns(flowers_csv):
    with pytest.raises(ConfigError) as caught:
        describe(DataConfig(dataset="csv", options={"path": str(flowers_csv), "target": "colour"}))
    assert caught.value.field == "data.options.target" and "length, width, species, weight" in str(caught.value)


def test_csv_text_in_a_feature_column_names_line_and_column(tmp_path):
    path = write_csv(tmp_path / "bad.csv", ["a", "b", "y"], [[1, 2, "x"], [3, "oops", "y"], [5, 6, "x"]])
    with pytest.raises(DataError) as caught:
        describe(DataConfig(dataset="csv", options={"path": str(path)}))
    assert str(caught.value) == f"{path} line 3, column 'b': 'oops' is not a finite number"


def test_csv_missing_file_and_ragged_rows_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        describe(DataConfig(dataset="csv", options={"path": str(tmp_path / "absent.csv")}))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,y\n1,2,x\n3,y\n4,5,x\n")
    with pytest.raises(DataError, match="line 3: 2 values, expected 3"):
        describe(DataConfig(dataset="csv", options={"path": str(ragged)}))


# ----------------------------------------------------------------------------- image folders


def test_image_folder_with_train_and_test_folders(tmp_path):
    write_image_classes(tmp_path / "pets" / "train", {"cat": 6, "dog": 5, "fox": 4})
    write_image_classes(tmp_path / "pets" / "test", {"cat": 2, "dog": 2}, seed=1)
    data = DataConfig(dataset="image-folder", options={"path": str(tmp_path / "pets"), "size": 16}, val_fraction=0.0)
    info = describe(data)
    assert (info.input_shape, info.class_names, info.train_size, info.test_size) == ((3, 16, 16), ("cat", "dog", "fox"), 15, 4)
    splits = load_splits(data, seed=0, device="cpu")
    assert all_rows(splits.test)[1].tolist() == [0, 0, 1, 1]
    picture = Image.open(tmp_path / "pets/test/dog/000.png").convert("RGB")
    expected = np.array(picture.resize((16, 16), Image.Resampling.BILINEAR))
    assert torch.equal(splits.test.raw_images([2])[0], torch.from_numpy(expected).permute(2, 0, 1))


def test_image_folder_of_class_folders_is_split_with_a_fixed_seed(tmp_path):
    write_image_classes(tmp_path / "shapes", {"circle": 10, "square": 10})
    data = DataConfig(dataset="image-folder", options={"path": str(tmp_path / "shapes"), "size": 8})
    info = describe(data)
    assert (info.train_size, info.test_size) == (16, 4)
    a, b = load_splits(data, seed=0, device="cpu"), load_splits(data, seed=7, device="cpu")
    assert torch.equal(a.test.raw_images(range(4)), b.test.raw_images(range(4)))


def test_streamed_image_folder_gives_the_same_batches_as_memory(tmp_path):
    write_image_classes(tmp_path / "pets", {"cat": 9, "dog": 8, "fox": 7})
    options = {"path": str(tmp_path / "pets"), "size": 12, "workers": 0}
    augment = AugmentConfig(random_crop_padding=2, horizontal_flip=True)

    def load(**storage):
        data = DataConfig(dataset="image-folder", batch_size=5, augment=augment, options={**options, **storage})
        return load_splits(data, seed=3, device="cpu")

    memory, streamed = load(storage="memory"), load(storage="stream", workers=1)
    assert len(memory.train) == len(streamed.train)
    for epoch in (1, 2):
        for (x1, y1), (x2, y2) in zip(memory.train.epoch(epoch), streamed.train.epoch(epoch), strict=True):
            assert torch.equal(y1, y2) and torch.allclose(x1, x2, atol=1e-5)
    for (x1, y1), (x2, y2) in zip(memory.test.epoch(0), streamed.test.epoch(0), strict=True):
        assert torch.equal(y1, y2) and torch.allclose(x1, x2, atol=1e-5)
    assert torch.equal(memory.val.raw_images([0, 1]), streamed.val.raw_images([0, 1]))


def test_image_folder_errors_name_the_folder(tmp_path):
    (tmp_path / "one" / "cat").mkdir(parents=True)
    with pytest.raises(DataError, match="expected at least 2"):
        describe(DataConfig(dataset="image-folder", options={"path": str(tmp_path / "one")}))
    write_image_classes(tmp_path / "two", {"cat": 2, "dog": 2})
    (tmp_path / "two" / "dog" / "broken.png").write_bytes(b"no picture")
    with pytest.raises(DataError) as caught:
        load_splits(DataConfig(dataset="image-folder", options={"path": str(tmp_path / "two")}), seed=0, device="cpu")
    assert "broken.png: not a readable image" in str(caught.value)


def test_image_folder_preview_decodes_only_shown_test_images(tmp_path):
    write_image_classes(tmp_path / "pets" / "train", {"cat": 3, "dog": 3})
    write_image_classes(tmp_path / "pets" / "test", {"cat": 2, "dog": 2})
    (tmp_path / "pets" / "train" / "cat" / "broken.png").write_bytes(b"never decoded by the preview")
    data = DataConfig(dataset="image-folder", options={"path": str(tmp_path / "pets"), "size": 10})
    samples = preview_samples(data, count=3)
    assert [s.label for s in samples] == ["cat", "dog", "cat"]
    assert all(s.image.shape == (10, 10, 3) and s.image.dtype == np.uint8 for s in samples)


def _age(folder: Path) -> None:
    """Date every folder under ``folder`` a day back, as a folder is when a person opens it."""
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        os.utime(path, (time.time() - 86400, time.time() - 86400))


def test_an_unchanged_image_folder_is_not_listed_again_and_any_change_is_seen(tmp_path):
    """The app checks the experiment at every keystroke: a folder of 30,000 images took a second
    to list each time. Adding anywhere in it (a nested folder too) or removing a class is seen."""
    write_image_classes(tmp_path / "pets", {"cat": 6, "dog": 5})
    _age(tmp_path / "pets")
    options = {"path": str(tmp_path / "pets"), "size": 8}
    first = scan_image_folder(options)
    assert scan_image_folder(options) is first  # the same listing, not listed again
    (tmp_path / "pets" / "cat" / "more").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "pets" / "cat" / "more" / "extra.png")
    grown = scan_image_folder(options)
    assert len(grown.train_files) + len(grown.test_files) == 12
    _age(tmp_path / "pets")
    assert scan_image_folder(options) is scan_image_folder(options)
    Image.new("RGB", (4, 4)).save(tmp_path / "pets" / "cat" / "more" / "extra2.png")  # a nested folder only
    assert len(scan_image_folder(options).train_files) + len(scan_image_folder(options).test_files) == 13
    shutil.rmtree(tmp_path / "pets" / "dog")
    with pytest.raises(DataError, match="expected at least 2"):
        scan_image_folder(options)


@pytest.mark.parametrize(
    ("dataset", "path", "message"),
    [
        ("csv", "/dev/null", "/dev/null is not a regular file, expected a .csv file"),
        ("image-folder", "/dev/null", "/dev/null is not a folder, expected a folder of class folders"),
        ("csv", "/tmp/" + "x" * 5000, r"x…x+ \(5,005 characters\): File name too long"),
    ],
    ids=["csv-device", "folder-device", "too-long"],
)
def test_odd_paths_are_one_line_naming_the_option(dataset: str, path: str, message: str) -> None:
    """ "/dev/null is a folder", and a path past the system's limit gave a generic OSError."""
    options = {"path": path, "size": 8} if dataset == "image-folder" else {"path": path}
    with pytest.raises(DataError, match=f"data.options.path: .*{message}"):
        describe(DataConfig(dataset=dataset, options=options))


def test_streamed_and_in_memory_folders_are_resized_and_normalised_alike_for_a_backbone(tmp_path):
    write_image_classes(tmp_path / "pets", {"cat": 6, "dog": 6})
    resize = InputResize(16, "bilinear", mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))

    def load(**storage):
        options = {"path": str(tmp_path / "pets"), "size": 12, "workers": 0, **storage}
        return load_splits(DataConfig(dataset="image-folder", batch_size=4, options=options), seed=1, device="cpu", resize=resize)

    memory, streamed = load(storage="memory"), load(storage="stream")
    for (x1, y1), (x2, y2) in zip(memory.train.epoch(1), streamed.train.epoch(1), strict=True):
        assert x1.shape == (len(y1), 3, 16, 16)
        assert torch.equal(y1, y2) and torch.allclose(x1, x2, atol=1e-5)
