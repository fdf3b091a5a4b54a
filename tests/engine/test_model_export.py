"""A trained digits-cnn taken out: every format, read back by its own runtime here, predicts the
test split as the engine does; refusals are one line."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from torch import nn

from workbench.atomic import TEMP_PREFIX
from workbench.cli import main
from workbench.engine.evaluate import evaluate_checkpoint
from workbench.engine.model_export import INSTALL_HINT, ExportError, export_checkpoint, trace
from workbench.engine.restore import restore_model
from workbench.runs.folder import RunDir


@pytest.fixture
def in_its_home(trained_digits: RunDir, monkeypatch: pytest.MonkeyPatch) -> RunDir:
    monkeypatch.setenv("WORKBENCH_HOME", str(trained_digits.path.parents[2]))
    return trained_digits


@pytest.fixture(scope="module")
def engine_answers(trained_digits: RunDir) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """The whole test split as the model takes it, its targets, the engine's outputs for it and
    the accuracy ``workbench eval`` reports."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(trained_digits.path.parents[2]))
        restored = restore_model(trained_digits.best_checkpoint, device="cpu")
        accuracy = evaluate_checkpoint(trained_digits.best_checkpoint).metrics["acc"]
    batches = list(restored.parts.splits.test.epoch(0))
    inputs = torch.cat([x for x, _ in batches])
    with torch.inference_mode():
        return inputs, torch.cat([t for _, t in batches]), restored.module(inputs), accuracy


def _run_onnx(files: list[Path], inputs: torch.Tensor) -> torch.Tensor:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(files[0]), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {"input": inputs.numpy()})[0])


def _run_pt2(files: list[Path], inputs: torch.Tensor) -> torch.Tensor:
    return torch.export.load(files[0]).module()(inputs)


def _run_safetensors(files: list[Path], inputs: torch.Tensor) -> torch.Tensor:
    from safetensors.torch import load_file

    # The script export's own model definition, with the safetensors weights: they fit it by name.
    model = runpy.run_path(str(files[0].with_name("for-safetensors.py")))["model"]
    model.load_state_dict(load_file(files[0]))
    return model.eval()(inputs)


def _run_script(files: list[Path], inputs: torch.Tensor) -> torch.Tensor:
    return runpy.run_path(str(files[0]))["load"]()(inputs)


RUNTIMES = {"onnx": _run_onnx, "pt2": _run_pt2, "safetensors": _run_safetensors, "script": _run_script}
EXTENSIONS = {"onnx": ".onnx", "pt2": ".pt2", "safetensors": ".safetensors", "script": ".py"}


# onnx's exporter is slow, and the script's check starts a fresh interpreter: both slow.
@pytest.mark.parametrize(
    "fmt", [pytest.param("onnx", marks=pytest.mark.slow), "pt2", "safetensors", pytest.param("script", marks=pytest.mark.slow)]
)
def test_each_export_of_digits_cnn_predicts_the_test_split_as_the_engine_does(
    in_its_home: RunDir, engine_answers, tmp_path: Path, fmt: str
) -> None:
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnxscript")
    if fmt == "safetensors":
        pytest.importorskip("safetensors")
        export_checkpoint(in_its_home.best_checkpoint, "script", tmp_path / "for-safetensors.py")
    result = export_checkpoint(in_its_home.best_checkpoint, fmt, tmp_path / f"model{EXTENSIONS[fmt]}")
    assert result.samples == result.same_predictions == 359 and result.max_abs_diff <= 1e-5
    inputs, targets, expected, accuracy = engine_answers
    with torch.inference_mode():
        actual = RUNTIMES[fmt](list(result.files), inputs)
    assert (actual - expected).abs().max() <= 1e-5
    assert torch.equal(actual.argmax(1), expected.argmax(1))
    assert (actual.argmax(1) == targets).float().mean().item() == pytest.approx(accuracy)
    # Other batch sizes than the example's: the batch dimension is dynamic.
    with torch.inference_mode():
        assert torch.allclose(RUNTIMES[fmt](list(result.files), inputs[:1]), expected[:1], atol=1e-5)
    assert not list(tmp_path.glob(TEMP_PREFIX + "*"))


@pytest.mark.slow
def test_the_script_export_runs_alone_with_only_torch(in_its_home: RunDir, tmp_path: Path) -> None:
    """`python -I` in another folder: no Workbench on the path, only the two files written."""
    result = export_checkpoint(in_its_home.best_checkpoint, "script", tmp_path / "digits.py")
    assert [f.name for f in result.files] == ["digits.py", "digits.pt"]
    check = (
        "import runpy, sys, torch; ns = runpy.run_path('digits.py'); model = ns['load']();"
        "x = ns['preprocess'](torch.zeros(2, *ns['INPUT_SHAPE'], dtype=torch.uint8));"
        "print(tuple(model(x).shape), ns['CLASS_NAMES'][:3], 'workbench' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-I", "-c", check], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(2, 10) ['0', '1', '2'] False"


def test_the_export_carries_what_feeding_it_takes(in_its_home: RunDir, tmp_path: Path) -> None:
    pytest.importorskip("safetensors")
    from safetensors import safe_open

    result = export_checkpoint(in_its_home.best_checkpoint, "safetensors", tmp_path / "w.safetensors")
    with safe_open(str(result.files[0]), "pt") as handle:
        metadata = json.loads(handle.metadata()["workbench"])
    restored = restore_model(in_its_home.best_checkpoint, device="cpu")
    assert metadata["input_shape"] == [1, 8, 8] and metadata["class_names"] == [str(d) for d in range(10)]
    assert metadata["mean"] == restored.parts.splits.normaliser.mean.flatten().tolist()
    assert metadata["run_id"] == in_its_home.id and metadata["checkpoint"] == "best"


class _DecidesOnItsData(nn.Module):
    """Python control flow on a tensor's value: what torch.export cannot trace."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if x.sum() > 0 else -x


def test_a_model_torch_cannot_trace_is_refused_naming_the_layer() -> None:
    model = nn.Sequential(OrderedDict([("fc1", nn.Linear(4, 4)), ("gate1", _DecidesOnItsData()), ("fc2", nn.Linear(4, 2))]))
    with pytest.raises(ExportError, match=r"^torch cannot trace the model: layer gate1 \(_DecidesOnItsData\): ") as caught:
        trace(model.eval(), torch.randn(3, 4))
    assert "\n" not in str(caught.value)


# ----------------------------------------------------------------------------- the command


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.slow  # the script's check starts a fresh interpreter
def test_export_format_writes_into_the_runs_folder_and_reports_the_check(in_its_home: RunDir, capsys) -> None:
    status, out, err = _cli(capsys, "export", "latest", "--format", "pt2", "--checkpoint", "epoch-1")
    written = in_its_home.export_dir / "epoch-001.pt2"
    assert (status, err) == (0, "") and written.is_file()
    first, second = out.splitlines()
    assert first.startswith(f"wrote {in_its_home.id} (epoch-001) as pt2 to {written} in ")
    assert second.startswith("checked on 359 test samples: max abs difference from the model ")
    assert second.endswith(", the same predicted class for 359 of 359")
    status, out, _ = _cli(capsys, "export", "latest", "--format", "script", "--json")
    report = json.loads(out)
    assert status == 0 and report["files"] == [str(in_its_home.export_dir / f"best.{ext}") for ext in ("py", "pt")]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--format", "pt2", "--steps"), "error: export: --steps is for the metrics; drop it or --format"),
        (("--format", "pt2", "--tensorboard"), "error: export: --tensorboard is for the metrics"),
        (("--checkpoint", "best"), "error: export: --checkpoint is for the model formats; add --format"),
        (("--format", "pt2", "--checkpoint", "9"), "error: run "),
        (("--format", "script", "--out", "model.pt"), "error: --out "),
    ],
)
def test_export_option_mistakes_are_one_line(in_its_home: RunDir, capsys, argv: tuple[str, ...], message: str) -> None:
    status, out, err = _cli(capsys, "export", "latest", *argv)
    assert status == 1 and out == "" and err.startswith(message) and err.count("\n") == 1


@pytest.mark.parametrize(("fmt", "module"), [("onnx", "onnxruntime"), ("onnx", "onnxscript"), ("safetensors", "safetensors")])
def test_a_format_whose_extra_is_missing_names_the_extra_in_one_line(
    in_its_home: RunDir, capsys, monkeypatch, fmt: str, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # cannot be imported, installed or not
    status, out, err = _cli(capsys, "export", "latest", "--format", fmt)
    assert status == 1 and out == "" and err.count("\n") == 1
    assert err == f"error: --format {fmt} needs the {module} package, in the export extra: {INSTALL_HINT}\n"
    assert not (in_its_home.export_dir / f"best.{fmt}").exists()


# Each trains first-marker-gru first: one format in the quick suite, the others slow.
@pytest.mark.parametrize(
    "fmt", [pytest.param("pt2", marks=pytest.mark.slow), "safetensors", pytest.param("script", marks=pytest.mark.slow)]
)
def test_a_model_of_token_ids_exports_and_checks_with_whole_number_inputs(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """first-marker-gru reads token ids through an Embedding: the check feeds it ids, not floats."""
    from workbench.engine.trainer import Trainer
    from workbench.experiment.presets import load_experiment

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    run = Trainer(load_experiment("first-marker-gru", ["train.epochs=1", "data.subset=200"])).run()
    out = tmp_path / ("model.py" if fmt == "script" else f"model.{fmt}")
    result = export_checkpoint(Path(run.checkpoint), fmt, out)
    assert result.same_predictions == result.samples > 0 and result.max_abs_diff <= 1e-5
