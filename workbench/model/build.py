"""Turn a validated model into a real module: a layer list into an ``nn.Sequential`` with
readable module names, a class of the user's (``model.code``) into an instance of it.

Sizes come from shape inference, so the module is exactly what the layer table shows; each
layer is its catalog constructor called with its resolved parameters.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from workbench.errors import ConfigError
from workbench.model import blocks
from workbench.model.backbone_build import build_backbone
from workbench.model.backbones import BACKBONE
from workbench.model.catalog import CODE, LAYER_TYPES
from workbench.model.code_model import construct, load_class
from workbench.model.init import init_parameters
from workbench.model.shapes import LayerInfo, analyse_model, model_parts
from workbench.schema.config import ModelConfig

#: An empty Sequential, to ask which names its attributes already take.
_PROBE = nn.Sequential()


def build_model(
    model: ModelConfig, input_shape: tuple[int, ...], num_outputs: int, *, vocab_size: int = 0, published_weights: bool = True
) -> nn.Module:
    """The model as ``nn.Sequential(OrderedDict(conv1=..., relu1=..., ...))``, initialised; a
    model from code is the user's class called with ``model.args`` (:mod:`.code_model`), the
    same init schemes applied; its fit to the task was checked by validation's probe.

    Layers of a named group sit in an ``nn.Sequential`` of that name (``model.conv.conv1``);
    a model without groups is flat, with the state_dict keys it always had. Raises the
    ConfigError of shape inference (naming the layer) if the stack cannot work. ``vocab_size``
    says the inputs are token ids (see ``shapes.analyse``). Seeding is the caller's business.
    ``published_weights=False``: a checkpoint's weights are loaded next, so a backbone's
    published weights are not read (nor needed in the cache).
    """
    if model.code and not model.layers:
        return build_code_model(model)
    analysis = analyse_model(model, input_shape, num_outputs, vocab_size=vocab_size)
    if analysis.error is not None:
        raise analysis.error
    for info in analysis.layers:
        _check_free_name(info)
    parts = [
        (group, [(info, build_layer(info, published_weights)) for info in infos]) for group, infos in model_parts(analysis.layers)
    ]
    for _, layers in parts:  # after every layer is built, so that a seed gives the weights it always gave
        for info, layer in layers:
            if info.type != BACKBONE:  # a backbone keeps its published weights (or torchvision's own init)
                init_parameters(layer, model.init, model.bias_init)
    return nn.Sequential(OrderedDict((group or layers[0][0].name, _part(group, layers)) for group, layers in parts))


def build_code_model(model: ModelConfig) -> nn.Module:
    """The user's class called with ``model.args``, its Linear and Conv weights initialised by
    ``model.init``/``bias_init`` as a layer list's are ("default" keeps the class's own)."""
    module = construct(load_class(model.code), model.args, "model")
    init_parameters(module, model.init, model.bias_init)
    return module


def _part(group: str, layers: list[tuple[LayerInfo, nn.Module]]) -> nn.Module:
    if not group:
        return layers[0][1]
    return nn.Sequential(OrderedDict((info.name, layer) for info, layer in layers))


def build_layer(info: LayerInfo, published_weights: bool = True) -> nn.Module:
    """One analysed layer as its torch module (PyTorch's default initialisation)."""
    if info.type == BACKBONE:
        return build_backbone(info.params, published_weights)
    if info.type == CODE:
        where = f"model.layers.{info.index}"
        return construct(load_class(info.params["code"], f"{where}.code"), info.params["args"], where)
    return layer_class(info.type)(**info.params)


def layer_class(type_name: str) -> type[nn.Module]:
    """The torch class of a catalog type: ``nn.Conv2d``, or a block from ``blocks``."""
    owner, _, name = LAYER_TYPES[type_name].constructor.rpartition(".")
    return getattr(nn if owner == "nn" else blocks, name)


def _check_free_name(info: LayerInfo) -> None:
    """nn.Sequential refuses a child named like one of its attributes (eval, training, ...)."""
    if hasattr(_PROBE, info.name):
        where = f"model.layers.{info.index}"
        raise ConfigError(
            f"{where} ({info.name}, {info.type}): the name {info.name!r} is taken by nn.Sequential itself; choose another",
            field=where,
        )
    if info.group and hasattr(_PROBE, info.group):
        where = f"model.layers.{info.index}.group"
        raise ConfigError(
            f"{where} ({info.name}, {info.type}): the group name {info.group!r} is taken by nn.Sequential itself; choose another",
            field=where,
        )
