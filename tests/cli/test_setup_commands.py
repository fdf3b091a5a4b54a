"""`workbench presets` and `workbench describe`, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.experiment.presets import read_experiment, save_user_preset
from workbench.schema import config as config_io

REQUIRED_PRESETS = {
    "digits-cnn",
    "digits-mlp",
    "spirals-mlp",
    "diabetes-regression",
    "mnist-mlp",
    "mnist-lenet5",
    "fashion-mnist-lenet5",
    "cifar10-tutorial",
    "cifar10-resnet",
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_presets_lists_every_shipped_preset_with_its_size(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "presets", "--json")
    assert status == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert REQUIRED_PRESETS <= set(rows)
    assert all(not row["error"] for row in rows.values()), [r["error"] for r in rows.values() if r["error"]]
    assert rows["mnist-lenet5"]["params"] == 61_706
    assert rows["digits-cnn"]["availability"] == "offline"
    assert rows["mnist-lenet5"]["availability"].startswith("download")
    # A preset for the user's own pictures is not broken: it waits for the folder they are in.
    assert rows["image-folder-finetune"]["availability"] == "your files"


def test_presets_lists_the_users_code_without_running_it_on_a_new_machine(capsys: pytest.CaptureFixture[str]) -> None:
    """A fresh home has no answers cached: the listing starts no child (seconds of torch import
    each), says "your code" where only running it would tell, and breaks nothing."""
    status, out, _ = run(capsys, "presets", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert status == 0
    assert rows["my-dataset"]["availability"] == "your code" and not rows["my-dataset"]["error"]
    assert rows["tutorial-net"]["params"] is None and not rows["tutorial-net"]["error"]
    assert rows["tutorial-net"]["availability"] == "offline"  # its data set is the catalog's


def test_presets_table_shows_names_and_default_first(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")  # wide enough for every column and exact counts
    status, out, _ = run(capsys, "presets")
    assert status == 0
    assert out.index("digits-cnn") < out.index("cifar10-resnet")
    assert "61,706" in out and "10 classes" in out


def test_presets_fit_80_columns_one_line_each_without_cutting_a_word(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    status, out, _ = run(capsys, "presets")
    lines = out.rstrip("\n").splitlines()
    assert status == 0 and max(len(line.rstrip()) for line in lines) <= 80
    assert "…" not in out
    assert len(lines) == 2 + len(json.loads(run(capsys, "presets", "--json")[1]))  # heading, rule, a line per preset
    cifar_resnet = next(line for line in lines if line.startswith("cifar10-resnet "))
    assert "1 conv + 4 res + 1 fc" in cifar_resnet and "4.9M" in cifar_resnet
    assert "resnet18" in next(line for line in lines if line.startswith("cifar10-finetune "))


def test_a_user_preset_shadows_the_shipped_one_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    mine = read_experiment("digits-mlp")
    mine.train.epochs = 2
    save_user_preset(mine, "digits-mlp")
    status, out, _ = run(capsys, "presets", "--json")
    row = next(r for r in json.loads(out) if r["name"] == "digits-mlp")
    assert (row["source"], row["shadows"]) == ("user", True)
    assert read_experiment("digits-mlp").train.epochs == 2


@pytest.mark.parametrize(("preset", "params"), [("mnist-lenet5", "61,706"), ("cifar10-tutorial", "62,006")])
def test_describe_reports_the_classic_parameter_counts(capsys: pytest.CaptureFixture[str], preset: str, params: str) -> None:
    status, out, _ = run(capsys, "describe", preset)
    assert status == 0
    assert f"Total params: {params}" in out


def test_describe_shows_each_layers_output_shape(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "describe", "mnist-lenet5", "--json")
    facts = json.loads(out)
    shapes = [tuple(layer["output_shape"]) for layer in facts["model"]["layers"]]
    assert shapes[:3] == [(6, 28, 28), (6, 28, 28), (6, 14, 14)]
    assert (16, 5, 5) in shapes and shapes[-1] == (10,)
    assert [layer["name"] for layer in facts["model"]["layers"]][:3] == ["conv1", "relu1", "pool1"]


def test_describe_applies_overrides_and_previews_the_lr_per_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "describe", "digits-mlp", "--json", "--set", "optimizer.lr=0.5", "--set", "train.epochs=3")
    assert status == 0
    facts = json.loads(out)
    assert facts["optimizer"]["lr"] == 0.5
    assert facts["train"]["epochs"] == 3
    assert len(facts["schedule"]["lr_at_epochs"]) == 4
    assert facts["schedule"]["lr_at_epochs"][0] == pytest.approx(0.5)


def test_describe_of_an_impossible_stack_exits_2_naming_the_layer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[data]\ndataset = "digits"\n'
        '[[model.layers]]\ntype = "Conv2d"\nout_channels = 4\nkernel_size = 9\n'
        '[[model.layers]]\ntype = "Flatten"\n'
        '[[model.layers]]\ntype = "Linear"\nout_features = "auto"\n'
    )
    status, out, err = run(capsys, "describe", str(path))
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "model.layers.0" in lines[0] and "conv1" in lines[0]


def test_describe_of_malformed_toml_exits_2_naming_the_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text("[train]\nepochs = 3\nseed = \n")
    status, _, err = run(capsys, "describe", str(path))
    assert status == 2
    assert "typo.toml" in err and "line 3" in err


def test_describe_of_an_unknown_preset_lists_the_presets(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "describe", "mnist-lenet")
    assert status == 2
    assert "mnist-lenet5" in err


def test_names_descriptions_and_errors_holding_markup_print_as_themselves(capsys, tmp_path) -> None:
    """ "[/]" in a description crashed `describe` with a rich MarkupError traceback, and in an error
    message crashed the error line itself."""
    experiment = read_experiment("digits-mlp")
    experiment.name, experiment.description = "ev[/]il", "a [/] b [bold]c"
    path = tmp_path / "odd.toml"
    config_io.write(experiment, path)
    status, out, _ = run(capsys, "describe", str(path))
    assert status == 0 and "ev[/]il  a [/] b [bold]c" in out
    status, _, err = run(capsys, "describe", str(path), "--set", "data.dataset=[/]nope")
    assert status == 2 and "unknown dataset '[/]nope'" in err and len(err.strip().splitlines()) == 1


def test_describe_with_a_csv_names_the_file_and_does_not_call_it_bundled(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    wine = tmp_path / "wine.csv"
    wine.write_text("alcohol,hue,kind\n" + "".join(f"{i % 7}.5,{i % 3}.25,k{i % 3}\n" for i in range(60)))
    status, out, _ = run(capsys, "describe", "digits-mlp", "--set", 'data.dataset="csv"', "--set", f'data.options.path="{wine}"')
    source = next(line for line in out.splitlines() if line.strip().startswith("source"))
    assert status == 0 and "bundled" not in out
    assert str(wine) in source, source


@pytest.mark.slow  # its Dataset class runs once in a child that imports torch
def test_describe_of_a_dataset_class_of_ones_own_names_its_file_and_does_not_call_it_bundled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "describe", "my-dataset")
    source = next(line for line in out.splitlines() if line.strip().startswith("source"))
    assert status == 0 and "bundled" not in out
    assert source.rstrip().endswith("my-dataset/mydata.py"), source
