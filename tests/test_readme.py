"""The README's key table lists every key of the app, so the documentation cannot fall behind
the bindings (the same bindings make the footer, the help screen and the palette)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from textual.binding import Binding

from workbench.tui.app import WorkbenchApp
from workbench.tui.runs.compare import CompareScreen
from workbench.tui.runs.evaluation import EvaluationScreen
from workbench.tui.runs.inside import InsideScreen
from workbench.tui.screens.help import display_key

README = Path(__file__).resolve().parents[1] / "README.md"
#: The README table's row for each set of keys.
ROWS = {"app": "everywhere", "data": "1 Data", "model": "2 Model", "optimize": "3 Optimize", "train": "4 Train", "runs": "5 Runs"}


def _rows() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    return {m.group(1).strip(): m.group(2) for m in re.finditer(r"^\| ([^|]+) \| (.+) \|$", text, flags=re.M)}


def _bindings() -> list[tuple[str, Binding]]:
    app = WorkbenchApp.__new__(WorkbenchApp)  # the class's bindings; nothing is started
    found = [("everywhere", b) for b in WorkbenchApp.BINDINGS if not b.action.startswith("show(")]
    for mode, row in ROWS.items():
        if mode != "app":
            found += [(row, b) for b in WorkbenchApp.screen_bindings(app, mode)]
    found += [("compare", b) for b in CompareScreen.BINDINGS]
    found += [("evaluation", b) for b in EvaluationScreen.BINDINGS]
    found += [("inside", b) for b in InsideScreen.BINDINGS]
    return [(row, b) for row, b in found if b.action != "leave_field"]


@pytest.mark.parametrize(("row", "binding"), _bindings(), ids=lambda x: x if isinstance(x, str) else x.key)
def test_every_key_is_in_the_readme(row: str, binding: Binding) -> None:
    line = _rows()[row]
    key = display_key(binding.key.split(",")[0])
    # `x` in backticks, or a named key (enter, ctrl+s) standing as a word
    shown = f"`{key}`" in line or re.search(rf"(?<![\w+]){re.escape(key)}(?![\w+])", line) and len(key) > 1
    assert shown, f"README row {row!r} lacks {key!r} ({binding.description})"


def _readme_block(heading: str) -> str:
    """The first fenced Python block under the README's ``heading``."""
    section = README.read_text(encoding="utf-8").split(heading, 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readmes_ten_lines_use_a_checkpoint_in_plain_pytorch_as_workbench_does(tmp_path: Path, monkeypatch) -> None:
    """The README's lines, run as written (the checkpoint's path put in), with the code view's
    source as model.py: the outputs are Workbench's own for the same stored samples."""
    import torch

    from tests.engine.test_trainer import train
    from workbench.engine.restore import restore_model
    from workbench.experiment.presets import load_experiment
    from workbench.model.codegen import model_source
    from workbench.model.shapes import analyse

    lines = _readme_block("### A checkpoint in plain PyTorch")
    assert len([line for line in lines.splitlines() if line.strip()]) <= 10
    finished, _ = train(load_experiment("digits-cnn", ["data.subset=200", "train.epochs=1"]))
    restored = restore_model(Path(finished.checkpoint), device="cpu")
    info = restored.parts.splits.info
    analysis = analyse(restored.config.model.layers, info.input_shape, info.num_outputs)
    (tmp_path / "model.py").write_text(model_source(analysis), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    namespace: dict = {}
    monkeypatch.delitem(sys.modules, "model", raising=False)  # imported afresh, and forgotten after
    exec(lines.replace("runs/RUN/checkpoints/best.pt", finished.checkpoint), namespace)
    monkeypatch.delitem(sys.modules, "model")
    stored = torch.randint(0, 256, (5, *info.input_shape), dtype=torch.uint8)
    inputs = namespace["inputs"]
    with torch.no_grad():
        theirs = namespace["model"](namespace["preprocess"](stored, inputs["mean"], inputs["std"]))
        ours = restored.module(restored.parts.splits.normaliser(stored))
    torch.testing.assert_close(theirs, ours, rtol=1e-5, atol=1e-5)
