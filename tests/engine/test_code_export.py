"""A model of the user's own class taken out of Workbench (issue 27): every export format agrees
with the engine, the script carries the user's source and runs alone (``python model.py``), and
``workbench predict`` and ``workbench lr-find`` work with it."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.engine.code_export import source_literal
from workbench.engine.model_export import export_checkpoint
from workbench.runs.folder import RunDir

#: Each test here trains or exports a model of the user's class, which is run once in a child
#: process (importing torch) before it is built: the slow suite (issue 26's rule for processes).
pytestmark = pytest.mark.slow

#: The tutorial's Net for 8x8 digits, with a package of the user's it imports, a future import and a
#: training block under the main guard, which an export must not run.
NETS = '''"""The tutorial's Net."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from parts.sizes import HIDDEN


class Net(nn.Module):
    def __init__(self, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 2 * 2, hidden)
        self.fc2 = nn.Linear(hidden, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


if __name__ == "__main__":
    raise SystemExit("the training block of nets.py ran")
'''
EXPERIMENT = """name = "my-net"
[data]
dataset = "digits"
batch_size = 32
subset = 200
[model]
code = "nets.py:Net"
[model.args]
hidden = 48
[optimizer]
name = "adam"
lr = 0.003
[train]
epochs = 1
"""
EXTENSIONS = {"onnx": ".onnx", "pt2": ".pt2", "safetensors": ".safetensors", "script": ".py"}
EXPORTS = list(EXTENSIONS)


@pytest.fixture(scope="module")
def code_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunDir, Path]:
    """A tutorial Net from the user's folder, trained one epoch in a home of its own; (the run,
    the user's folder)."""
    from workbench.engine.trainer import Trainer
    from workbench.experiment.presets import load_experiment
    from workbench.runs.store import find_run

    folder = tmp_path_factory.mktemp("my-code")
    (folder / "nets.py").write_text(NETS)
    (folder / "parts").mkdir()
    (folder / "parts" / "__init__.py").write_text("")
    (folder / "parts" / "sizes.py").write_text("HIDDEN = 120\n")
    (folder / "exp.toml").write_text(EXPERIMENT)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(tmp_path_factory.mktemp("code-home")))
        Trainer(load_experiment(str(folder / "exp.toml"))).run()
        return find_run("latest"), folder


@pytest.fixture
def in_its_home(code_run: tuple[RunDir, Path], monkeypatch: pytest.MonkeyPatch) -> RunDir:
    monkeypatch.setenv("WORKBENCH_HOME", str(code_run[0].path.parents[2]))
    return code_run[0]


@pytest.mark.parametrize("fmt", EXPORTS)
def test_each_export_of_a_code_model_predicts_the_test_split_as_the_engine_does(
    in_its_home: RunDir, tmp_path: Path, fmt: str
) -> None:
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnxscript")
    if fmt == "safetensors":
        pytest.importorskip("safetensors")
    result = export_checkpoint(in_its_home.best_checkpoint, fmt, tmp_path / f"model{EXTENSIONS[fmt]}")
    assert result.samples == result.same_predictions == 359
    assert result.max_abs_diff <= 1e-5


def test_the_script_export_carries_the_users_modules_and_runs_alone(
    in_its_home: RunDir, code_run: tuple[RunDir, Path], tmp_path: Path
) -> None:
    """`python model.py` in another folder, the user's folder gone: the script brings nets.py and
    the package parts/ it imports, builds Net(hidden=48) and loads the weights; nets.py's
    training block does not run."""
    out = tmp_path / "export" / "model.py"
    result = export_checkpoint(in_its_home.best_checkpoint, "script", out)
    assert [f.name for f in result.files] == ["model.py", "model.pt"]
    text = out.read_text()
    assert "class Net(nn.Module):" in text and "HIDDEN = 120" in text and "ARGS = {'hidden': 48}" in text
    folder = code_run[1]
    hidden = folder.with_name(folder.name + "-away")
    folder.rename(hidden)
    try:
        done = subprocess.run([sys.executable, "-I", str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        check = (
            "import runpy, sys, torch; ns = runpy.run_path(sys.argv[1]); model = ns['load']();"
            "x = ns['preprocess'](torch.zeros(2, 1, 8, 8, dtype=torch.uint8));"
            "print(tuple(model(x).shape), model.fc1.out_features, 'workbench' in sys.modules)"
        )
        checked = subprocess.run(
            [sys.executable, "-I", "-c", check, str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    finally:
        hidden.rename(folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "torch.Size([1, 10])"
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "(2, 10) 48 False"


def test_the_script_carries_the_code_the_run_trained_with_not_the_edited_original(
    in_its_home: RunDir, code_run: tuple[RunDir, Path], tmp_path: Path
) -> None:
    nets = code_run[1] / "nets.py"
    original = nets.read_text()
    nets.write_text(original + "\nraise RuntimeError('nets.py was edited after training')\n")
    try:
        result = export_checkpoint(in_its_home.best_checkpoint, "script", tmp_path / "model.py")
    finally:
        nets.write_text(original)
    assert "edited after training" not in result.files[0].read_text()
    assert result.max_abs_diff == 0.0


#: A residual block of the user's, as one layer of a layer list.
BLOCK = """import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.conv(x))
"""
LAYERS = """name = "with-a-block"
[data]
dataset = "digits"
subset = 200
[[model.layers]]
type = "Conv2d"
out_channels = 8
kernel_size = 3
padding = 1
[[model.layers]]
type = "Code"
code = "block.py:Block"
args = { channels = 8 }
[[model.layers]]
type = "Flatten"
[[model.layers]]
type = "Linear"
out_features = "auto"
[train]
epochs = 1
"""


@pytest.fixture(scope="module")
def block_run(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    """A layer list with a Code layer (the user's Block between catalog layers), trained one epoch."""
    from workbench.engine.trainer import Trainer
    from workbench.experiment.presets import load_experiment
    from workbench.runs.store import find_run

    folder = tmp_path_factory.mktemp("my-block")
    (folder / "block.py").write_text(BLOCK)
    (folder / "exp.toml").write_text(LAYERS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(tmp_path_factory.mktemp("block-home")))
        Trainer(load_experiment(str(folder / "exp.toml"))).run()
        return find_run("latest")


@pytest.mark.parametrize("fmt", EXPORTS)
def test_each_export_of_a_layer_list_with_a_code_layer_agrees_with_the_engine(
    block_run: RunDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """The script carries block.py too: the fresh interpreter that checks it has no path to it."""
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnxscript")
    if fmt == "safetensors":
        pytest.importorskip("safetensors")
    monkeypatch.setenv("WORKBENCH_HOME", str(block_run.path.parents[2]))
    result = export_checkpoint(block_run.best_checkpoint, fmt, tmp_path / f"model{EXTENSIONS[fmt]}")
    assert result.samples == result.same_predictions == 359
    assert result.max_abs_diff <= 1e-5
    if fmt == "script":
        assert "class Block(nn.Module):" in result.files[0].read_text()


@pytest.mark.parametrize(
    "source",
    [
        NETS,
        "x = '''quoted'''\n",
        "path = 'C:\\\\'\ntext = r'\\d+'\n",
        "ends with a quote = '",
        "line continues \\",
        "windows\r\nline ends\r\n",
        "",
    ],
)
def test_a_users_source_is_carried_exactly_whatever_it_holds(source: str) -> None:
    literal = source_literal(source)
    assert ast.literal_eval(literal) == source
    if source == NETS:  # the common case reads like the file
        assert literal.startswith("r'''") and "class Net(nn.Module):\n" in literal


def test_predict_answers_with_a_code_models_classes(in_its_home: RunDir, tmp_path: Path, capsys) -> None:
    from PIL import Image

    picture = tmp_path / "digit.png"
    Image.new("L", (8, 8), 0).save(picture)
    status = main(["predict", "latest", str(picture), "--json"])
    out = capsys.readouterr().out
    assert status == 0
    (prediction,) = json.loads(out)["predictions"]
    assert prediction["source"].endswith("digit.png") and len(prediction["top"]) == 3
    assert {entry["class"] for entry in prediction["top"]} <= {str(d) for d in range(10)}


def test_lr_find_ramps_a_code_model(code_run: tuple[RunDir, Path], capsys) -> None:
    status = main(["lr-find", str(code_run[1] / "exp.toml"), "--steps", "20", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert status == 0
    assert result["taken"] >= 3 and all(loss == loss for loss in result["losses"][:3])
