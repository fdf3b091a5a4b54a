"""The experiment as plain dataclasses, read from and written to TOML.

A :class:`RunConfig` holds everything a run needs: data, model, loss, optimizer, schedule and
training options. Plain fields carry their :class:`~workbench.schema.params.Param` schema in the
dataclass field metadata, so the config validates them, ``--set`` types them and the app draws
forms for them from one declaration. Catalog-driven parts (a layer's parameters, an optimizer's
momentum) are flat in TOML and kept in a ``params`` dict, checked against their catalog.

The dataclasses may hold an invalid draft (the app edits one); :func:`problems` lists what is
wrong and :func:`validate` raises the first problem. Loading a file validates.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import tomli_w

from workbench.errors import ConfigError
from workbench.schema.params import Param, parse_literal


def knob(default: Any, kind: str, help: str, **schema: Any) -> Any:
    """A dataclass field with its Param schema attached (name filled in from the field)."""
    return field(default=default, metadata={"param": Param("", kind, default, help, **schema)})  # type: ignore[arg-type]


def section_params(section: type) -> tuple[Param, ...]:
    """The Param schema of every plain field of a config section, in declaration order."""
    return tuple(
        dataclasses.replace(f.metadata["param"], name=f.name) for f in dataclasses.fields(section) if "param" in f.metadata
    )


# ----------------------------------------------------------------------------- sections


@dataclass
class AugmentConfig:
    """Per-batch, vectorised augmentation of image datasets (training split only)."""

    random_crop_padding: int = knob(0, "int", "pad by this many pixels, then crop back at random (0 = off)", min=0, max=32)
    horizontal_flip: bool = knob(False, "bool", "flip half of each batch left-right")


@dataclass
class DataConfig:
    dataset: str = knob("digits", "str", "dataset name (see `workbench presets` / the Data screen)")
    batch_size: int = knob(64, "int", "training samples per step", min=1, max=65536)
    eval_batch_size: int = knob(1000, "int", "samples per step when validating and testing", min=1, max=65536)
    val_fraction: float = knob(0.1, "float", "share of the training set held out for validation", min=0.0, max=0.9)
    subset: int = knob(0, "int", "train on only this many samples, for quick runs (0 = all)", min=0)
    normalize: bool = knob(True, "bool", "standardise inputs with the training set's mean and std (token ids stay as they are)")
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    #: Dataset-specific options (spirals noise, csv path, ...), checked by the dataset registry.
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class LayerSpec:
    """One layer: its catalog type, an optional explicit name, and its parameters.

    ``group`` names the block the layer belongs to (the tutorial's ``conv`` and ``dense``):
    consecutive layers with the same group become one named ``nn.Sequential`` inside the model.
    Empty (the default, and every flat model) keeps the layer at the top level.
    """

    type: str
    name: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    group: str = ""


@dataclass
class ModelConfig:
    """The network: a layer list from the catalog, or (``code``) a class from the user's own file.

    ``code = "nets.py:Net"`` names an ``nn.Module`` subclass (the path resolved against the
    experiment file's folder when the file is read); ``args`` are its keyword arguments. A model
    from code has no layer list."""

    layers: list[LayerSpec] = field(default_factory=list)
    code: str = knob("", "str", "a model class from your own Python file, FILE.py:CLASS (instead of layers)")
    #: Keyword arguments of the ``code`` class, as TOML values (``--set model.args.hidden=64``).
    args: dict[str, Any] = field(default_factory=dict)
    init: str = knob(
        "default",
        "choice",
        "weight initialisation of Linear and Conv layers",
        choices=("default", "kaiming_normal", "kaiming_uniform", "xavier_normal", "xavier_uniform", "orthogonal"),
    )
    bias_init: str = knob("default", "choice", "bias initialisation", choices=("default", "zeros"))


@dataclass
class LossConfig:
    name: str = knob("cross_entropy", "str", "loss function")
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class OptimizerConfig:
    name: str = knob("sgd", "str", "optimizer")
    lr: float = knob(0.01, "float", "base learning rate", min=0.0, max=10.0, min_exclusive=True)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScheduleConfig:
    name: str = knob("constant", "str", "learning-rate schedule")
    warmup_epochs: float = knob(0.0, "float", "linear warmup from 0 over this many epochs (0 = none)", min=0.0)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class EarlyStoppingConfig:
    enabled: bool = knob(False, "bool", "stop when the monitored metric stops improving")
    monitor: str = knob("val_loss", "str", "metric to watch (val_loss, val_acc, val_r2, ...)")
    patience: int = knob(5, "int", "epochs without improvement before stopping", min=1)
    min_delta: float = knob(0.0, "float", "smallest change that counts as an improvement", min=0.0)
    restore_best: bool = knob(True, "bool", "end with the weights of the best epoch")


@dataclass
class CheckpointConfig:
    every: int = knob(1, "int", "save epoch-NNN.pt every N epochs (0 = only last and best)", min=0)
    keep_last: int = knob(3, "int", "keep this many epoch-NNN.pt files (0 = all)", min=0)
    monitor: str = knob("val_loss", "str", "metric that decides best.pt")


@dataclass
class TrainConfig:
    epochs: int = knob(10, "int", "passes over the training set", min=1, max=100000)
    seed: int = knob(0, "int", "seed for weights, data split and batch order", min=0)
    device: str = knob("auto", "str", "auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps")
    precision: str = knob("fp32", "choice", "autocast precision on CUDA", choices=("fp32", "bf16", "fp16", "auto"))
    channels_last: bool = knob(False, "bool", "channels_last memory format for conv nets on GPU")
    compile: bool = knob(False, "bool", "torch.compile the model (slow start, faster steps)")
    deterministic: bool = knob(False, "bool", "runs on a GPU repeat and resume bit for bit (deterministic kernels, slower)")
    workers: int = knob(
        1,
        "int",
        "worker processes on this machine, one per GPU (DistributedDataParallel); batch_size stays global",
        min=1,
        max=256,
    )
    sync_batchnorm: bool = knob(
        False, "bool", "with several workers on GPUs, BatchNorm statistics over the global batch, not each worker's share"
    )
    grad_clip: float = knob(0.0, "float", "clip the gradient norm to this value (0 = off)", min=0.0)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)


@dataclass
class RunConfig:
    """One experiment: everything needed to reproduce a run."""

    name: str = knob("", "str", "experiment name (defaults to the preset or file name)")
    description: str = knob("", "str", "one line about the experiment")
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def copy(self) -> RunConfig:
        return copy.deepcopy(self)


#: Sections whose catalog parameters sit flat in the TOML table next to the plain fields.
_FLAT_PARAMS = (LossConfig, OptimizerConfig, ScheduleConfig, LayerSpec)


# ----------------------------------------------------------------------------- dict <-> dataclass


def to_dict(config: Any) -> dict[str, Any]:
    """Plain TOML-ready data for a config or any section of it."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name == "params" and isinstance(config, _FLAT_PARAMS):
            out.update(value)
        elif dataclasses.is_dataclass(value):
            out[f.name] = to_dict(value)
        elif isinstance(value, list):
            out[f.name] = [to_dict(item) for item in value]
        elif isinstance(value, dict):
            out[f.name] = dict(value)
        elif f.name in ("name", "group") and isinstance(config, LayerSpec) and not value:
            continue
        elif f.name in ("code", "args") and isinstance(config, ModelConfig) and not value:
            continue  # a catalog model's file stays as it always was
        else:
            out[f.name] = value
    return out


def _key_text(key: str) -> str:
    """A key as TOML writes it: bare when it can be, else quoted (a key with a line break in it
    stays on the one line of its error)."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def from_dict(data: dict[str, Any], section: type = RunConfig, where: str = "") -> Any:
    """Build a config (or a section) from plain data, type-checking every plain field."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a table, got {data!r}", field=where)
    hints = get_type_hints(section)
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(section)}
    for key, value in data.items():
        path = f"{where}.{_key_text(key)}" if where else _key_text(key)
        if section is TrainConfig and key == "data_parallel":
            _retired_data_parallel(value, path)
            continue
        f = fields.get(key)
        if f is None or (key == "params" and section in _FLAT_PARAMS):
            if section in _FLAT_PARAMS:
                extra[key] = value
                continue
            allowed = ", ".join(n for n in fields)
            raise ConfigError(f"{path}: unknown field; allowed here: {allowed}", field=path)
        hint = hints[key]
        if "param" in f.metadata:
            kwargs[key] = dataclasses.replace(f.metadata["param"], name=key).coerce(value, path)
        elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
            kwargs[key] = from_dict(value, hint, path)
        elif key == "layers":
            if not isinstance(value, list):
                raise ConfigError(f"{path}: expected a list of layers ([[model.layers]] tables)", field=path)
            kwargs[key] = [from_dict(item, LayerSpec, f"{path}.{i}") for i, item in enumerate(value)]
        elif key == "type" and section is LayerSpec:
            if not isinstance(value, str):
                raise ConfigError(f"{path}: expected a layer type name, got {value!r}", field=path)
            kwargs[key] = value
        elif key in ("name", "group") and section is LayerSpec:
            what = "layer name" if key == "name" else "group name"
            problem = layer_name_problem(value, what) if isinstance(value, str) else f"{value!r} is not a {what}"
            if problem:
                raise ConfigError(f"{path}: {problem}", field=path)
            kwargs[key] = value
        elif key == "options":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: expected a table of dataset options", field=path)
            kwargs[key] = dict(value)
        elif key == "args" and section is ModelConfig:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: expected a table of keyword arguments for model.code's class", field=path)
            kwargs[key] = dict(value)
        else:  # pragma: no cover - every field kind is handled above
            raise AssertionError(f"unhandled config field {path}")
    if section is LayerSpec and "type" not in kwargs:
        raise ConfigError(f"{where}: a layer needs a type", field=where)
    if extra:
        kwargs["params"] = extra
    return section(**kwargs)


def _retired_data_parallel(value: Any, path: str) -> None:
    """``train.data_parallel`` (nn.DataParallel) is gone: ``false``, as every earlier run's
    config.toml says, is read as nothing; ``true`` is refused, naming what replaced it."""
    if value is not False:
        raise ConfigError(
            f"{path}: nn.DataParallel is retired; train on several GPUs with DistributedDataParallel: "
            "workbench train ... --nproc-per-node N (one worker per GPU)",
            field=path,
        )


def flat_settings(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{"optimizer": {"lr": 0.1}}`` -> ``{"optimizer.lr": 0.1}``; list items by index
    (``model.layers.1.out_features``): the paths ``--set`` and ``--sweep`` take."""
    items: list[tuple[Any, Any]]
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = [(str(i), v) for i, v in enumerate(data)]
    else:
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in items:
        flat.update(flat_settings(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


# ----------------------------------------------------------------------------- TOML


def loads(text: str, source: str = "<string>") -> RunConfig:
    """Parse TOML text into a RunConfig (structure and plain fields checked, not yet validated)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{source}: not a usable experiment: arrays or tables nested too deeply") from None
    except ValueError as error:  # an integer of more than 4,300 digits
        raise ConfigError(f"{source}: not a usable experiment: {str(error).split(';')[0]}") from None
    if "sweep" in data:  # schema.sweep reads these; one experiment alone would be a guess
        raise ConfigError(
            f"{source}: holds a [sweep] table, so it is a sweep, not one experiment; `workbench train {source}` runs the sweep",
            field="sweep",
        )
    try:
        return from_dict(data)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}", field=error.field) from None


def dumps(config: RunConfig) -> str:
    return tomli_w.dumps(to_dict(config))


def read_text(path: Path) -> str:
    """The text of an experiment file; errors name the file."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start} is {error.object[error.start]:#04x})") from None


def read(path: Path) -> RunConfig:
    """Read a TOML experiment file (not yet validated); errors name the file. The user's code
    files it names are found from the file's folder (:func:`anchor_code_paths`)."""
    config = loads(read_text(path), source=str(path))
    if not config.name:
        config.name = Path(path).stem
    anchor_code_paths(config, Path(path).parent)
    return config


def anchor_code_paths(config: RunConfig, folder: Path) -> None:
    """Make the user's code references of ``config`` absolute, relative ones read from ``folder``
    (the experiment file's): ``model.code``, a code dataset's ``data.options.code``, and each
    string argument of theirs that names a file or folder there (``MyDataset(file="train.txt")``),
    so that a run started from anywhere finds them and its config.toml says where they were."""
    model = config.model
    model.code = _anchored_ref(model.code, folder)
    model.args = _anchored_args(model.args, folder)
    for layer in model.layers:
        if isinstance(layer.params.get("code"), str):
            layer.params["code"] = _anchored_ref(layer.params["code"], folder)
        if isinstance(layer.params.get("args"), dict):
            layer.params["args"] = _anchored_args(layer.params["args"], folder)
    options = config.data.options
    if config.data.dataset == "code":
        if isinstance(options.get("code"), str):
            options["code"] = _anchored_ref(options["code"], folder)
        for key in ("args", "test_args"):
            if isinstance(options.get(key), dict):
                options[key] = _anchored_args(options[key], folder)


def _anchored_ref(ref: str, folder: Path) -> str:
    """``nets.py:Net`` -> ``/abs/folder/nets.py:Net``; an absolute or empty reference as it is."""
    file, sep, name = ref.rpartition(":")
    if not sep or not file.strip():
        return ref
    path = Path(file.strip()).expanduser()
    return ref if path.is_absolute() else f"{folder.resolve() / path}:{name}"


def _anchored_args(args: dict[str, Any], folder: Path) -> dict[str, Any]:
    def anchored(value: Any) -> Any:
        if not isinstance(value, str) or not value or Path(value).expanduser().is_absolute():
            return value
        candidate = folder / value
        return str(candidate.resolve()) if candidate.exists() else value

    return {key: anchored(value) for key, value in args.items()}


def write(config: RunConfig, path: Path) -> None:
    """Write the experiment as TOML, atomically (a crash leaves the old file or the new one)."""
    from workbench.atomic import atomic_write_bytes

    atomic_write_bytes(Path(path), dumps(config).encode("utf-8"))


# ----------------------------------------------------------------------------- overrides


def apply_overrides(config: RunConfig, overrides: list[str]) -> RunConfig:
    """Return a copy with ``section.field=value`` overrides applied.

    Paths walk tables and list indices (``model.layers.3.out_features=64``); values are read as
    TOML literals and then typed by the field or catalog parameter they land on.
    """
    data = to_dict(config)
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. optimizer.lr=0.05")
        _set_path(data, key.split("."), parse_literal(text), key)
    return from_dict(data)


def _set_path(node: Any, parts: list[str], value: Any, key: str) -> None:
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"--set {key}: {where} is out of range (there are {len(node)} items)", field=where)
            index = int(part)
            if last:
                raise ConfigError(f"--set {key}: cannot replace a whole list item; set one of its fields", field=where)
            node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
                return
            if part not in node:
                node[part] = {}
            node = node[part]
        else:
            raise ConfigError(f"--set {key}: {'.'.join(parts[:depth])} is a value, not a table", field=where)


def layer_name_problem(name: str, what: str = "layer name") -> str | None:
    """Why ``name`` cannot name a layer (or a group of layers), or None; empty means automatic
    (conv1, fc2, ...) for a layer and no group for a group.

    The one rule for the TOML reader, the draft and shape inference: the name becomes a Python
    attribute of the built model and of the generated code."""
    if name == "" or name.isidentifier():
        return None
    return f"{name!r} is not a valid {what} (letters, digits, _)"


def layer_index(field: str) -> int | None:
    """The layer a field path points into (``model.layers.3.out_features`` -> 3), else None."""
    parts = field.split(".")
    if len(parts) >= 3 and parts[:2] == ["model", "layers"] and parts[2].isdigit():
        return int(parts[2])
    return None
