"""Turn a validated layer list into a real ``nn.Sequential`` with readable module names.

Sizes come from shape inference, so the module is exactly what the layer table shows; each
layer is its catalog constructor called with its resolved parameters.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from workbench.errors import ConfigError
from workbench.model import blocks
from workbench.model.catalog import LAYER_TYPES
from workbench.model.init import init_parameters
from workbench.model.shapes import LayerInfo, analyse, model_parts
from workbench.schema.config import ModelConfig

#: An empty Sequential, to ask which names its attributes already take.
_PROBE = nn.Sequential()


def build_model(model: ModelConfig, input_shape: tuple[int, ...], num_outputs: int, *, vocab_size: int = 0) -> nn.Sequential:
    """The model as ``nn.Sequential(OrderedDict(conv1=..., relu1=..., ...))``, initialised.

    Layers of a named group sit in an ``nn.Sequential`` of that name (``model.conv.conv1``);
    a model without groups is flat, with the state_dict keys it always had. Raises the
    ConfigError of shape inference (naming the layer) if the stack cannot work. ``vocab_size``
    says the inputs are token ids (see ``shapes.analyse``). Seeding is the caller's business.
    """
    analysis = analyse(model.layers, input_shape, num_outputs, vocab_size=vocab_size)
    if analysis.error is not None:
        raise analysis.error
    for info in analysis.layers:
        _check_free_name(info)
    sequential = nn.Sequential(
        OrderedDict((group or infos[0].name, _part(group, infos)) for group, infos in model_parts(analysis.layers))
    )
    init_parameters(sequential, model.init, model.bias_init)
    return sequential


def _part(group: str, infos: list[LayerInfo]) -> nn.Module:
    if not group:
        return build_layer(infos[0])
    return nn.Sequential(OrderedDict((info.name, build_layer(info)) for info in infos))


def build_layer(info: LayerInfo) -> nn.Module:
    """One analysed layer as its torch module (PyTorch's default initialisation)."""
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
