"""A code data set through the probe's child and into training: described by the registry,
materialised once (and read from the cache after), streamed in the same seeded order, an
error of the user's code while reading every item named with its item, and a real
``workbench train`` process. Each starts a child process: slow."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.code_dataset_files import broken_dataset, write_csv_rows, write_pictures
from workbench.data.loading import load_splits
from workbench.data.registry import describe
from workbench.errors import DataError
from workbench.paths import cache_dir
from workbench.runs.listing import list_runs
from workbench.schema.config import AugmentConfig, DataConfig
from workbench.usercode.importing import UserCodeError

pytestmark = pytest.mark.slow


def code_data(code: str, args: dict, **settings: object) -> DataConfig:
    options = {"code": code, "args": args, **settings.pop("options", {})}  # type: ignore[dict-item]
    return DataConfig(dataset="code", options=options, batch_size=4, **settings)  # type: ignore[arg-type]


def first_epoch(data: DataConfig) -> list[tuple[torch.Tensor, torch.Tensor]]:
    splits = load_splits(data, seed=3, device="cpu")
    return list(splits.train.epoch(0))


def test_the_registry_describes_a_code_set_from_the_probes_child(tmp_path: Path) -> None:
    listing = write_pictures(tmp_path, count=30)
    info = describe(code_data(f"{tmp_path}/mydata.py:MyDataset", {"file": str(listing)}))
    assert (info.task, info.kind, info.input_shape, info.num_outputs) == ("classification", "image", (3, 8, 8), 3)
    assert (info.train_size, info.test_size) == (24, 6)  # the usual held-out test split
    assert info.source.startswith("mydata.py:MyDataset")


def test_a_set_that_fits_memory_is_read_once_then_from_the_cache(tmp_path: Path) -> None:
    listing = write_pictures(tmp_path, count=30)
    data = code_data(f"{tmp_path}/mydata.py:MyDataset", {"file": str(listing)}, val_fraction=0.2)
    splits = load_splits(data, seed=0, device="cpu")
    assert (splits.train.num_samples, splits.val.num_samples if splits.val else 0, splits.test.num_samples) == (19, 5, 6)
    assert splits.train.raw_images([0]).dtype == torch.uint8  # pictures stay uint8 in memory
    before = first_epoch(data)
    assert len(list((cache_dir() / "code-datasets").glob("*.npz"))) == 1
    shutil.rmtree(tmp_path / "pictures")  # a second run reads no item: the pictures are not needed
    again = first_epoch(data)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(before, again, strict=True))


def test_an_edited_listing_is_read_again(tmp_path: Path) -> None:
    listing = write_pictures(tmp_path, count=30)
    data = code_data(f"{tmp_path}/mydata.py:MyDataset", {"file": str(listing)})
    assert load_splits(data, seed=0, device="cpu").info.train_size == 24
    listing.write_text("\n".join(listing.read_text().splitlines()[:20]) + "\n")
    assert load_splits(data, seed=0, device="cpu").info.train_size == 16


def test_a_streamed_set_gives_the_batches_of_the_materialised_one(tmp_path: Path) -> None:
    listing = write_pictures(tmp_path, count=30)
    augment = AugmentConfig(horizontal_flip=True, random_crop_padding=1)
    memory = code_data(f"{tmp_path}/mydata.py:MyDataset", {"file": str(listing)}, augment=augment)
    stream = code_data(
        f"{tmp_path}/mydata.py:MyDataset", {"file": str(listing)}, augment=augment, options={"storage": "stream", "workers": 0}
    )
    for a, b in zip(first_epoch(memory), first_epoch(stream), strict=True):
        assert torch.allclose(a[0], b[0], atol=1e-5) and torch.equal(a[1], b[1])


def test_a_streamed_regression_set_has_its_targets_standardised_like_the_materialised_one(tmp_path: Path) -> None:
    rows = write_csv_rows(tmp_path, count=40)
    memory = load_splits(code_data(f"{tmp_path}/rows.py:Rows", {"file": str(rows)}), seed=0, device="cpu")
    stream = load_splits(
        code_data(f"{tmp_path}/rows.py:Rows", {"file": str(rows)}, options={"storage": "stream", "workers": 0}),
        seed=0,
        device="cpu",
    )
    assert memory.target_scale is not None and stream.target_scale is not None
    assert torch.allclose(memory.target_scale.mean, stream.target_scale.mean)
    for a, b in zip(memory.train.epoch(0), stream.train.epoch(0), strict=True):
        assert torch.allclose(a[0], b[0], atol=1e-5) and torch.allclose(a[1], b[1], atol=1e-5)


def test_an_error_in_getitem_while_reading_every_item_names_the_file_line_and_item(tmp_path: Path) -> None:
    # 200 items: the probe reads 64 of them (not item 17), training reads them all.
    broken_dataset(
        tmp_path, "if index == 17:\n    raise KeyError('no picture for 17')\nreturn torch.zeros(3), index % 2", length=200
    )
    with pytest.raises(UserCodeError) as raised:
        load_splits(code_data(f"{tmp_path}/broken.py:Broken", {}), seed=0, device="cpu")
    assert str(raised.value) == "broken.py line 13: KeyError: 'no picture for 17' (Broken[17])"


@pytest.mark.parametrize("storage", ["memory", "stream"])
def test_a_label_past_the_classes_the_probe_saw_is_one_line_asking_for_a_classes_attribute(tmp_path: Path, storage: str) -> None:
    broken_dataset(tmp_path, "return torch.zeros(3), (5 if index == 150 else index % 2)", length=200)
    with pytest.raises(
        DataError, match=r"item 150: label 5, but the items read first had 2 classes; give the class a classes attribute"
    ):
        load_splits(
            code_data(f"{tmp_path}/broken.py:Broken", {}, options={"storage": storage, "workers": 0}), seed=0, device="cpu"
        )


def test_an_item_of_another_shape_past_the_probed_ones_is_one_line_naming_it(tmp_path: Path) -> None:
    broken_dataset(tmp_path, "return torch.zeros(4 if index == 150 else 3), index % 2", length=200)
    with pytest.raises(
        DataError, match=r"item 150: input of shape 4, but the first item's is 3; every input must have one shape"
    ):
        load_splits(code_data(f"{tmp_path}/broken.py:Broken", {}), seed=0, device="cpu")


def test_workbench_train_trains_a_code_data_set_as_a_real_process(tmp_path: Path) -> None:
    write_pictures(tmp_path, count=30)
    experiment = tmp_path / "exp.toml"
    experiment.write_text(
        'name = "mine"\n[data]\ndataset = "code"\nbatch_size = 8\n'
        '[data.options]\ncode = "mydata.py:MyDataset"\nargs = {file = "train.txt"}\n'
        '[[model.layers]]\ntype = "Flatten"\n[[model.layers]]\ntype = "Linear"\nout_features = "auto"\n'
        "[train]\nepochs = 2\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "train", str(experiment)], capture_output=True, text=True, timeout=300, cwd="/"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (run,) = list_runs()
    assert (run.state, run.dataset, run.epochs_done) == ("finished", "code", 2)
