"""A model class from the user's own file (``model.code = "nets.py:Net"``, or a Code layer's):
imported and called with its arguments (for :mod:`workbench.model.build`), and run once in the
probe's child for the Model screen and validation (:mod:`workbench.engine.code_probe` calls
:func:`probe_model`).

Only a process that trains, evaluates, exports or probes imports this module: it imports the
user's class. It imports torch and nothing more of Workbench than the user-code helpers,
because the probe's child starts with it and the Model screen waits for that child (torch's
import is most of the 2 s it may take; the catalog and the schema would add 0.1 s on a loaded
machine).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from workbench.errors import ConfigError
from workbench.usercode.importing import UserCodeError, import_user_class, user_code
from workbench.usercode.reference import parse_code_ref

#: Parameters up to which the probe runs the module on the CPU rather than on the meta device
#: (100 MB of float32 weights: built and run once in well under a second).
CPU_PROBE_PARAMS = 25_000_000
#: Samples in the probe's batch when the module cannot run on the meta device: two, so that a
#: BatchNorm in training mode has something to average and the batch dimension is told apart.
PROBE_BATCH = 2


def load_class(code: str, where: str = "model.code") -> type[nn.Module]:
    """The ``nn.Module`` subclass ``code`` (FILE.py:CLASS) names, imported from its file."""
    return import_user_class(parse_code_ref(code, where), nn.Module, "nn.Module")


def construct(cls: type[nn.Module], args: dict[str, Any], where: str = "model") -> nn.Module:
    """``cls(**args)``: arguments it does not take, or a required one missing, as one line naming
    ``{where}.args``; any error of its ``__init__`` as the user's file and line."""
    try:
        inspect.signature(cls).bind(**args)
    except TypeError as error:
        raise ConfigError(f"{where}.args: {cls.__name__}{_call_text(args)}: {error}", field=f"{where}.args") from None
    except ValueError:  # no signature to read (a C-level __init__): let the call say it
        pass
    with user_code(f"{cls.__name__}{_call_text(args)}"):
        module = cls(**args)
    if not isinstance(module, nn.Module):  # a __new__ of theirs may return anything
        raise ConfigError(f"{where}: {cls.__name__}(...) did not return an nn.Module", field=f"{where}.code")
    return module


def _call_text(args: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{key}={value!r}" for key, value in args.items()) + ")"


# ----------------------------------------------------------------------------- the probe


def probe_model(request: dict[str, Any]) -> dict[str, Any]:
    """Run the class once on a batch of the data set's input shape and say what it is made of.

    The module is built on the meta device first (no memory: a model of billions of parameters
    is counted at once). A large one runs there too; a small one, or one that cannot run on meta
    (``.item()``, a data-dependent branch), is built again on the CPU and runs a batch of
    :data:`PROBE_BATCH`: the first run on meta loads sympy and torch._dynamo (0.4 s, 2.5 s on a
    loaded machine), more than a small model takes on the CPU, and the Model screen waits.
    Forward hooks record each named module's input and output shape per sample; the answer is
    JSON: ``modules`` (name, type, shapes, calls, parameters with and without its children,
    trainable, whether it has children), ``returns`` (the shape per sample, or words for what
    ``forward`` returned instead), ``total_params``, ``trainable_params``, ``device``.
    """
    where = str(request.get("where") or "model")
    cls = load_class(str(request["code"]), f"{where}.code")
    args = dict(request.get("args") or {})
    shape = tuple(int(side) for side in request.get("input_shape", ()))
    vocab = int(request.get("vocab_size", 0))
    try:
        with torch.device("meta"):
            module = construct(cls, args, where)
        if _count(module.parameters()) > CPU_PROBE_PARAMS:
            return _answer(module, cls, torch.device("meta"), shape, vocab)
    except (UserCodeError, NotImplementedError, RuntimeError):
        pass  # the CPU says what is wrong, if anything is
    return _answer(construct(cls, args, where), cls, torch.device("cpu"), shape, vocab)


def _answer(module: nn.Module, cls: type[nn.Module], device: torch.device, shape: tuple[int, ...], vocab: int) -> dict[str, Any]:
    shapes: dict[str, dict[str, Any]] = {}
    for name, child in module.named_modules():
        if name:
            child.register_forward_hook(_recorder(name, shapes))
    module.train()  # the loss sees what training mode returns
    with torch.no_grad(), user_code(f"{cls.__name__}.forward"):
        output = module(_batch(device, shape, vocab))
    modules = [
        {
            "name": name,
            "type": type(child).__name__,
            **shapes.get(name, {"input_shape": None, "output_shape": None, "calls": 0}),
            "params": _count(child.parameters()),
            "own_params": _count(child.parameters(recurse=False)),
            "trainable": _count(p for p in child.parameters() if p.requires_grad),
            "children": any(True for _ in child.children()),
        }
        for name, child in module.named_modules()
        if name
    ]
    return {
        "class": cls.__name__,
        "modules": modules,
        "returns": _returned(output),
        "total_params": _count(module.parameters()),
        "trainable_params": _count(p for p in module.parameters() if p.requires_grad),
        "device": device.type,
    }


def _count(parameters: Iterable[nn.Parameter]) -> int:
    return sum(p.numel() for p in parameters)


def _batch(device: torch.device, shape: tuple[int, ...], vocab: int) -> torch.Tensor:
    """A batch like the data set's: token ids below ``vocab``, else numbers in [0, 1)."""
    size = (PROBE_BATCH, *shape)
    if vocab > 0:
        return torch.zeros(size, dtype=torch.long, device=device)
    return torch.rand(size, device=device)


def _recorder(name: str, shapes: dict[str, dict[str, Any]]) -> Callable[[nn.Module, Any, Any], None]:
    """A forward hook keeping the first call's shapes (a module called twice, the tutorial's
    ``pool``, shows where it first acts) and counting the calls."""

    def hook(module: nn.Module, inputs: Any, output: Any) -> None:
        seen = shapes.setdefault(
            name, {"input_shape": _per_sample(inputs[0] if inputs else None), "output_shape": _per_sample(output), "calls": 0}
        )
        seen["calls"] += 1

    return hook


def _per_sample(value: Any) -> list[int] | None:
    """The shape of a tensor (or the first tensor of a tuple, an LSTM's output) without the batch."""
    while isinstance(value, tuple | list) and value:
        value = value[0]
    if isinstance(value, torch.Tensor) and value.dim() > 0:
        return list(value.shape[1:])
    return None


def _returned(output: Any) -> list[int] | str:
    """What ``forward`` returned per sample: a shape, or words for anything else."""
    if isinstance(output, torch.Tensor):
        if output.dim() == 0:
            return "a single number for the whole batch"
        if output.shape[0] != PROBE_BATCH:
            shown = "(" + ", ".join(map(str, output.shape)) + ")"
            return f"a tensor of shape {shown} for a batch of {PROBE_BATCH} (its first dimension must be the batch)"
        return list(output.shape[1:])
    if isinstance(output, tuple | list):
        return f"a {type(output).__name__} of {len(output)}"
    return "None" if output is None else f"a {type(output).__name__}"
