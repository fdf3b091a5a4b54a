"""Build a ``Backbone`` layer: the torchvision model, its weights, a new head, freezing.

Only the torchvision submodule that defines the model is imported (``torchvision.models.resnet``,
...). Published weights are read from ``<cache dir>/weights/<file>`` under the exact name
torchvision publishes them with, downloaded there once when missing (``torch.hub``'s download);
offline, the error names the file, where to get it and the folder to put it in. Weights can
also be any file the user names (``weights = "path/to/resnet18.pth"``).

Every weights file is checked here, where it is loaded (in the training process, never on the
app's UI thread), each time, so that nothing remembered can go stale: a file named by
torchvision's convention (``resnet18-f37072fd.pth``) must have a SHA-256 that starts with the
digits its name carries, as torch.hub checks a download (a random state dict saved under the
published name was trained from without a word); and every file must be a state dict with the
architecture's keys and shapes (the head's may differ or be missing: it is replaced). It is read
with ``weights_only=True``. Each problem is one line naming the file.

Freezing sets ``requires_grad`` (frozen parameters get no gradient, so no optimizer or weight
decay touches them) and keeps the frozen backbone's normalisation layers in eval mode, so that
their running statistics stay those of the weights too: a frozen backbone is bit-identical
after any amount of training. The optimizer holds the parameters that will unfreeze later from
the start (they have no gradient, so it leaves them alone until then); its state and every
schedule's then cover the same parameters throughout, and a resume restores them exactly.
"""

from __future__ import annotations

import importlib
import urllib.error
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from workbench.errors import DataError
from workbench.model.backbones import (
    BACKBONES,
    PUBLISHED,
    BackboneSpec,
    FrozenPart,
    missing_weights_message,
    published_file,
    weights_file,
    weights_hash_problem,
)

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm)


def build_backbone(params: dict[str, Any], published_weights: bool = True) -> nn.Module:
    """The torchvision model of resolved ``params``, weights loaded, head replaced, frozen as asked;
    ``published_weights=False`` leaves the weights to a checkpoint loaded next."""
    spec = BACKBONES[params["model"]]
    module = getattr(importlib.import_module(f"torchvision.models.{spec.module}"), spec.name)(weights=None)
    if published_weights:
        if params["weights"] == PUBLISHED:
            _load_published_weights(module, spec)
        elif (file := weights_file(params["weights"])) is not None:
            problem = load_weights_file(module, spec, file)
            if problem:
                raise DataError(f"{spec.name}: weights {file}: {problem}")
    parent, _, attribute = spec.head.rpartition(".")
    owner = module.get_submodule(parent) if parent else module
    setattr(owner, attribute, nn.Linear(spec.features, params["out_features"]))
    if params["freeze"] != "none":
        set_frozen(module, spec.head if params["freeze"] == "all_but_head" else None, frozen=True)
    module.register_forward_pre_hook(_frozen_norms_stay_in_eval)
    return module


def _load_published_weights(module: nn.Module, spec: BackboneSpec) -> None:
    """Put ``spec``'s published weights into ``module``, from the cache (downloaded there once)."""
    path = published_file(spec)
    try:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            # To a temp file, then renamed: never a half file under the published name.
            torch.hub.download_url_to_file(spec.url, str(path), hash_prefix=spec.hash_prefix, progress=False)
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        problem = f"the weights are not in the cache and the download failed ({reason})"
        raise DataError(missing_weights_message(spec, problem)) from None
    except Exception as error:  # noqa: BLE001 - a download that did not match its hash, a full disk
        raise DataError(missing_weights_message(spec, f"the download failed ({_first_line(error)})")) from None
    unusable = load_weights_file(module, spec, path)
    if unusable:
        raise DataError(missing_weights_message(spec, f"{path} is not usable ({unusable})"))


def load_weights_file(module: nn.Module, spec: BackboneSpec, path: Path) -> str | None:
    """Load the weights file ``path`` into the torchvision ``module`` (head and all, before it is
    replaced), or say in a few words what is wrong with the file, loading nothing."""
    try:
        if problem := weights_hash_problem(path):
            return problem
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - unreadable, not a torch file, a hostile pickle
        return _first_line(error)
    problem = state_problem(module, spec, state)
    if problem:
        return problem
    module.load_state_dict({key: value for key, value in state.items() if not _in_head(key, spec)}, strict=False)
    return None


def state_problem(module: nn.Module, spec: BackboneSpec, state: Any) -> str | None:
    """What keeps ``state`` from being ``spec``'s weights: not a dict of tensors, or keys or shapes
    not the architecture's. The head is replaced, so its entries may be missing or of any shape."""
    if not isinstance(state, dict) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in state.items()
    ):
        return "not a state dict (a dict of tensors, as model.state_dict() gives)"
    wanted = {key: tuple(value.shape) for key, value in module.state_dict().items() if not _in_head(key, spec)}
    missing = [key for key in wanted if key not in state]
    extra = [key for key in state if key not in wanted and not _in_head(key, spec)]
    if missing or extra:
        said = [f"lacks {_some(missing)}" if missing else "", f"has {_some(extra)}, which {spec.name} has not" if extra else ""]
        return f"not {spec.name}'s weights: it " + " and ".join(part for part in said if part)
    for key, shape in wanted.items():
        if tuple(state[key].shape) != shape:
            return f"not {spec.name}'s weights: {key} is {tuple(state[key].shape)}, {spec.name}'s is {shape}"
    return None


def _in_head(key: str, spec: BackboneSpec) -> bool:
    return key.startswith(spec.head + ".")


def _some(keys: list[str], shown: int = 2) -> str:
    """``conv1.weight, bn1.bias and 60 more``."""
    more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
    return ", ".join(keys[:shown]) + more


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def set_frozen(module: nn.Module, head: str | None, *, frozen: bool) -> None:
    """Freeze (or unfreeze) every parameter of the backbone ``module`` but those of ``head``."""
    kept = set(module.get_submodule(head).parameters()) if head else set()
    for parameter in module.parameters():
        if parameter not in kept:
            parameter.requires_grad_(not frozen)


def _frozen_norms_stay_in_eval(module: nn.Module, inputs: Any) -> None:
    """Before each forward in training mode: normalisation layers whose parameters are frozen
    use (and keep) the running statistics of the weights instead of the batch's."""
    if not module.training:
        return
    for layer in module.modules():
        if isinstance(layer, _NORMS) and layer.training and _is_frozen(layer):
            layer.eval()


def _is_frozen(layer: nn.Module) -> bool:
    parameters = list(layer.parameters(recurse=False))
    return bool(parameters) and not any(p.requires_grad for p in parameters)


def freeze_for_epoch(model: nn.Module, parts: Iterable[FrozenPart], epoch: int) -> None:
    """Set what is frozen in training epoch ``epoch`` (1-based): ``unfreeze_after`` counts here."""
    for part in parts:
        set_frozen(model.get_submodule(part.layer), part.head, frozen=part.frozen_in(epoch))


def trained_parameters(model: nn.Module, parts: Iterable[FrozenPart]) -> list[nn.Parameter]:
    """The parameters the optimizer holds: all but those frozen for the whole run."""
    never = set()
    for part in parts:
        if part.until_epoch == 0:
            backbone = model.get_submodule(part.layer)
            kept = set(backbone.get_submodule(part.head).parameters()) if part.head else set()
            never |= set(backbone.parameters()) - kept
    return [p for p in model.parameters() if p not in never]
