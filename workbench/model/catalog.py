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

#: The layer type of a block of the user's own code.
CODE = "Code"

GROUPS = ("linear", "convolution", "pooling", "normalisation", "activation", "regularisation", "reshape", "sequence", "blocks")


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


# ----------------------------------------------------------------------------- sequences and text
#
# Layers for sequences, one block: a sample is (steps, features) for Embedding, GRU, LSTM,
# SelfAttention and LayerNorm (torch's batch_first layout), (channels, length) for Conv1d, the
# 1-D pools and BatchNorm1d, and token ids (steps,) for the Embedding that starts a text model.
# Transpose turns one 2-D layout into the other.

_SEQUENCE_KERNEL = _int("kernel_size", 3, "filter length (steps)", 1)
_POOL1D_PARAMS = (_int("kernel_size", 2, "window length (steps)", 1), *_POOL_PARAMS[1:])
_RECURRENT_PARAMS = (
    _auto("input_size", "features per step"),
    _int("hidden_size", 64, "features of the hidden state (per direction)", 1, MAX_WIDTH),
    _int("num_layers", 1, "recurrent layers stacked on each other", 1, 16),
    Param("bias", "bool", True, "learn additive biases"),
    Param("dropout", "float", 0.0, "dropout between stacked layers (needs num_layers >= 2)", min=0.0, max=1.0),
    Param("bidirectional", "bool", False, "also read the sequence backwards; doubles the output features"),
    Param(
        "steps",
        "choice",
        "last",
        "last: one vector per sequence (to classify it); all: a vector per step (to stack more sequence layers)",
        choices=("last", "all"),
    ),
)
_RECURRENT_KEY = ("input_size", "hidden_size", "steps")

_SEQUENCE_TYPES = (
    _layer(
        "Conv1d",
        "convolution",
        "conv",
        "1-D convolution: filters slid along a sequence",
        (
            _IN_CHANNELS,
            _OUT_CHANNELS,
            _SEQUENCE_KERNEL,
            _int("stride", 1, "step between filter positions", 1),
            _int("padding", 0, "zero padding at each end", 0),
            _BIAS,
        ),
        key=("in_channels", "out_channels", "kernel_size", "stride", "padding"),
    ),
    _layer(
        "MaxPool1d",
        "pooling",
        "pool",
        "largest value of each window of a sequence",
        _POOL1D_PARAMS,
        key=("kernel_size", "stride"),
    ),
    _layer("AvgPool1d", "pooling", "pool", "average each window along a sequence", _POOL1D_PARAMS, key=("kernel_size", "stride")),
    _layer(
        "AdaptiveAvgPool1d",
        "pooling",
        "avgpool",
        "average a sequence down to a fixed length",
        (_int("output_size", 1, "output length (1 = average over the whole sequence)", 1),),
        key=("output_size",),
    ),
    _layer(
        "LayerNorm",
        "normalisation",
        "ln",
        "normalise over the last dimension, per sample",
        (
            _auto("normalized_shape", "size of the last dimension"),
            Param("eps", "float", 1e-5, "added to the variance for numerical stability", min=0.0, min_exclusive=True),
            Param("elementwise_affine", "bool", True, "learn a per-feature scale and shift"),
            Param("bias", "bool", True, "learn the shift (with elementwise_affine)"),
        ),
        key=("normalized_shape",),
    ),
    _layer(
        "GroupNorm",
        "normalisation",
        "gn",
        "normalise groups of channels, per sample",
        (
            _int("num_groups", 4, "groups the channels are split into; must divide num_channels", 1, MAX_WIDTH),
            _auto("num_channels", "channels"),
            Param("eps", "float", 1e-5, "added to the variance for numerical stability", min=0.0, min_exclusive=True),
            Param("affine", "bool", True, "learn a per-channel scale and shift"),
        ),
        key=("num_groups", "num_channels"),
    ),
    _layer("Transpose", "reshape", "transpose", "swap (steps, features) <-> (channels, length)", constructor="Transpose"),
    _layer(
        "Embedding",
        "sequence",
        "embed",
        "a learned vector for each token id",
        (
            Param("num_embeddings", "auto_int", AUTO, 'vocabulary size; "auto" = the dataset\'s', min=1, max=MAX_WIDTH),
            _int("embedding_dim", 32, "features of each token's vector", 1, MAX_WIDTH),
        ),
        key=("num_embeddings", "embedding_dim"),
    ),
    _layer(
        "GRU",
        "sequence",
        "gru",
        "gated recurrent unit: reads steps in order",
        _RECURRENT_PARAMS,
        key=_RECURRENT_KEY,
        constructor="SequenceGRU",
    ),
    _layer(
        "LSTM",
        "sequence",
        "lstm",
        "long short-term memory: reads steps in order",
        _RECURRENT_PARAMS,
        key=_RECURRENT_KEY,
        constructor="SequenceLSTM",
    ),
    _layer(
        "SelfAttention",
        "sequence",
        "attn",
        "multi-head self-attention plus its input",
        (
            _auto("embed_dim", "features per step"),
            _int("num_heads", 4, "attention heads; must divide embed_dim", 1, 1024),
            Param("dropout", "float", 0.0, "dropout on the attention weights while training", min=0.0, max=1.0),
            Param("bias", "bool", True, "learn additive biases in the projections"),
        ),
        key=("embed_dim", "num_heads"),
        constructor="SelfAttention",
    ),
)


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
    *_SEQUENCE_TYPES,
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
                "str",
                "imagenet",
                "imagenet: torchvision's published weights (downloaded to the cache once); none: random; "
                "or a weights file's path (its keys and shapes are checked, and the SHA-256 a torchvision name carries)",
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
    # A block of the user's own (workbench.model.code_model): their nn.Module class, called with
    # args, between catalog layers; its output shape and parameters come from running it once.
    _layer(
        CODE,
        "blocks",
        "code",
        "a block of your own: an nn.Module class from your Python file, run on the previous layer's output",
        (
            Param("code", "str", "", "your class as FILE.py:CLASS (the path from the experiment file's folder)"),
            Param("args", "table", {}, "its keyword arguments, e.g. {channels = 16}"),
        ),
        key=("code", "args"),
        constructor=CODE,
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


#: ModelConfig.init: how Linear and Conv weights start (None keeps PyTorch's own init).
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
INIT_TARGETS = ("Linear", "Conv2d", "Conv1d")


def init_calls(init: str, bias_init: str) -> tuple[InitCall | None, InitCall | None]:
    """The weight and bias init calls for the two ModelConfig fields; ConfigError for unknown names."""
    return _lookup(WEIGHT_INITS, init, "model.init"), _lookup(BIAS_INITS, bias_init, "model.bias_init")


def _lookup(table: dict[str, InitCall | None], name: str, where: str) -> InitCall | None:
    if name not in table:
        raise ConfigError(f"{where}: unknown scheme {name!r}; allowed: {', '.join(table)}", field=where)
    return table[name]
