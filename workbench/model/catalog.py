"""The layer catalog: every layer type a model may use, as plain data.

The app generates its layer forms from these records, the config validates layer parameters
against them, ``shapes`` infers sizes from them and ``build``/``codegen`` turn them into torch
modules and source. Parameters are named exactly as the torch constructor names them, so a
layer's resolved parameters *are* its constructor's keyword arguments. No torch import: the app
paints and validates before torch has loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.errors import ConfigError
from workbench.model.backbones import BACKBONE, BACKBONES, MIN_INPUT_SIZE, WEIGHTS_SIZE
from workbench.schema.params import AUTO, Param

GROUPS = ("linear", "convolution", "pooling", "normalisation", "activation", "regularisation", "reshape", "blocks")


@dataclass(frozen=True)
class LayerType:
    """One kind of layer: its knobs, how it is named and how it is constructed."""

    name: str  # the TOML `type`, e.g. "Conv2d"
    group: str  # one of GROUPS
    prefix: str  # auto-name prefix: conv1, conv2, ...
    params: tuple[Param, ...]  # every knob; sizes inferred from the previous layer are "auto_int"
    help: str  # one line
    key_params: tuple[str, ...] = ()  # shown in the layer table's "parameters" column
    #: The constructor as written in generated code and resolved by ``build``: "nn.Conv2d", or a
    #: class from ``workbench.model.blocks`` by its bare name ("ResidualBlock").
    constructor: str = ""


#: Ceilings that no real layer reaches, so that a typo (1e9 features) is refused by validation
#: with its field named instead of failing in the allocator, or asking it for terabytes.
MAX_WIDTH = 1 << 20  # features or channels
MAX_WINDOW = 4096  # kernel size, stride, padding, output size


def _auto(name: str, what: str) -> Param:
    return Param(name, "auto_int", AUTO, f'{what}; "auto" takes it from the previous layer', min=1, max=MAX_WIDTH)


def _int(name: str, default: int, help: str, low: int, high: int = MAX_WINDOW) -> Param:
    return Param(name, "int", default, help, min=low, max=high)


_BIAS = Param("bias", "bool", True, "learn an additive bias")
_IN_CHANNELS = _auto("in_channels", "input channels")
_OUT_CHANNELS = _int("out_channels", 16, "output channels (feature maps)", 1, MAX_WIDTH)
_POOL_PARAMS = (
    _int("kernel_size", 2, "window size (square)", 1),
    Param("stride", "auto_int", AUTO, 'step between windows; "auto" = kernel_size', min=1, max=MAX_WINDOW),
    _int("padding", 0, "zero padding on each side (at most half the kernel)", 0),
)
_NORM_PARAMS = (
    _auto("num_features", "features or channels to normalise"),
    Param("eps", "float", 1e-5, "added to the variance for numerical stability", min=0.0, min_exclusive=True),
    Param("momentum", "float", 0.1, "weight of each batch in the running statistics", min=0.0, max=1.0),
    Param("affine", "bool", True, "learn a per-channel scale and shift"),
)


def _layer(
    name: str,
    group: str,
    prefix: str,
    help: str,
    params: tuple[Param, ...] = (),
    key: tuple[str, ...] = (),
    constructor: str = "",
) -> LayerType:
    return LayerType(name, group, prefix, params, help, key, constructor or f"nn.{name}")


_TYPES = (
    _layer(
        "Linear",
        "linear",
        "fc",
        "fully connected: every output is a weighted sum of all inputs",
        (
            _auto("in_features", "input features"),
            Param(
                "out_features",
                "auto_int",
                AUTO,
                'output features; "auto" (last Linear only) = classes or targets',
                min=1,
                max=MAX_WIDTH,
            ),
            _BIAS,
        ),
        key=("in_features", "out_features"),
    ),
    _layer(
        "Conv2d",
        "convolution",
        "conv",
        "2-D convolution: learned square filters slid over the image",
        (
            _IN_CHANNELS,
            _OUT_CHANNELS,
            _int("kernel_size", 3, "filter size (square)", 1),
            _int("stride", 1, "step between filter positions", 1),
            _int("padding", 0, "zero padding on each side", 0),
            _BIAS,
        ),
        key=("in_channels", "out_channels", "kernel_size", "stride", "padding"),
    ),
    _layer("MaxPool2d", "pooling", "pool", "keep the largest value of each window", _POOL_PARAMS, key=("kernel_size", "stride")),
    _layer("AvgPool2d", "pooling", "pool", "average each window", _POOL_PARAMS, key=("kernel_size", "stride")),
    _layer(
        "AdaptiveAvgPool2d",
        "pooling",
        "avgpool",
        "average down to a fixed output size, whatever the input size",
        (_int("output_size", 1, "output height and width (1 = global average pooling)", 1),),
        key=("output_size",),
    ),
    _layer(
        "BatchNorm1d",
        "normalisation",
        "bn",
        "normalise each feature over the batch (after Linear)",
        _NORM_PARAMS,
        key=("num_features",),
    ),
    _layer(
        "BatchNorm2d",
        "normalisation",
        "bn",
        "normalise each channel over the batch and the image (after Conv2d)",
        _NORM_PARAMS,
        key=("num_features",),
    ),
    _layer(
        "Dropout",
        "regularisation",
        "drop",
        "zero random inputs while training, scaling the rest",
        (Param("p", "float", 0.5, "probability of zeroing each input", min=0.0, max=1.0),),
        key=("p",),
    ),
    _layer("Flatten", "reshape", "flatten", "turn (channels, height, width) into one feature vector"),
    _layer("ReLU", "activation", "relu", "max(0, x)"),
    _layer(
        "LeakyReLU",
        "activation",
        "lrelu",
        "x for x > 0, negative_slope * x otherwise",
        (Param("negative_slope", "float", 0.01, "slope for negative inputs"),),
        key=("negative_slope",),
    ),
    _layer(
        "GELU",
        "activation",
        "gelu",
        "smooth ReLU used by transformers: x * Phi(x)",
        (Param("approximate", "choice", "none", "exact, or the faster tanh approximation", choices=("none", "tanh")),),
    ),
    _layer("SiLU", "activation", "silu", "x * sigmoid(x) (swish)"),
    _layer("Sigmoid", "activation", "sigmoid", "squash to (0, 1)"),
    _layer("Tanh", "activation", "tanh", "squash to (-1, 1)"),
    _layer(
        "ResidualBlock",
        "blocks",
        "res",
        "conv-BN-ReLU-conv-BN plus a skip connection (ResNet basic block)",
        (_IN_CHANNELS, _OUT_CHANNELS, _int("stride", 1, "stride of the first conv; 2 halves height and width", 1)),
        key=("in_channels", "out_channels", "stride"),
        constructor="ResidualBlock",
    ),
    # A pretrained torchvision classifier (workbench.model.backbones): its head is replaced to
    # fit, and the model's input images are resized (and normalised) for it on the device.
    _layer(
        BACKBONE,
        "blocks",
        "backbone",
        "a torchvision classifier (ResNet, MobileNet, ...), pretrained on ImageNet, its head replaced",
        (
            Param("model", "choice", "resnet18", "which torchvision model", choices=tuple(BACKBONES)),
            Param(
                "weights",
                "choice",
                "imagenet",
                "imagenet: torchvision's published weights (downloaded to the cache once); none: random",
                choices=("imagenet", "none"),
            ),
            Param(
                "out_features",
                "auto_int",
                AUTO,
                'outputs of the new head (a Linear); "auto" (last such layer only) = classes or targets',
                min=1,
                max=MAX_WIDTH,
            ),
            Param(
                "freeze",
                "choice",
                "all_but_head",
                "all_but_head: only the new head trains; none: everything trains; all: the head too (only later layers train)",
                choices=("all_but_head", "none", "all"),
            ),
            _int("unfreeze_after", 0, "train everything after this many epochs (0 = stay frozen)", 0, 100000),
            _int(
                "input_size",
                WEIGHTS_SIZE,
                f"images are resized to this (the weights were trained at {WEIGHTS_SIZE})",
                MIN_INPUT_SIZE,
                512,
            ),
        ),
        key=("model",),  # the layer table is 80 columns wide; the totals say what is frozen
        constructor="torchvision.models",
    ),
)

LAYER_TYPES: dict[str, LayerType] = {t.name: t for t in _TYPES}


def layer_type(name: str, where: str) -> LayerType:
    """The catalog entry for ``name``, or a ConfigError at ``where`` listing the allowed types."""
    try:
        return LAYER_TYPES[name]
    except KeyError:
        allowed = ", ".join(LAYER_TYPES)
        raise ConfigError(f"{where}: unknown layer type {name!r}; allowed: {allowed}", field=where) from None


# ----------------------------------------------------------------------------- initialisation


@dataclass(frozen=True)
class InitCall:
    """A ``torch.nn.init`` function and its keyword arguments, e.g. ``orthogonal_()``."""

    function: str
    kwargs: dict[str, Any] = field(default_factory=dict)


#: ModelConfig.init: how Linear and Conv2d weights start (None keeps PyTorch's own init).
WEIGHT_INITS: dict[str, InitCall | None] = {
    "default": None,
    "kaiming_normal": InitCall("kaiming_normal_", {"nonlinearity": "relu"}),
    "kaiming_uniform": InitCall("kaiming_uniform_", {"nonlinearity": "relu"}),
    "xavier_normal": InitCall("xavier_normal_"),
    "xavier_uniform": InitCall("xavier_uniform_"),
    "orthogonal": InitCall("orthogonal_"),
}

#: ModelConfig.bias_init: how their biases start.
BIAS_INITS: dict[str, InitCall | None] = {"default": None, "zeros": InitCall("zeros_")}

#: The torch.nn classes the schemes apply to (inside blocks too); normalisation layers keep theirs.
INIT_TARGETS = ("Linear", "Conv2d")


def init_calls(init: str, bias_init: str) -> tuple[InitCall | None, InitCall | None]:
    """The weight and bias init calls for the two ModelConfig fields; ConfigError for unknown names."""
    return _lookup(WEIGHT_INITS, init, "model.init"), _lookup(BIAS_INITS, bias_init, "model.bias_init")


def _lookup(table: dict[str, InitCall | None], name: str, where: str) -> InitCall | None:
    if name not in table:
        raise ConfigError(f"{where}: unknown scheme {name!r}; allowed: {', '.join(table)}", field=where)
    return table[name]
