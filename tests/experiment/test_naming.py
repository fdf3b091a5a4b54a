"""Runs named for what they are: a run whose data or model was changed from its preset says so.

Two runs started from digits-mlp, one on a wine CSV and one on a breast-cancer CSV, both listed
as "digits-mlp ... csv", described as the digits MLP. These tests read real CSV files and real
run folders (made by the store every road to a run goes through).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli import main
from workbench.experiment.draft import Draft
from workbench.experiment.naming import data_label, identity, model_outline
from workbench.experiment.presets import load_experiment, read_experiment
from workbench.runs.listing import list_runs, listing_cells
from workbench.runs.store import create_run
from workbench.schema.config import LayerSpec


def write_csv(path: Path, classes: int = 3, features: int = 4, rows: int = 60) -> Path:
    """A small real CSV: ``features`` numeric columns and a ``kind`` target with ``classes`` values."""
    header = [f"f{i}" for i in range(features)] + ["kind"]
    lines = [",".join(header)]
    for row in range(rows):
        lines.append(",".join([*(str((row * (i + 3)) % 17 / 4) for i in range(features)), f"k{row % classes}"]))
    path.write_text("\n".join(lines) + "\n")
    return path


def on_csv(path: Path) -> list[str]:
    return ['data.dataset="csv"', f'data.options.path="{path}"']


def test_an_unchanged_preset_keeps_its_name_and_description() -> None:
    preset = read_experiment("digits-mlp")
    assert identity(preset, preset) == (preset.name, preset.description)
    tuned = load_experiment("digits-mlp", ["optimizer.lr=0.05", "train.epochs=3"])
    assert (tuned.name, tuned.description) == (preset.name, preset.description)  # a rate does not change what it trains


def test_runs_on_two_csv_files_are_named_and_described_for_their_data_and_model(tmp_path: Path) -> None:
    wine = load_experiment("digits-mlp", on_csv(write_csv(tmp_path / "wine.csv")))
    cancer = load_experiment("digits-mlp", on_csv(write_csv(tmp_path / "breast-cancer.csv", classes=2)))
    assert wine.name == "wine-3fc" and cancer.name == "breast-cancer-3fc"
    assert wine.description == "digits-mlp with data csv wine.csv, model 3 fc"
    assert "Two-layer MLP on the bundled 8x8 digits" not in cancer.description


def test_a_changed_model_is_named_for_its_outline_and_a_name_given_is_kept(tmp_path: Path) -> None:
    draft = Draft(read_experiment("digits-mlp"))
    draft.delete_layer(3)  # one hidden layer fewer: the 64-wide Linear
    assert draft.run_identity() == ("digits-2fc", "digits-mlp with data digits, model 2 fc")
    named = load_experiment("digits-mlp", [*on_csv(write_csv(tmp_path / "wine.csv")), 'name="mine"'])
    assert named.name == "mine"


def test_the_draft_proposes_from_what_was_opened_or_saved(tmp_path: Path) -> None:
    draft = Draft(read_experiment("digits-cnn"))
    assert draft.run_identity()[0] == "digits-cnn"
    draft.set_dataset("csv")
    draft.set_text("data.options.path", str(write_csv(tmp_path / "wine.csv")))
    assert draft.run_identity()[0] == "wine-2conv-2fc"
    draft.mark_saved("wine-cnn")  # saved under a name of the user's: that name stays
    assert draft.run_identity()[0] == "wine-cnn"


def test_a_model_of_the_users_own_class_is_named_for_it(tmp_path: Path) -> None:
    """Switched to nets.py:Net, the draft proposes digits-net, described with the class (not
    "model -"); another class, or other arguments, is another model."""
    draft = Draft(read_experiment("digits-cnn"))
    draft.config.model.layers, draft.config.model.code = [], str(tmp_path / "nets.py") + ":Net"
    assert draft.run_identity() == ("digits-net", "digits-cnn with data digits, model nets.py:Net")
    shipped = read_experiment("tutorial-net")
    assert model_outline(shipped.model) == "nets.py:Net"
    other = read_experiment("tutorial-net")
    other.model.args = {"num_classes": 10}
    assert identity(other, shipped)[0] == "digits-net"
    assert identity(shipped, shipped) == (shipped.name, shipped.description)
    layered = read_experiment("digits-mlp")
    layered.model.layers.insert(0, LayerSpec("Code", params={"code": "/me/blocks.py:Block", "args": {}}))
    assert model_outline(layered.model) == "1 code + 3 fc"


def test_the_data_label_names_the_file_of_a_file_data_set() -> None:
    config = read_experiment("digits-mlp")
    assert data_label(config.data) == "digits"
    config.data.dataset, config.data.options = "image-folder", {"path": "/data/shapes/"}
    assert data_label(config.data) == "image-folder shapes"
    config.data.dataset, config.data.options = "code", {"code": "/home/me/mydata.py:MyDataset", "args": {"file": "a.txt"}}
    assert data_label(config.data) == "code mydata.py:MyDataset"
    config.model.layers = [LayerSpec("Backbone", params={"model": "resnet18"}), LayerSpec("Linear")]
    assert model_outline(config.model) == "resnet18 + 1 fc"


def test_workbench_runs_tells_two_csv_runs_apart_by_file_and_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    create_run(load_experiment("digits-mlp", on_csv(write_csv(tmp_path / "wine.csv"))), when=1_800_000_000)
    create_run(load_experiment("digits-cnn"), when=1_800_000_001)
    listed = {s.name: listing_cells(s) for s in list_runs()}
    assert listed["wine-3fc"]["dataset"] == "csv wine.csv" and listed["wine-3fc"]["model"] == "3 fc"
    assert listed["digits-cnn"]["dataset"] == "digits" and listed["digits-cnn"]["model"] == "2 conv + 2 fc"
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert "model" in out.splitlines()[0]
    assert any("wine-3fc" in line and "csv wine.csv" in line and "3 fc" in line for line in out.splitlines())
    assert list_runs() == list_runs()  # the second listing, from the about index, says the same


def test_a_settled_runs_words_are_read_back_from_the_about_index(tmp_path: Path) -> None:
    import json
    import os

    from workbench.paths import runs_dir
    from workbench.runs.about import ABOUT_INDEX_NAME

    run = create_run(load_experiment("digits-mlp", on_csv(write_csv(tmp_path / "wine.csv"))))
    past = 1_700_000_000
    os.utime(run.config_path, (past, past))  # an old run's config
    first = list_runs()
    entries = json.loads((runs_dir() / ABOUT_INDEX_NAME).read_text())["runs"]
    assert entries[run.id]["about"] == {"data": "csv wine.csv", "model": "3 fc"}
    assert list_runs() == first
