"""`workbench bench` with a data set of the user's own class: the engine over the materialised
items, the plain loop over the same arrays, and the tutorial being the user's class itself in a
DataLoader (read item by item, as their script does). A set that streams is refused in one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.code_dataset_files import write, write_pictures
from workbench.engine.bench import WAYS, run_bench, training_samples, tutorial_samples_per_s
from workbench.errors import ConfigError
from workbench.experiment.presets import load_experiment
from workbench.schema.config import DataConfig, RunConfig

pytestmark = pytest.mark.slow

COUNTED = """
    from mydata import MyDataset


    class Counted(MyDataset):
        reads = 0

        def __getitem__(self, index):
            Counted.reads += 1
            return super().__getitem__(index)
"""


def code_experiment(folder: Path, **options: object) -> RunConfig:
    listing = write_pictures(folder, count=40, size=8)
    write(folder, "counted.py", COUNTED)
    config = load_experiment("digits-mlp", ["train.epochs=1"])
    config.data = DataConfig(
        dataset="code",
        options={"code": f"{folder}/counted.py:Counted", "args": {"file": str(listing)}, **options},
        batch_size=8,
        val_fraction=0.25,
    )
    return config


def test_the_bench_measures_the_three_ways_and_the_tutorial_reads_the_users_class(tmp_path: Path) -> None:
    config = code_experiment(tmp_path)
    result = run_bench(config, device="cpu", rounds=1, epochs=1)
    assert all(result.ways[way].median > 0 for way in WAYS)
    assert result.train_samples == 24 and result.tutorial_dataset == "your counted.py:Counted"
    samples = training_samples(config)
    counted = sys.modules["counted"].Counted
    before = counted.reads
    tutorial_samples_per_s(config, "cpu", samples, workers=0)
    assert counted.reads - before == 24  # one epoch: every training item through the user's __getitem__


def test_a_code_data_set_that_streams_is_refused_in_one_line(tmp_path: Path) -> None:
    config = code_experiment(tmp_path, storage="stream")
    with pytest.raises(ConfigError, match=r"^data.options.storage: the bench needs a dataset held in memory"):
        run_bench(config, device="cpu", rounds=1, epochs=1)
