"""Shapes and parameter counts of a model from the user's own file, as the layer table shows them.

Arithmetic cannot know what a ``forward`` of the user's does, so the module is run once, in a
child process with a time limit (:func:`workbench.usercode.probing.probe`, answered by
:func:`workbench.model.code_model.probe_model`), and its answer is turned into the same
:class:`~workbench.model.shapes.LayerInfo` rows a catalog model has: one per named module
that holds parameters or has no children of its own (``conv.conv1``), grouped under its
top-level child (``conv``), so that sums over the rows (the total, the memory estimate) count
every parameter once. Nothing here imports torch or the user's code: the app calls it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.errors import ConfigError
from workbench.formatting import counted
from workbench.usercode.probing import ProbeError, probe, still_running
from workbench.usercode.reference import CodeRef, check_code_ref, parse_code_ref

Shape = tuple[int, ...]


def model_request(ref: CodeRef, args: dict[str, Any], input_shape: Shape, vocab_size: int) -> dict[str, Any]:
    """What the probe's child is asked about a code model: the class, its arguments, and the
    sample the data set gives (``vocab_size`` > 0: token ids below it); ``where`` is the
    section that names them (``model``, ``model.layers.2``), for the child's messages."""
    return {
        "kind": "model",
        "code": ref.text,
        "where": _section(ref),
        "args": dict(args),
        "input_shape": list(input_shape),
        "vocab_size": vocab_size,
    }


def probe_code_model(ref: CodeRef, args: dict[str, Any], input_shape: Shape, vocab_size: int) -> dict[str, Any]:
    """The child's answer for the class ``ref`` names (cached on the request and the code's
    content); the code's failure as one ConfigError line naming ``ref.where``, or the arguments'
    setting when the class does not take them."""
    check_code_ref(ref)
    try:
        return probe(model_request(ref, args, input_shape, vocab_size), [ref.folder])
    except ProbeError as error:
        arguments = f"{_section(ref)}.args"
        if str(error).startswith(f"{arguments}:"):
            raise ConfigError(str(error), field=arguments) from None
        raise still_running(error, f"{ref.where} ({ref.label}): {error}", field=ref.where, label=ref.label) from None


def _section(ref: CodeRef) -> str:
    """``model.code`` -> ``model``: where the class's ``code`` and ``args`` settings are."""
    return ref.where.rpartition(".")[0] or ref.where


def code_ref(text: str, where: str = "model.code") -> CodeRef:
    """``model.code`` (or a Code layer's ``code``) as a CodeRef; one ConfigError line naming
    ``where`` when it is not FILE.py:CLASS."""
    return parse_code_ref(text, where)


def module_rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The probe's modules that become rows: those without children, and those holding
    parameters of their own (a count of only those, so no parameter is counted twice)."""
    modules: Sequence[dict[str, Any]] = answer.get("modules", [])
    parents = {module["name"].rpartition(".")[0] for module in modules if "." in module["name"]}
    parents |= {module["name"] for module in modules if module.get("children")}
    return [module for module in modules if module["name"] not in parents or module.get("own_params", 0)]


def shape_of(value: Any) -> Shape:
    """A shape from JSON (a list), or () when the module was not called."""
    return tuple(int(side) for side in value) if isinstance(value, list) else ()


def output_problem(ref: CodeRef, answer: dict[str, Any], num_outputs: int, outputs_text: str) -> ConfigError | None:
    """Whether what ``forward`` returns fits the task: one line naming the class when it does not
    ("Net returns 84 outputs; digits has 10 classes")."""
    returned = answer.get("returns")
    needs = outputs_text or f"the task needs {counted(num_outputs, 'output')}"
    name = ref.name
    if not isinstance(returned, list):
        kind = str(returned or "nothing")
        problem = f"{name}.forward returns {kind}, not one tensor of shape (batch, {num_outputs}); {needs}"
    elif returned == [num_outputs]:
        return None
    elif not returned:  # (batch,): a loss would broadcast it against (batch, 1) targets without a word
        problem = f"{name} returns one number per sample, shape (batch,); {needs}: return shape (batch, {num_outputs})"
    elif len(returned) == 1:
        problem = f"{name} returns {counted(returned[0], 'output')}; {needs}"
    else:
        shown = "(" + ", ".join(map(str, returned)) + ")"
        problem = f"{name} returns {shown} per sample; {needs}: flatten it and end with {num_outputs} outputs"
    return ConfigError(f"{ref.where} ({ref.label}): {problem}", field=ref.where)


def training_problem(ref: CodeRef, answer: dict[str, Any]) -> ConfigError | None:
    """A class with nothing that trains (no parameters, or every one frozen with
    ``requires_grad=False``) would make a run that changes nothing: one line saying which."""
    if int(answer.get("trainable_params", 0)) > 0:
        return None
    total = int(answer.get("total_params", 0))
    if total:
        problem = f"all {total:,} parameters of {ref.name} are frozen (requires_grad=False); leave some to train"
    else:
        problem = f"{ref.name} has no parameters to train; give it a layer with weights (nn.Linear, nn.Conv2d, ...)"
    return ConfigError(f"{ref.where} ({ref.label}): {problem}", field=ref.where)
