"""The items of a data set from the user's own file, read and checked: what the probe's child
answers (:func:`describe_items`) and what training materialises or streams.

An item must be an ``(x, y)`` pair: ``x`` a tensor, a numpy array, a PIL image or a list of
numbers, the same shape for every item, with no NaN; ``y`` an integer class (in range of the
``classes`` attribute when the class has one) or float regression targets. Every broken rule is
one line naming the user's file and class and the item's index; an error raised in their
``__getitem__`` names their file and line (:func:`workbench.usercode.importing.user_code`).
This module imports torch and runs the user's code: only a training process, a command working
on a run or the probe's child imports it, never the app.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from workbench.data.picking import pick_samples
from workbench.data.sources.code_dataset import code_options, code_ref
from workbench.errors import DataError
from workbench.formatting import shape as shape_text
from workbench.usercode.importing import import_user_class, user_code
from workbench.usercode.reference import CodeRef

#: Channels an input of three dimensions may have to be taken for a picture (C, H, W).
PICTURE_CHANNELS = (1, 3)
#: Items the probe reads: the first ones and a spread over the rest, so that a file sorted by
#: class still shows every class it has.
PROBE_ITEMS = 64
#: Samples the probe sends back for the Data screen's previews (pictures at most PICTURE_SIDE).
PREVIEW_COUNT = 24
PICTURE_SIDE = 32


@dataclass(frozen=True)
class Item:
    """One item as arrays: ``x`` as the set gives it (uint8 pictures stay uint8), ``y`` an int64
    scalar (a class) or float32 (T,) (regression targets)."""

    x: np.ndarray
    y: np.ndarray


class UserItems:
    """The user's data set and what messages call it, read item by item with every rule checked
    against the first item read."""

    def __init__(self, ref: CodeRef, dataset: Dataset, args_name: str) -> None:
        self.ref = ref
        self.dataset = dataset
        self.args_name = args_name
        self._first: Item | None = None
        self.classes = _class_names(dataset, ref)
        with user_code(f"len({ref.name})"):
            self.size = int(len(dataset))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.size

    def item(self, index: int) -> Item:
        with user_code(f"{self.ref.name}[{index}]"):
            raw = self.dataset[index]
        item = self._checked(index, raw)
        if self._first is None:
            self._first = item
        return item

    def where(self, index: int) -> str:
        return f"{self.ref.where} ({self.ref.label}{_set_name(self.args_name)}) item {index}"

    def _checked(self, index: int, raw: Any) -> Item:
        if not isinstance(raw, (tuple, list)) or len(raw) != 2:
            got = f"a {type(raw).__name__}" if not isinstance(raw, (tuple, list)) else f"{len(raw)} values"
            raise DataError(f"{self.where(index)}: __getitem__ returned {got}, not an (x, y) pair of input and label")
        x = _input(raw[0], self.where(index))
        y = _target(raw[1], self.where(index))
        first = self._first
        if first is not None:
            if x.shape != first.x.shape:
                raise DataError(
                    f"{self.where(index)}: input of shape {shape_text(x.shape)}, but the first item's is "
                    f"{shape_text(first.x.shape)}; every input must have one shape (resize them in __getitem__)"
                )
            if (y.dtype == np.int64) != (first.y.dtype == np.int64) or y.shape != first.y.shape:
                raise DataError(
                    f"{self.where(index)}: label {_shown(y)}, but the first item's is {_shown(first.y)}; "
                    "every label must be a class (an integer) or every one the same count of numbers"
                )
        if x.dtype.kind == "f" and np.isnan(x).any():
            raise DataError(f"{self.where(index)}: the input holds NaN")
        if y.dtype == np.int64:
            label = int(y)
            if label < 0 or (self.classes and label >= len(self.classes)):
                bound = f"its classes attribute names {len(self.classes)}: 0..{len(self.classes) - 1}" if self.classes else ""
                raise DataError(f"{self.where(index)}: label {label} is out of range ({bound or 'labels start at 0'})")
        elif np.isnan(y).any():
            raise DataError(f"{self.where(index)}: the target holds NaN")
        return Item(x, y)


def open_items(options: dict[str, Any], args_name: str = "args") -> UserItems:
    """The user's class imported and called with ``options[args_name]`` (a training process or
    the probe's child)."""
    ref = code_ref(options)
    cls = import_user_class(ref, Dataset, "Dataset")
    args = options.get(args_name) or {}
    shown = ", ".join(f"{name}={value!r}" for name, value in args.items())
    with user_code(f"{ref.name}({shown})"):
        dataset = cls(**args)
    items = UserItems(ref, dataset, args_name)
    if items.size < 1:
        raise DataError(f"{ref.where} ({ref.label}{_set_name(args_name)}): the data set has no items (len() is 0)")
    return items


def picked_indices(size: int, count: int) -> list[int]:
    """The first ``count // 4`` items and an even spread over the rest, ``count`` in all."""
    if size <= count:
        return list(range(size))
    first = count // 4
    spread = np.linspace(first, size - 1, count - first).round().astype(int).tolist()
    return sorted(set(range(first)) | set(spread))


def probe_dataset(request: dict[str, Any]) -> dict[str, Any]:
    """The code data set's facts, in the probe's child: the class imported and called with its
    arguments, its first items read and checked (one line naming the file and the item), and a
    few of them as small previews for the Data screen."""
    options = code_options({name: request[name] for name in ("code", "args", "test_args") if name in request})
    train = _read_split(options, "args")
    test = _read_split(options, "test_args") if "test_args" in options else None
    first = train.items[0]
    classification = first.y.dtype == np.int64
    if test is not None and (test.items[0].x.shape, test.items[0].y.shape) != (first.x.shape, first.y.shape):
        raise DataError(
            f"data.options.test_args: the test set's items are ({shape_text(test.items[0].x.shape)}, "
            f"{_shown(test.items[0].y)}), the training set's ({shape_text(first.x.shape)}, {_shown(first.y)})"
        )
    count = max(train.outputs, test.outputs if test else 0)
    classes = (list(train.classes) if len(train.classes) >= count else [str(n) for n in range(count)]) if classification else []
    kind = _kind(first.x)
    return {
        "task": "classification" if classification else "regression",
        "kind": kind,
        "class_names": classes,
        "train": train.facts(len(classes) or count),
        "test": test.facts(len(classes) or count) if test else None,
        "samples": _previews(train.items, classes, kind),
    }


@dataclass(frozen=True)
class _Read:
    """What the probe read of one set: its size, the items read, the classes it names or its
    labels reach, or its count of regression targets (``outputs``)."""

    size: int
    items: list[Item]
    classes: tuple[str, ...]
    outputs: int

    def facts(self, outputs: int) -> dict[str, Any]:
        first = self.items[0]
        return {"size": self.size, "input_shape": list(first.x.shape), "dtype": first.x.dtype.name, "num_outputs": outputs}


def _read_split(options: dict[str, Any], args_name: str) -> _Read:
    opened = open_items(options, args_name)
    items = [opened.item(i) for i in picked_indices(opened.size, PROBE_ITEMS)]
    if items[0].y.dtype == np.int64:
        seen = max(int(item.y) for item in items) + 1
        outputs = max(len(opened.classes) or seen, _labels_bound(opened.dataset))
    else:
        outputs = int(items[0].y.shape[0])
    return _Read(opened.size, items, opened.classes, outputs)


def _labels_bound(dataset: Any) -> int:
    """1 + the largest label in a ``targets`` attribute (torchvision's convention), else 0:
    every class, without reading every item."""
    targets = getattr(dataset, "targets", None)
    try:
        values = np.asarray(targets) if targets is not None else None
    except (TypeError, ValueError):
        return 0
    if values is None or values.ndim != 1 or not len(values) or values.dtype.kind not in "iu":
        return 0
    return int(values.max()) + 1


def _kind(x: np.ndarray) -> str:
    if x.ndim == 3 and x.shape[0] in PICTURE_CHANNELS:
        return "image"
    return "tabular" if x.ndim == 1 else "tensor"


def _previews(items: list[Item], classes: list[str], kind: str) -> list[dict[str, Any]]:
    targets = np.array([int(item.y) if classes else 0 for item in items])
    shown: list[dict[str, Any]] = []
    for index in pick_samples(targets, PREVIEW_COUNT, bool(classes)):
        item = items[int(index)]
        label = classes[int(item.y)] if classes else ", ".join(f"{v:.6g}" for v in item.y.tolist())
        if kind == "image":
            shown.append({"image": _picture(item.x), "label": label})
        else:
            shown.append({"features": [float(v) for v in item.x.reshape(-1)[:64].tolist()], "label": label})
    return shown


def _picture(x: np.ndarray) -> dict[str, Any]:
    """A (C, H, W) input as small uint8 (H, W, C) pixels: uint8 as it is, floats in 0..1 scaled
    to 0..255, any other range stretched; at most PICTURE_SIDE pixels a side."""
    from PIL import Image

    values = x.astype(np.float32)
    if x.dtype != np.uint8:
        low, high = float(values.min()), float(values.max())
        if low >= 0 and high <= 1:
            values = values * 255
        else:
            values = (values - low) * (255 / max(high - low, 1e-12))
    pixels = np.clip(values, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    if max(image.size) > PICTURE_SIDE:
        image.thumbnail((PICTURE_SIDE, PICTURE_SIDE))
    small = np.asarray(image, dtype=np.uint8)
    small = small[:, :, None] if small.ndim == 2 else small
    return {"shape": list(small.shape), "pixels": base64.b64encode(small.tobytes()).decode("ascii")}


def _input(x: Any, where: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        array = x.detach().cpu().numpy()
    elif _is_pil(x):
        array = np.asarray(x)
        array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    else:
        try:
            array = np.asarray(x)
        except (TypeError, ValueError):
            array = np.asarray(None)
    if array.dtype.kind not in "biuf":
        raise DataError(
            f"{where}: the input is a {type(x).__name__}, not numbers (a tensor, a numpy array, a PIL image or a list of numbers)"
        )
    if array.ndim == 0:
        array = array.reshape(1)
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    return np.ascontiguousarray(array, dtype=np.float32)


def _target(y: Any, where: str) -> np.ndarray:
    if isinstance(y, torch.Tensor):
        array = y.detach().cpu().numpy()
    else:
        try:
            array = np.asarray(y)
        except (TypeError, ValueError):
            array = np.asarray(None)
    if array.dtype.kind in "biu" and array.size == 1:
        return np.asarray(int(array.reshape(())), dtype=np.int64)
    if array.dtype.kind == "f" and array.size >= 1:
        return np.ascontiguousarray(array.reshape(-1), dtype=np.float32)
    raise DataError(f"{where}: the label is {_shown_value(y)}; a class is an integer (0, 1, ...), regression targets are floats")


def _is_pil(x: Any) -> bool:
    return type(x).__module__.startswith("PIL.")


def _class_names(dataset: Any, ref: CodeRef) -> tuple[str, ...]:
    """The ``classes`` attribute's names (a list of names, or a dict of name -> index)."""
    with user_code(f"{ref.name}.classes"):
        names = getattr(dataset, "classes", None)
    if names is None:
        return ()
    if isinstance(names, dict):
        order = dict(names)
        names = sorted(order, key=lambda name: order[name])
    if isinstance(names, str) or not hasattr(names, "__iter__"):
        raise DataError(f"{ref.where} ({ref.label}): its classes attribute should be a list of names, not {type(names).__name__}")
    return tuple(str(name) for name in names)


def _shown(y: np.ndarray) -> str:
    return str(int(y)) if y.dtype == np.int64 else "[" + ", ".join(f"{v:.4g}" for v in y.tolist()[:4]) + "]"


def _shown_value(y: Any) -> str:
    text = repr(y)
    return f"{type(y).__name__} {text[:40]}" if len(text) <= 40 else f"a {type(y).__name__}"


def _set_name(args_name: str) -> str:
    return ", the test set" if args_name == "test_args" else ""
