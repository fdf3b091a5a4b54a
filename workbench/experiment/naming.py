"""What a run is called and how it is told apart: the data set with its file, the model's outline.

A run took its preset's name and description whatever the data and model became, so a run on
a wine CSV and one on a breast-cancer CSV, both started from ``digits-mlp``, listed alike as
"digits-mlp ... csv". :func:`identity` names an experiment whose data or model was changed from
the one it was opened as for what it now is (``wine-3fc``: the data file's stem and the
model's outline), and :func:`data_label` and :func:`model_outline` are the words the listings
(``workbench runs``, the Runs screen, ``workbench presets``) show. Other changes (a learning
rate, the epochs) keep the name: a preset's name still says what such a run trains.

Torch-free, below the UI line: the app's ``s``, ``workbench train`` and the listings call it.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

from workbench.model.backbones import BACKBONE
from workbench.schema.config import DataConfig, ModelConfig, RunConfig

#: The layer types with weights an outline counts, and the word for each.
_SHORT = {
    "Embedding": "emb",
    "Conv1d": "conv1d",
    "Conv2d": "conv",
    "ResidualBlock": "res",
    "GRU": "gru",
    "LSTM": "lstm",
    "SelfAttention": "attn",
    "Linear": "fc",
    "Code": "code",
}


def model_outline(model: ModelConfig) -> str:
    """A short outline of the model: a class of the user's by its file and name ("nets.py:Net"),
    a layer stack by its layers with weights, counted ("2 conv + 3 fc"; a Code layer is "code")."""
    if model.code:
        return _class_label(model.code)
    layers = model.layers
    counts: dict[str, int] = {}
    backbones = [str(layer.params.get("model", "resnet18")) for layer in layers if layer.type == BACKBONE]
    for layer in layers:
        if layer.type in _SHORT:
            counts[_SHORT[layer.type]] = counts.get(_SHORT[layer.type], 0) + 1
    return " + ".join([*backbones, *(f"{n} {kind}" for kind, n in counts.items())]) or "-"


def data_file(data: DataConfig) -> str:
    """The file or folder the data set reads (the name only: ``wine.csv``; a code data set's
    class, ``mydata.py:MyDataset``), or "" for a named one."""
    if data.dataset == "code":
        return _class_label(str(data.options.get("code", "") or ""))
    path = str(data.options.get("path", "") or "").strip().rstrip("/\\")
    return PurePath(path).name if path else ""


def _class_label(code: str) -> str:
    """``/home/me/nets.py:Net`` -> ``nets.py:Net`` ("" when it names no file)."""
    file, _, name = code.rpartition(":")
    return f"{PurePath(file).name}:{name}" if file else ""


def data_label(data: DataConfig) -> str:
    """The data set with its file: ``csv wine.csv``, ``image-folder shapes``, ``digits``."""
    file = data_file(data)
    return f"{data.dataset} {file}" if file else data.dataset


def identity(config: RunConfig, origin: RunConfig | None) -> tuple[str, str]:
    """The name and description a run of ``config`` takes, given the experiment it was opened as.

    Unchanged data and model keep ``config``'s own. Otherwise the name is the data's word (the
    file's stem, or the data set's name) and the model's outline, ``wine-3fc``, a usable preset
    name and run id; the description says what it came from and what changed.
    """
    if origin is None or not _changed(config, origin):
        return config.name, config.description
    outline = model_outline(config.model)
    stem = PurePath(data_file(config.data)).stem or config.data.dataset
    model_word = outline.rpartition(":")[2] if config.model.code else outline.replace(" + ", "-").replace(" ", "")
    words = [_slug(stem), _slug(model_word)]
    name = "-".join(word for word in words if word) or "run"
    came_from = f"{origin.name} with " if origin.name else ""
    return name, f"{came_from}data {data_label(config.data)}, model {outline}"


def _changed(config: RunConfig, origin: RunConfig) -> bool:
    """Whether what a run trains on, or what it trains, differs from ``origin``'s."""
    return _data_key(config.data) != _data_key(origin.data) or _model_key(config.model) != _model_key(origin.model)


def _model_key(model: ModelConfig) -> tuple[Any, ...]:
    return model.layers, model.code, model.args


def _data_key(data: DataConfig) -> tuple[str, Any]:
    return data.dataset, data.options.get("path", "")


def _slug(text: str) -> str:
    """Letters, digits, ``-``, ``_`` and ``.`` only (a preset name's characters), lower case."""
    return re.sub(r"[^a-z0-9_.]+", "-", text.lower()).strip("-.")
