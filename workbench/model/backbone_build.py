"""Build a ``Backbone`` layer: the torchvision model, its published weights, a new head, freezing.

Only the torchvision submodule that defines the model is imported (``torchvision.models.resnet``,
...). Published weights are read from ``<cache dir>/weights/<file>`` under the exact name
torchvision publishes them with, downloaded there once when missing (``torch.hub``'s download,
checked against the hash in the file name, as torchvision does), and loaded with
``weights_only=True``. Offline, the error names the file,
where to get it and the folder to put it in.

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
from workbench.model.backbones import BACKBONES, BackboneSpec, FrozenPart, missing_weights_message, weights_dir

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm)


def build_backbone(params: dict[str, Any], published_weights: bool = True) -> nn.Module:
    """The torchvision model of resolved ``params``, weights loaded, head replaced, frozen as asked;
    ``published_weights=False`` leaves the weights to a checkpoint loaded next."""
    spec = BACKBONES[params["model"]]
    module = getattr(importlib.import_module(f"torchvision.models.{spec.module}"), spec.name)(weights=None)
    if params["weights"] == "imagenet" and published_weights:
        _load_published_weights(module, spec)
    parent, _, attribute = spec.head.rpartition(".")
    owner = module.get_submodule(parent) if parent else module
    setattr(owner, attribute, nn.Linear(spec.features, params["out_features"]))
    if params["freeze"] != "none":
        set_frozen(module, spec.head if params["freeze"] == "all_but_head" else None, frozen=True)
    module.register_forward_pre_hook(_frozen_norms_stay_in_eval)
    return module


def _load_published_weights(module: nn.Module, spec: BackboneSpec) -> None:
    """Put ``spec``'s published weights into ``module``, from the cache (downloaded there once)."""
    path = Path(weights_dir()) / spec.file_name
    where = str(path)
    try:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            # To a temp file, then renamed: never a half file under the published name.
            torch.hub.download_url_to_file(spec.url, where, hash_prefix=spec.hash_prefix, progress=False)
        module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        problem = f"the weights are not in the cache and the download failed ({reason})"
        raise DataError(missing_weights_message(spec, problem)) from None
    except Exception as error:  # noqa: BLE001 - a damaged file, another model's weights, a hostile pickle
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise DataError(missing_weights_message(spec, f"{where} is not usable ({first})")) from None


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
