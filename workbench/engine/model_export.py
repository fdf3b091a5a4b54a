"""A trained model taken out of Workbench: ONNX, a torch.export program, safetensors weights, or
plain PyTorch source with its weights; each file checked against the model it came from.

Every export is of the plain model on the CPU in float32, taking a batch of inputs standardised
as in training (the file's metadata carries the mean and standard deviation, the classes and
the input shape) and returning the model's raw outputs (logits for classification). The batch
dimension is dynamic. After writing, the file is read back the way its users will read it
(onnxruntime, ``torch.export.load``, ``safetensors.torch.load_file`` into a rebuilt model, the
generated source run by a fresh interpreter in an empty folder) and run on samples of the test
split; the largest absolute difference from the model in Workbench is reported, and an export
that disagrees is refused in one line. Files are written atomically.
"""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from workbench import __version__
from workbench.atomic import atomic_write_bytes
from workbench.engine.code_export import carried_code, code_model_source
from workbench.engine.restore import RestoredModel, restore_model
from workbench.errors import WorkbenchError
from workbench.model.build import build_model
from workbench.model.codegen import input_source, model_source
from workbench.model.shapes import analyse_model
from workbench.usercode.copies import code_refs

#: Model formats, with the file extension each is written with.
FORMATS = {"onnx": ".onnx", "pt2": ".pt2", "safetensors": ".safetensors", "script": ".py"}
#: The modules each format needs beyond torch, all in the ``export`` extra.
EXTRA_MODULES = {"onnx": ("onnx", "onnxscript", "onnxruntime"), "safetensors": ("safetensors",)}
INSTALL_HINT = 'pip install "workbench[export]"'
#: Test samples an export is checked on (digits' whole test split; a bounded cost on large sets).
CHECK_SAMPLES = 512
#: An export whose outputs differ from the model's by more than this (relative to the outputs'
#: size) is refused: float32 kernels of different runtimes agree far closer than this.
TOLERANCE = 1e-4


class ExportError(WorkbenchError):
    """A model cannot be exported or its export does not agree with it."""


@dataclass(frozen=True)
class ExportResult:
    format: str
    files: tuple[Path, ...]  # the model file first; the script's weights after it
    samples: int  # test samples the export was checked on
    max_abs_diff: float  # largest |export - model| over those samples' outputs
    same_predictions: int | None  # classification: samples whose predicted class agrees
    export_s: float
    check_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "files": [str(f) for f in self.files],
            "samples": self.samples,
            "max_abs_diff": self.max_abs_diff,
            "same_predictions": self.same_predictions,
            "export_s": self.export_s,
            "check_s": self.check_s,
        }


def require_extra(fmt: str) -> None:
    """One line naming the extra when a format's modules are missing; before any work is done."""
    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt}: not a model format; use one of {', '.join(FORMATS)}")
    for name in EXTRA_MODULES.get(fmt, ()):
        try:
            importlib.import_module(name)
        except ImportError:
            raise ExportError(f"--format {fmt} needs the {name} package, in the export extra: {INSTALL_HINT}") from None


def export_checkpoint(checkpoint: Path, fmt: str, out: Path, *, check_samples: int = CHECK_SAMPLES) -> ExportResult:
    """Export the model of ``checkpoint`` as ``fmt`` to ``out`` and check it on the test split."""
    require_extra(fmt)
    if fmt == "script" and out.suffix != ".py":  # its weights go beside it, named like it, as .pt
        raise ExportError(f"--out {out}: the script is Python source; name it .py (its weights go beside it as .pt)")
    restored = restore_model(checkpoint, device="cpu")
    inputs = check_inputs(restored, check_samples)
    return export_model(restored, fmt, out, inputs)


def check_inputs(restored: RestoredModel, count: int) -> Tensor:
    """The first ``count`` samples of the test split, standardised as the model sees them."""
    taken: list[Tensor] = []
    total = 0
    for batch, _ in restored.parts.splits.test.epoch(0):
        taken.append(batch[: count - total])
        total += len(taken[-1])
        if total >= count:
            break
    inputs = torch.cat(taken).cpu()
    return inputs.float() if inputs.is_floating_point() else inputs  # token ids stay whole numbers


def export_model(restored: RestoredModel, fmt: str, out: Path, inputs: Tensor) -> ExportResult:
    """Write ``restored``'s model as ``fmt`` to ``out``, then run the file on ``inputs``."""
    module = restored.module.cpu().float().eval()
    with torch.inference_mode():
        expected = module(inputs)
    metadata = export_metadata(restored)
    started = time.perf_counter()
    files = _WRITERS[fmt](restored, module, inputs, out, metadata)
    exported = time.perf_counter()
    actual = _RUNNERS[fmt](restored, files, inputs)
    checked = time.perf_counter()
    return _compare(fmt, files, expected, actual, exported - started, checked - exported)


def export_metadata(restored: RestoredModel) -> dict[str, Any]:
    """What a user of the file needs to feed it: the input, its standardisation, the classes."""
    info = restored.parts.splits.info
    normaliser = restored.parts.splits.normaliser
    return {
        "exported_by": f"workbench {__version__}",
        "run_id": restored.run_id,
        "checkpoint": restored.path.stem,
        "epoch": restored.epoch,
        "dataset": info.name,
        "task": info.task,
        "input_shape": list(info.input_shape),
        "input": "float32 (batch, *input_shape): x as stored (0..255 for images), then (x - mean) / std",
        "mean": normaliser.mean.flatten().tolist(),
        "std": normaliser.std.flatten().tolist(),
        "class_names": list(info.class_names),
        "output": "logits, one per class" if info.task == "classification" else "targets, standardised",
    }


# ----------------------------------------------------------------------------- tracing


def trace(module: nn.Module, inputs: Tensor) -> torch.export.ExportedProgram:
    """``torch.export`` of the model with a dynamic batch; a failure names the first layer that
    cannot be traced."""
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    try:
        return torch.export.export(module, (inputs,), dynamic_shapes=({0: batch},))
    except Exception as error:  # noqa: BLE001 - torch raises many kinds; each becomes one line
        raise ExportError(f"torch cannot trace the model: {_untraceable_layer(module, inputs) or _first_line(error)}") from None


def _untraceable_layer(module: nn.Module, inputs: Tensor) -> str | None:
    """The first top-level layer that torch.export refuses on the input it gets, and why."""
    if not isinstance(module, nn.Sequential):
        return None
    x = inputs
    for name, layer in module.named_children():
        try:
            torch.export.export(layer, (x,))
        except Exception as error:  # noqa: BLE001 - finding the layer is the point
            return f"layer {name} ({type(layer).__name__}): {_first_line(error)}"
        with torch.inference_mode():
            x = layer(x)
    return None


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


# ----------------------------------------------------------------------------- writers


def _write_onnx(restored: RestoredModel, module: nn.Module, inputs: Tensor, out: Path, metadata: dict[str, Any]) -> list[Path]:
    program = trace(module, inputs)
    try:
        onnx_program = torch.onnx.export(
            program, (inputs,), input_names=["input"], output_names=["output"], dynamo=True, verbose=False
        )
    except Exception as error:  # noqa: BLE001 - an operator ONNX lacks, say: one line
        raise ExportError(f"the model cannot be written as ONNX: {_first_line(error)}") from None
    assert onnx_program is not None  # dynamo=True always returns the program
    proto = onnx_program.model_proto
    for key, value in _string_metadata(metadata).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    atomic_write_bytes(out, proto.SerializeToString())
    return [out]


def _write_pt2(restored: RestoredModel, module: nn.Module, inputs: Tensor, out: Path, metadata: dict[str, Any]) -> list[Path]:
    buffer = io.BytesIO()
    torch.export.save(trace(module, inputs), buffer, extra_files={"workbench.json": json.dumps(metadata)})
    atomic_write_bytes(out, buffer.getvalue())
    return [out]


def _write_safetensors(
    restored: RestoredModel, module: nn.Module, inputs: Tensor, out: Path, metadata: dict[str, Any]
) -> list[Path]:
    from safetensors.torch import save

    tensors = {name: tensor.detach().contiguous() for name, tensor in module.state_dict().items()}
    atomic_write_bytes(out, save(tensors, metadata=_string_metadata(metadata)))
    return [out]


def _write_script(restored: RestoredModel, module: nn.Module, inputs: Tensor, out: Path, metadata: dict[str, Any]) -> list[Path]:
    weights = out.with_suffix(".pt")
    buffer = io.BytesIO()
    torch.save({name: tensor.detach().clone() for name, tensor in module.state_dict().items()}, buffer)
    atomic_write_bytes(weights, buffer.getvalue())
    atomic_write_bytes(out, script_source(restored, metadata, weights.name).encode())
    return [out, weights]


def script_source(restored: RestoredModel, metadata: dict[str, Any], weights_name: str) -> str:
    """The code view's source of the model (for a model of the user's own class, that class
    built with its arguments), then constants and a loader for the weights beside it; a model
    with classes of the user's (its own, or Code layers) carries their code first
    (:mod:`workbench.engine.code_export`)."""
    info = restored.parts.splits.info
    model = restored.config.model
    refs = [ref for ref in code_refs(restored.config) if ref.where.startswith("model.")]  # not a data set's
    needs = "torch and what your code imports" if refs else "only torch"
    loader = f'''

# ----------------------------------------------------------------------------- added by workbench export
# Run {metadata["run_id"] or "?"}, checkpoint {metadata["checkpoint"]} (epoch {metadata["epoch"]}), dataset {metadata["dataset"]}.
# Needs {needs}: `python {Path(weights_name).with_suffix(".py").name}` loads the weights and runs a zero batch.
from pathlib import Path

INPUT_SHAPE = {tuple(info.input_shape)!r}
CLASS_NAMES = {list(info.class_names)!r}
WEIGHTS = Path(__file__).with_name({weights_name!r})
# preprocess(x), above, standardises a batch as stored (0..255 for images) as in training.


def load(weights: Path = WEIGHTS) -> nn.Module:
    """The model with its trained weights, in eval mode."""
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return model.eval()


if __name__ == "__main__":
    with torch.no_grad():
        print(load()(torch.zeros(1, *INPUT_SHAPE)).shape)
'''
    statistics = (metadata["mean"], metadata["std"])
    normalize = restored.config.data.normalize
    carried = carried_code(refs) + "\n\n\n" if refs else ""
    if model.code:
        preprocess = input_source(tuple(info.input_shape), info.vocab_size, [], normalize, statistics)
        return carried + code_model_source(refs[0], model.args, preprocess) + loader
    analysis = analyse_model(model, info.input_shape, info.num_outputs, vocab_size=info.vocab_size)
    return carried + model_source(analysis, normalize=normalize, statistics=statistics) + loader


def _string_metadata(metadata: dict[str, Any]) -> dict[str, str]:
    """Metadata as the string-to-string map ONNX and safetensors hold: one JSON entry."""
    return {"workbench": json.dumps(metadata)}


_Writer = Callable[[RestoredModel, nn.Module, Tensor, Path, dict[str, Any]], list[Path]]
_WRITERS: dict[str, _Writer] = {
    "onnx": _write_onnx,
    "pt2": _write_pt2,
    "safetensors": _write_safetensors,
    "script": _write_script,
}


# ----------------------------------------------------------------------------- reading back


def _run_onnx(restored: RestoredModel, files: list[Path], inputs: Tensor) -> Tensor:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(files[0]), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"input": inputs.numpy()})
    return torch.from_numpy(output)


def _run_pt2(restored: RestoredModel, files: list[Path], inputs: Tensor) -> Tensor:
    program = torch.export.load(files[0])
    with torch.inference_mode():
        return program.module()(inputs)


def _run_safetensors(restored: RestoredModel, files: list[Path], inputs: Tensor) -> Tensor:
    from safetensors.torch import load_file

    info = restored.parts.splits.info
    # The weights come from the file: a backbone's published ones are not read.
    model = build_model(
        restored.config.model, info.input_shape, info.num_outputs, vocab_size=info.vocab_size, published_weights=False
    )
    model.load_state_dict(load_file(files[0]))
    with torch.inference_mode():
        return model.eval()(inputs)


def _run_script(restored: RestoredModel, files: list[Path], inputs: Tensor) -> Tensor:
    """The written source run as its users run it: in a fresh interpreter (``-I``: no
    PYTHONPATH, no user site), in an empty folder, its loader called on ``inputs``. This
    process holds the user's modules of a code model already; there, the script must bring its
    own. It fails when the script imports Workbench."""
    with tempfile.TemporaryDirectory(prefix="workbench-export-check-") as folder:
        batch, answers = Path(folder) / "inputs.pt", Path(folder) / "outputs.pt"
        torch.save(inputs, batch)
        command = [sys.executable, "-I", "-c", _SCRIPT_CHECK, str(files[0]), str(batch), str(answers)]
        try:
            done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=SCRIPT_CHECK_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ExportError(
                f"{files[0]}: running it on {len(inputs)} test samples took over {SCRIPT_CHECK_TIMEOUT_S:g} s; "
                "the file was kept for inspection"
            ) from None
        if done.returncode != 0:
            lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            reason = lines[-1] if lines else f"exit status {done.returncode}"
            raise ExportError(f"{files[0]}: running it on its own failed: {reason}; the file was kept for inspection")
        return torch.load(answers, weights_only=True)


#: What a fresh interpreter runs to check a script export: the script, its loader, the inputs.
_SCRIPT_CHECK = """
import runpy, sys
import torch
namespace = runpy.run_path(sys.argv[1], run_name="workbench_export_check")
with torch.inference_mode():
    outputs = namespace["load"]()(torch.load(sys.argv[2], weights_only=True))
torch.save(outputs, sys.argv[3])
if any(name.partition(".")[0] == "workbench" for name in sys.modules):
    sys.exit("it imports Workbench, which its users may not have")
"""
#: Seconds the check of a script export may take (a fresh interpreter imports torch first).
SCRIPT_CHECK_TIMEOUT_S = 300.0


_Runner = Callable[[RestoredModel, list[Path], Tensor], Tensor]
_RUNNERS: dict[str, _Runner] = {"onnx": _run_onnx, "pt2": _run_pt2, "safetensors": _run_safetensors, "script": _run_script}


def _compare(fmt: str, files: list[Path], expected: Tensor, actual: Tensor, export_s: float, check_s: float) -> ExportResult:
    if actual.shape != expected.shape:
        raise ExportError(f"{files[0]}: gives outputs of shape {tuple(actual.shape)}, the model {tuple(expected.shape)}")
    difference = float((actual.float() - expected.float()).abs().max()) if expected.numel() else 0.0
    same = None
    if expected.ndim == 2 and expected.shape[1] > 1:
        same = int((actual.argmax(1) == expected.argmax(1)).sum())
    result = ExportResult(fmt, tuple(files), len(expected), difference, same, export_s, check_s)
    scale = max(1.0, float(expected.abs().max())) if expected.numel() else 1.0
    if not difference <= TOLERANCE * scale:  # also refuses NaN
        raise ExportError(
            f"{files[0]}: its outputs differ from the model's by up to {difference:.3g} on {len(expected)} test samples; "
            "the file was kept for inspection"
        )
    return result
