"""The presets that mirror the tutorials' own classes (issue 27, item 7): my-dataset's MyDataset
over its shipped text files and pictures, the tutorial's Net in tutorial-net and its named
blocks in tutorial-net-blocks, each trained as shipped from any working folder."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scripts.make_my_dataset import write
from workbench.data.registry import describe
from workbench.engine.trainer import Trainer
from workbench.experiment.presets import load_experiment, shipped_presets_dir
from workbench.model.shapes import analyse_model

README = Path(__file__).resolve().parents[1] / "README.md"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix in (".png", ".txt")
    }


def test_the_shipped_example_pictures_and_lists_are_what_the_script_writes(tmp_path: Path) -> None:
    write(tmp_path)
    written, shipped = _files(tmp_path), _files(shipped_presets_dir() / "my-dataset")
    assert written.keys() == shipped.keys()
    assert all(written[name] == shipped[name] for name in written), "run: python -m scripts.make_my_dataset"
    assert 40 <= sum(name.endswith(".png") for name in shipped) <= 100  # tens of small pictures
    assert sum(map(len, shipped.values())) < 20_000


@pytest.mark.slow  # trains
def test_the_my_dataset_preset_trains_its_own_dataset_class_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the class, its text files and pictures are found from the preset's folder
    experiment = load_experiment("my-dataset")
    assert Path(experiment.data.options["args"]["file"]).is_absolute()
    finished = Trainer(experiment).run()
    assert finished.state == "finished"
    assert finished.test["acc"] >= 0.8  # 20 test pictures; 0.95 when written


@pytest.mark.slow  # trains the preset as shipped
def test_preset_bar_tutorial_net_reaches_95_percent_test_accuracy_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    finished = Trainer(load_experiment("tutorial-net")).run()
    assert finished.state == "finished"
    assert finished.test["acc"] >= 0.95  # 0.964 when written


@pytest.mark.slow  # runs the tutorial's class once in a child process
def test_the_blocks_preset_shows_the_names_the_tutorial_gave() -> None:
    """The named OrderedDict blocks are the model's rows, as conv.conv1 ... dense.dense3, and
    model.args reaches the class (hidden = 120 is the first dense layer's width)."""
    experiment = load_experiment("tutorial-net-blocks", ["model.args.hidden=32"])
    info = describe(experiment.data)
    analysis = analyse_model(experiment.model, info.input_shape, info.num_outputs)
    rows = {row.name: row for row in analysis.layers}
    weighted = [row.name for row in analysis.layers if row.num_params]
    assert weighted == ["conv.conv1", "conv.conv2", "dense.dense1", "dense.dense2", "dense.dense3"]
    assert rows["dense.dense1"].output_shape == (32,) and rows["dense.dense3"].output_shape == (10,)


@pytest.mark.parametrize(
    ("block", "file", "name"), [(0, "tutorial-net/nets.py", "Net"), (1, "my-dataset/mydata.py", "MyDataset")]
)
def test_the_readmes_classes_are_the_shipped_presets(block: int, file: str, name: str) -> None:
    """README "Your own code" shows the presets' own classes, so what it says stays true of them."""
    section = README.read_text(encoding="utf-8").split("## Your own code\n", 1)[1].split("\n## ", 1)[0]
    shown = section.split("```python\n")[block + 1].split("```", 1)[0]
    shipped = (shipped_presets_dir() / file).read_text(encoding="utf-8")
    assert _class(shown, name) == _class(shipped, name)


def _class(source: str, name: str) -> str:
    (node,) = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == name]
    return ast.dump(node)


@pytest.mark.slow  # trains
def test_the_readmes_experiment_file_trains_the_tutorial_net_beside_it(tmp_path: Path) -> None:
    section = README.read_text(encoding="utf-8").split("## Your own code\n", 1)[1]
    (tmp_path / "exp.toml").write_text(section.split("```toml\n", 1)[1].split("```", 1)[0])
    (tmp_path / "nets.py").write_bytes((shipped_presets_dir() / "tutorial-net" / "nets.py").read_bytes())
    finished = Trainer(load_experiment(str(tmp_path / "exp.toml"), ["train.epochs=2"])).run()
    assert finished.state == "finished" and finished.test["acc"] > 0.5
