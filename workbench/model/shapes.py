"""Shape inference and parameter counting for a layer list, by arithmetic alone.

This is what lets a person write ``Linear(out_features=120)`` after a conv stack without working
out ``16*5*5`` by hand: each layer's input sizes ("auto") are read off the previous layer's
output, and every impossible stack is reported naming the layer, what it expects and what it
gets. It runs without torch so the app can redraw the layer table on every keystroke and config
validation works before torch has loaded; a test checks it against the real torch modules.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigError
from workbench.formatting import counted
from workbench.model import backbones, code_shapes
from workbench.model.catalog import CODE, LAYER_TYPES, layer_type
from workbench.schema.config import LayerSpec, ModelConfig, layer_name_problem
from workbench.schema.params import AUTO, coerce_all

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerInfo:
    """One analysed layer: its resolved parameters and what goes in and out of it."""

    index: int
    name: str
    type: str
    params: dict[str, Any]  # every catalog param, "auto" replaced by the inferred number
    input_shape: Shape  # per sample, without the batch dimension, e.g. (1, 28, 28)
    output_shape: Shape
    num_params: int
    group: str = ""  # the named block it belongs to ("" = the top level of the model)


@dataclass(frozen=True)
class ModelAnalysis:
    """The layer table up to the first problem, and that problem (None when the model works)."""

    layers: tuple[LayerInfo, ...]
    error: ConfigError | None
    input_shape: Shape
    total_params: int
    vocab_size: int = 0  # > 0: the inputs are token ids below it
    #: What a code model's ``forward`` returns per sample (its last row need not be the last
    #: thing it computes); None for a layer list, whose last layer's output is the model's.
    returns: Shape | None = None
    #: A code model's parameters that train, as its probe counted them (the user's own
    #: ``requires_grad=False`` left out); None for a layer list, whose rows say it.
    trainable: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def trainable_params(self) -> int:
        """Parameters that train in the first epoch (a frozen backbone's, or the user's own frozen ones, left out)."""
        return self.trainable if self.trainable is not None else backbones.trainable_count(self.layers)

    @property
    def output_shape(self) -> Shape:
        if self.returns is not None:
            return self.returns
        return self.layers[-1].output_shape if self.layers else self.input_shape


def layer_names(layers: Sequence[LayerSpec]) -> list[str]:
    """Module names: explicit ones kept; the rest numbered per prefix (conv1, relu1, pool1, fc1...).

    Auto names skip every name given explicitly anywhere in the stack, and every group name, so
    they never collide.
    """
    taken = {spec.name for spec in layers if spec.name} | {spec.group for spec in layers if spec.group}
    counters: Counter[str] = Counter()
    names = []
    for spec in layers:
        name = spec.name
        if not name:
            prefix = LAYER_TYPES[spec.type].prefix if spec.type in LAYER_TYPES else "layer"
            while not name or name in taken:
                counters[prefix] += 1
                name = f"{prefix}{counters[prefix]}"
            taken.add(name)
        names.append(name)
    return names


def analyse_model(
    model: ModelConfig, input_shape: Shape, num_outputs: int, *, outputs_text: str = "", vocab_size: int = 0
) -> ModelAnalysis:
    """The model's rows and its first problem, whichever way it is described; never raises.

    A layer list is worked out by arithmetic (:func:`analyse`); a class of the user's
    (``model.code``) is run once in a child process and its named modules become the rows
    (:mod:`workbench.model.code_shapes`). Both at once is one problem: a model is one or the other.
    """
    if model.code and model.layers:
        error = ConfigError(
            "model.code: the model names a class of your own and has model.layers too; "
            "keep one of them (a class of yours can sit in the layer list as a Code layer)",
            field="model.code",
        )
        return ModelAnalysis((), error, tuple(input_shape), 0, vocab_size)
    if model.code:
        return _analyse_code(model, tuple(input_shape), num_outputs, outputs_text, vocab_size)
    return analyse(model.layers, input_shape, num_outputs, outputs_text=outputs_text, vocab_size=vocab_size)


def _analyse_code(model: ModelConfig, input_shape: Shape, num_outputs: int, outputs_text: str, vocab_size: int) -> ModelAnalysis:
    try:
        ref = code_shapes.code_ref(model.code)
        answer = code_shapes.probe_code_model(ref, model.args, input_shape, vocab_size)
    except ConfigError as failed:
        return ModelAnalysis((), failed, input_shape, 0, vocab_size)
    infos = tuple(
        LayerInfo(
            index=index,
            name=row["name"],
            type=row["type"],
            params={},
            input_shape=code_shapes.shape_of(row.get("input_shape")),
            output_shape=code_shapes.shape_of(row.get("output_shape")),
            num_params=int(row.get("own_params", 0)),
            group=row["name"].partition(".")[0] if "." in row["name"] else "",
        )
        for index, row in enumerate(code_shapes.module_rows(answer))
    )
    error = code_shapes.output_problem(ref, answer, num_outputs, outputs_text) or code_shapes.training_problem(ref, answer)
    returns = code_shapes.shape_of(answer.get("returns")) if isinstance(answer.get("returns"), list) else None
    total, trainable = int(answer.get("total_params", 0)), int(answer.get("trainable_params", 0))
    return ModelAnalysis(infos, error, input_shape, total, vocab_size, returns, trainable)


def analyse(
    layers: Sequence[LayerSpec], input_shape: Shape, num_outputs: int, *, outputs_text: str = "", vocab_size: int = 0
) -> ModelAnalysis:
    """Infer every layer's sizes and parameter count; never raises.

    ``outputs_text`` words what the data needs for the final error ("digits has 10 classes");
    by default "the task needs N outputs". ``vocab_size`` > 0 says the inputs are token ids
    below it (a text dataset), which only an Embedding can read.
    """
    input_shape = backbones.model_input_shape(list(layers), tuple(input_shape))  # resized for a backbone
    if not layers:
        error = ConfigError(
            'model.layers: the model has no layers; add some, ending with a Linear whose out_features is "auto", '
            'or name a class of your own: model.code = "nets.py:Net"',
            field="model.layers",
        )
        return ModelAnalysis((), error, input_shape, 0, vocab_size)
    names = layer_names(layers)
    head = max((i for i, spec in enumerate(layers) if _has_out_features(spec)), default=-1)
    infos: list[LayerInfo] = []
    current = _Input(input_shape, "", vocab_size)
    for index, (spec, name) in enumerate(zip(layers, names, strict=True)):
        try:
            _check_group(index, layers, names)
            info, current = _analyse_layer(
                index, spec, name, names, current, _Context(num_outputs, index == head, f"model.layers.{index}")
            )
        except ConfigError as error:
            return _result(infos, error, input_shape, vocab_size)
        infos.append(info)
    return _result(infos, _output_problem(infos, num_outputs, outputs_text) or _training_problem(infos), input_shape, vocab_size)


# ----------------------------------------------------------------------------- per-layer analysis


@dataclass(frozen=True)
class _Input:
    shape: Shape
    origin: str  # how the shape came about, for messages: "16x5x5 flattened"
    vocab: int = 0  # > 0: the values are token ids below this, not numbers to compute with


@dataclass(frozen=True)
class _Context:
    num_outputs: int
    is_head: bool  # the last layer with out_features: the only one that may say "auto"
    where: str = ""  # model.layers.N, for a rule that names its own fields (a Code layer's)


class _Problem(Exception):
    """A layer cannot take its input; the text is turned into a ConfigError naming the layer."""


def _analyse_layer(
    index: int, spec: LayerSpec, name: str, names: list[str], current: _Input, context: _Context
) -> tuple[LayerInfo, _Input]:
    where = f"model.layers.{index}"
    kind = layer_type(spec.type, where)
    label = f"{where} ({name}, {spec.type})"
    try:
        params = coerce_all(kind.params, spec.params, where, what=spec.type)
    except ConfigError as error:
        raise _labelled(error, f"({name}, {spec.type})") from None
    try:
        _check_name(name, names[:index])
        _check_tokens(spec.type, current)
        output, count = _RULES[spec.type](params, current, context)
    except _Problem as problem:
        raise ConfigError(f"{label}: {problem}", field=where) from None
    info = LayerInfo(index, name, spec.type, params, current.shape, output, count, spec.group)
    return info, _Input(output, _origin(current, output))


def _labelled(error: ConfigError, tag: str) -> ConfigError:
    """Put the layer's name and type into a parameter error: "model.layers.2.kernel_size (conv1, Conv2d): ..."."""
    text, path = str(error), error.field
    if path and text.startswith(path):
        text = f"{path} {tag}{text[len(path) :]}"
    return ConfigError(text, field=path)


def _check_name(name: str, earlier: list[str]) -> None:
    problem = layer_name_problem(name)  # never empty here: layer_names numbered the unnamed
    if problem:
        raise _Problem(problem)
    if name in earlier:
        raise _Problem(f"the name {name!r} is already used by model.layers.{earlier.index(name)}")


def _origin(current: _Input, output: Shape) -> str:
    if output == current.shape:
        return current.origin
    if len(current.shape) > 1 and output == (math.prod(current.shape),):
        return "x".join(map(str, current.shape)) + " flattened"
    return ""


def _has_out_features(spec: LayerSpec) -> bool:
    kind = LAYER_TYPES.get(spec.type)
    return kind is not None and any(p.name == "out_features" for p in kind.params)


def _result(infos: list[LayerInfo], error: ConfigError | None, input_shape: Shape, vocab_size: int) -> ModelAnalysis:
    return ModelAnalysis(tuple(infos), error, input_shape, sum(i.num_params for i in infos), vocab_size)


def _output_problem(infos: list[LayerInfo], num_outputs: int, outputs_text: str) -> ConfigError | None:
    last = infos[-1]
    if last.output_shape == (num_outputs,):
        return None
    if len(last.output_shape) != 1:
        hint = 'end with a Flatten and a Linear whose out_features is "auto"'
    elif any(i.type == "Linear" for i in infos):
        hint = f'set the last Linear\'s out_features to {num_outputs} or "auto"'
    else:
        hint = 'end with a Linear whose out_features is "auto"'
    needs = outputs_text or f"the task needs {counted(num_outputs, 'output')}"
    where = f"model.layers.{last.index}"
    return ConfigError(
        f"{where} ({last.name}, {last.type}): the model ends with {last.output_shape} but {needs}; {hint}", field=where
    )


# ----------------------------------------------------------------------------- shape rules
#
# One rule per layer type: it resolves the "auto" params in place from the input and returns
# (output shape, number of parameters), or raises _Problem.

Rule = Callable[[dict[str, Any], _Input, _Context], tuple[Shape, int]]


def _same(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    return current.shape, 0


def _flatten(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    return (math.prod(current.shape),), 0


def _linear(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    if len(current.shape) not in (1, 2):  # (steps, features): torch applies it to every step
        raise _Problem(f"expects flat features but gets {current.shape}; add a Flatten before it")
    features = current.shape[-1]
    origin = f" ({current.origin})" if current.origin else ""
    per_step = " per step" if len(current.shape) == 2 else ""
    _infer(params, "in_features", features, f"the input of {features} features{per_step}{origin}")
    out = _outputs(params, context, "the last Linear")
    return (*current.shape[:-1], out), features * out + (out if params["bias"] else 0)


def _conv2d(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    channels = _channels(params, current)
    out = params["out_channels"]
    shape = _window(current.shape, out, params["kernel_size"], params["stride"], params["padding"])
    return shape, _conv_params(channels, out, params["kernel_size"], params["bias"])


def _pool(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    return _pooled(params, current, _image(current)[0])


def _pooled(params: dict[str, Any], current: _Input, channels: int) -> tuple[Shape, int]:
    kernel, padding = params["kernel_size"], params["padding"]
    if params["stride"] == AUTO:
        params["stride"] = kernel
    if padding > kernel // 2:
        raise _Problem(f"padding={padding} is more than half of kernel_size={kernel}")
    return _window(current.shape, channels, kernel, params["stride"], padding), 0


def _adaptive_pool(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    size = params["output_size"]
    return (_image(current)[0], size, size), 0


def _batch_norm_1d(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    if len(current.shape) not in (1, 2):
        raise _Problem(f"expects (features,) or (channels, length) but gets {current.shape}; use BatchNorm2d on images")
    return _batch_norm(params, current)


def _batch_norm_2d(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    _image(current)
    return _batch_norm(params, current)


def _residual(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    channels = _channels(params, current)
    out, stride = params["out_channels"], params["stride"]
    count = _conv_params(channels, out, 3, False) + _conv_params(out, out, 3, False) + 2 * (2 * out)
    if stride != 1 or channels != out:  # the skip path needs a 1x1 conv + BN projection
        count += _conv_params(channels, out, 1, False) + 2 * out
    return _window(current.shape, out, 3, stride, 1), count


# ----------------------------------------------------------------------------- sequences and text
#
# A sequence sample is (steps, features) for Embedding, GRU, LSTM and SelfAttention (torch's
# batch_first layout) and (channels, length) for Conv1d and the 1-D pools; token ids are (steps,)
# with _Input.vocab set, and only an Embedding reads them.

#: Weight matrices per gate of each recurrent type (input, hidden) x gates.
_GATES = {"GRU": 3, "LSTM": 4}


def _check_tokens(type_name: str, current: _Input) -> None:
    if current.vocab and type_name not in ("Embedding", CODE):  # a block of the user's may embed them itself
        raise _Problem(
            f"gets token ids {current.shape}: whole numbers that name words or symbols, not amounts "
            "to compute with; start the model with an Embedding"
        )


def _two_dims(current: _Input, layout: str) -> Shape:
    """The (a, b) of a sequence sample, or a _Problem saying what the layer reads instead."""
    if len(current.shape) == 2:
        return current.shape
    if len(current.shape) == 3:
        hint = "an image (channels, height, width); use it with a sequence dataset, or Conv2d for images"
    else:
        hint = "flat features, which have no steps; use it with a sequence dataset or after an Embedding"
    raise _Problem(f"expects a sequence {layout} but gets {current.shape}, {hint}")


def _conv1d(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    channels = _two_dims(current, "(channels, length)")[0]
    _infer(params, "in_channels", channels, f"the input's {channels} channels {current.shape}")
    out, kernel = params["out_channels"], params["kernel_size"]
    shape = _window(current.shape, out, kernel, params["stride"], params["padding"])
    return shape, out * channels * kernel + (out if params["bias"] else 0)


def _pool_1d(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    return _pooled(params, current, _two_dims(current, "(channels, length)")[0])


def _adaptive_pool_1d(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    return (_two_dims(current, "(channels, length)")[0], params["output_size"]), 0


def _layer_norm(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    last = current.shape[-1]
    _infer(params, "normalized_shape", last, f"the input's last dimension, {last} of {current.shape}")
    affine = params["elementwise_affine"]
    return current.shape, (last if affine else 0) + (last if affine and params["bias"] else 0)


def _group_norm(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    channels = current.shape[0]
    _infer(params, "num_channels", channels, f"the input's {channels} channels {current.shape}")
    groups = params["num_groups"]
    if channels % groups:
        divisors = ", ".join([str(d) for d in range(1, channels + 1) if channels % d == 0][:6])
        raise _Problem(f"num_groups={groups} does not divide the {channels} channels; use a divisor such as {divisors}")
    return current.shape, 2 * channels if params["affine"] else 0


def _transpose(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    first, second = _two_dims(current, "(steps, features) or (channels, length)")
    return (second, first), 0


def _embedding(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    if not current.vocab:
        raise _Problem(
            f"expects token ids from a text or sequence dataset but gets numbers {current.shape}; "
            "an Embedding only starts a model of tokens"
        )
    vocab = current.vocab
    if params["num_embeddings"] == AUTO:
        params["num_embeddings"] = vocab
    elif params["num_embeddings"] < vocab:
        raise _Problem(
            f"num_embeddings={params['num_embeddings']} is fewer than the dataset's {vocab} tokens "
            f'(ids 0..{vocab - 1}); use {vocab} or "auto"'
        )
    dim = params["embedding_dim"]
    return (*current.shape, dim), params["num_embeddings"] * dim


def _recurrent(gates: int) -> Rule:
    def rule(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
        steps, features = _two_dims(current, "(steps, features)")
        _infer(params, "input_size", features, f"the input's {features} features per step {current.shape}")
        hidden, layers = params["hidden_size"], params["num_layers"]
        if params["dropout"] > 0 and layers == 1:
            raise _Problem(
                f"dropout={params['dropout']} acts between stacked layers and num_layers=1 has none; "
                "set num_layers to 2 or more, or dropout to 0"
            )
        directions = 2 if params["bidirectional"] else 1
        count = 0
        for layer in range(layers):
            inputs = features if layer == 0 else hidden * directions
            count += directions * gates * hidden * (inputs + hidden + (2 if params["bias"] else 0))
        width = hidden * directions
        return ((width,) if params["steps"] == "last" else (steps, width)), count

    return rule


def _self_attention(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    features = _two_dims(current, "(steps, features)")[1]
    _infer(params, "embed_dim", features, f"the input's {features} features per step {current.shape}")
    heads = params["num_heads"]
    if features % heads:
        raise _Problem(f"embed_dim={features} is not divisible by num_heads={heads}; each head takes an equal share")
    return current.shape, 4 * features * features + (4 * features if params["bias"] else 0)


_SEQUENCE_RULES: dict[str, Rule] = {
    "Conv1d": _conv1d,
    "MaxPool1d": _pool_1d,
    "AvgPool1d": _pool_1d,
    "AdaptiveAvgPool1d": _adaptive_pool_1d,
    "LayerNorm": _layer_norm,
    "GroupNorm": _group_norm,
    "Transpose": _transpose,
    "Embedding": _embedding,
    "GRU": _recurrent(_GATES["GRU"]),
    "LSTM": _recurrent(_GATES["LSTM"]),
    "SelfAttention": _self_attention,
}


# ----------------------------------------------------------------------------- named groups


def model_parts(layers: Sequence[LayerInfo]) -> list[tuple[str, list[LayerInfo]]]:
    """The model's top level, for the builder and the code view alike: ``("", [layer])`` for a
    layer outside any group, ``(group, its layers)`` for a named block of consecutive layers."""
    parts: list[tuple[str, list[LayerInfo]]] = []
    for info in layers:
        if info.group and parts and parts[-1][0] == info.group:
            parts[-1][1].append(info)
        else:
            parts.append((info.group, [info]))
    return parts


def _check_group(index: int, layers: Sequence[LayerSpec], names: list[str]) -> None:
    """A layer's group must be a name, not a layer's name, and continue the group before it."""
    spec = layers[index]
    group = spec.group
    if not group:
        return
    where = f"model.layers.{index}.group"
    problem = layer_name_problem(group, "group name")
    if problem is None and group in names:
        problem = f"the group {group!r} has the name of layer model.layers.{names.index(group)}; give one of them another name"
    earlier = [i for i in range(index) if layers[i].group == group]
    if problem is None and earlier and earlier[-1] != index - 1:
        problem = f"the group {group!r} is split by model.layers.{index - 1}; a group's layers must be consecutive"
    if problem:
        raise ConfigError(f"{where} ({names[index]}, {spec.type}): {problem}", field=where)


def _outputs(params: dict[str, Any], context: _Context, last: str) -> int:
    """The layer's out_features; "auto" becomes the task's outputs, allowed on ``last`` only."""
    if params["out_features"] == AUTO:
        if not context.is_head:
            raise _Problem(
                f'out_features="auto" is only allowed on {last} (where it becomes the '
                f"{context.num_outputs} outputs); give this one a number"
            )
        params["out_features"] = context.num_outputs
    return int(params["out_features"])


def _backbone(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    size = params["input_size"]
    if current.shape != (3, size, size):
        raise _Problem(
            f"takes images resized to (3, {size}, {size}) but gets {current.shape}; "
            "a Backbone must be the first layer, on image data (1 or 3 channels)"
        )
    if params["weights"] == "none" and params["freeze"] != "none":
        raise _Problem(f'freeze="{params["freeze"]}" would keep random weights fixed; use weights="imagenet" or freeze="none"')
    if params["unfreeze_after"] and params["freeze"] == "none":
        raise _Problem('unfreeze_after needs something frozen first; set freeze="all_but_head" or unfreeze_after=0')
    spec, out = backbones.BACKBONES[params["model"]], _outputs(params, context, "the last layer with outputs")
    return (out,), spec.body_params + spec.features * out + out


def _code(params: dict[str, Any], current: _Input, context: _Context) -> tuple[Shape, int]:
    """A block of the user's own: its output and parameters are what running it once on the
    previous layer's output gives (a child process: :mod:`workbench.model.code_shapes`; the
    answer is cached, so redrawing the table does not run it again). Its problems name its
    ``code`` or ``args`` field (a ConfigError, not a _Problem)."""
    ref = code_shapes.code_ref(params["code"], f"{context.where}.code")
    answer = code_shapes.probe_code_model(ref, params["args"], current.shape, current.vocab)
    returned = answer.get("returns")
    if not isinstance(returned, list):
        raise ConfigError(
            f"{ref.where} ({ref.label}): {ref.name}.forward returns {returned}; a layer must return one tensor", field=ref.where
        )
    return code_shapes.shape_of(returned), int(answer.get("total_params", 0))


_RULES: dict[str, Rule] = {
    "Linear": _linear,
    "Conv2d": _conv2d,
    "MaxPool2d": _pool,
    "AvgPool2d": _pool,
    "AdaptiveAvgPool2d": _adaptive_pool,
    "BatchNorm1d": _batch_norm_1d,
    "BatchNorm2d": _batch_norm_2d,
    "Dropout": _same,
    "Flatten": _flatten,
    "ReLU": _same,
    "LeakyReLU": _same,
    "GELU": _same,
    "SiLU": _same,
    "Sigmoid": _same,
    "Tanh": _same,
    "ResidualBlock": _residual,
    **_SEQUENCE_RULES,
    backbones.BACKBONE: _backbone,
    CODE: _code,
}


def _training_problem(infos: list[LayerInfo]) -> ConfigError | None:
    """A model whose every parameter is frozen would train nothing: say which setting does it."""
    if backbones.trainable_count(infos) > 0:
        return None
    frozen = next((info for info in infos if info.type == backbones.BACKBONE and info.params["freeze"] == "all"), None)
    if frozen is None:  # no parameters at all: nothing is frozen, and shape inference said what is wrong
        return None
    where = f"model.layers.{frozen.index}"
    return ConfigError(
        f'{where} ({frozen.name}, {frozen.type}): freeze="all" leaves nothing to train in this model; '
        'use freeze="all_but_head", or add a layer after it that trains',
        field=where,
    )


# ----------------------------------------------------------------------------- shared arithmetic


def _infer(params: dict[str, Any], name: str, actual: int, described: str) -> None:
    """Resolve an "auto" size to ``actual``, or check that an explicit one agrees with it."""
    if params[name] == AUTO:
        params[name] = actual
    elif params[name] != actual:
        raise _Problem(f'{name}={params[name]} does not match {described}; use {actual} or "auto"')


def _image(current: _Input) -> Shape:
    if len(current.shape) != 3:
        raise _Problem(f"expects an image-like input (channels, height, width) but gets {current.shape}")
    return current.shape


def _channels(params: dict[str, Any], current: _Input) -> int:
    channels = _image(current)[0]
    _infer(params, "in_channels", channels, f"the input's {channels} channels {current.shape}")
    return channels


def _window(shape: Shape, channels: int, kernel: int, stride: int, padding: int) -> Shape:
    """Output of a square window slid over (C, H, W); a _Problem if a side collapses to nothing."""
    sides = tuple((side + 2 * padding - kernel) // stride + 1 for side in shape[1:])
    if min(sides) < 1:
        collapsed = (channels, *(max(side, 0) for side in sides))
        raise _Problem(
            f"the input {shape} is too small for kernel_size={kernel} with padding={padding}; "
            f"the output would collapse to {collapsed}"
        )
    return (channels, *sides)


def _conv_params(in_channels: int, out_channels: int, kernel: int, bias: bool) -> int:
    return out_channels * in_channels * kernel * kernel + (out_channels if bias else 0)


def _batch_norm(params: dict[str, Any], current: _Input) -> tuple[Shape, int]:
    channels = current.shape[0]
    noun = "features" if len(current.shape) == 1 else "channels"
    _infer(params, "num_features", channels, f"the input's {channels} {noun} {current.shape}")
    return current.shape, 2 * channels if params["affine"] else 0
