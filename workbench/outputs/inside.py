"""A look inside a run's model, read back from its inside.jsonl: per layer, the statistics and
histograms of its weights and gradients, of its outputs on a fixed batch, and the first conv
layer's filters, one record per epoch (the engine's :mod:`workbench.engine.inspection` writes
them at each epoch's end).

Torch-free, like the rest of the run domain: ``workbench inside`` and the app's inside view
both read and word the records with the functions here, and the trainer words its warnings
(a dead ReLU, exploding or vanishing gradients) with :func:`findings`, so the run's log, the
CLI and the app say the same thing.
"""

from __future__ import annotations

import base64
import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.errors import WorkbenchError
from workbench.formatting import short_number
from workbench.runs.folder import RunDir, decode_records

#: Bins of every histogram, over a symmetric range [-|max|, |max|] of the tensor.
HISTOGRAM_BINS = 30
#: The gradients recorded: those of the epoch's last step (see engine/inspection.py for why).
GRADIENTS = "last step"

#: Output layers whose zeros mean a unit is off: a ReLU whose every output is zero learns nothing.
RELU_TYPES = frozenset({"ReLU", "ReLU6"})
#: A ReLU with more than this share of its outputs zero on every sample of the probe batch is dead.
DEAD_FRACTION = 0.5
#: An epoch whose gradient norm is this many times the largest of the epochs before: exploding
#: gradients. The largest, not the previous epoch's: the last step's gradients near a minimum
#: can be tiny in one epoch (0.006 on digits-cnn at epoch 6) and ordinary in the next (2.4).
EXPLODING_GROWTH = 10.0
#: ... and whose norm is at least this share of the weights' norm. Near a minimum the last step's
#: gradients are tiny and jump by orders of magnitude from one batch to the next (0.002 → 0.06
#: on a digits-mlp at 100% training accuracy): growth alone would cry wolf there.
EXPLODING_SHARE = 0.1
#: A weight whose gradient, relative to its size, is this small a fraction of the layer that gets
#: the most: vanishing gradients (the early layers of a deep Sigmoid/Tanh stack, typically).
VANISHING_RATIO = 1e-4

_SPARKS = " ▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class TensorStats:
    """Statistics of one tensor's values: its mean, population std, largest magnitude, L2
    norm, the share of exact zeros, and counts in :data:`HISTOGRAM_BINS` bins from -absmax to absmax."""

    mean: float
    std: float
    absmax: float
    norm: float
    zero: float
    hist: tuple[int, ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TensorStats:
        return cls(
            mean=float(data["mean"]),
            std=float(data["std"]),
            absmax=float(data["absmax"]),
            norm=float(data["norm"]),
            zero=float(data["zero"]),
            hist=tuple(int(n) for n in data["hist"]),
        )


@dataclass(frozen=True)
class TensorRecord:
    """One parameter tensor of a layer (``weight``, ``bias``) and its gradient (None: it has
    none, as a frozen parameter)."""

    name: str
    shape: tuple[int, ...]
    weight: TensorStats
    grad: TensorStats | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TensorRecord:
        grad = data.get("grad")
        return cls(
            name=str(data["name"]),
            shape=tuple(int(n) for n in data["shape"]),
            weight=TensorStats.from_dict(data["weight"]),
            grad=TensorStats.from_dict(grad) if isinstance(grad, dict) else None,
        )

    @property
    def grad_ratio(self) -> float | None:
        """The gradient's norm relative to the weight's: how hard the step pushes this tensor."""
        if self.grad is None or self.weight.norm == 0:
            return None
        return self.grad.norm / self.weight.norm


@dataclass(frozen=True)
class ActivationStats:
    """A layer's outputs on the probe batch: mean, std, share of zeros, and the share of
    output units that are zero on every sample of the batch (dead, after a ReLU)."""

    mean: float
    std: float
    zero: float
    dead: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActivationStats:
        return cls(float(data["mean"]), float(data["std"]), float(data["zero"]), float(data["dead"]))


@dataclass(frozen=True)
class LayerRecord:
    """One layer (a module with parameters, or whose outputs were recorded), in model order."""

    name: str
    type: str
    tensors: tuple[TensorRecord, ...]
    activation: ActivationStats | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayerRecord:
        activation = data.get("activation")
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            tensors=tuple(TensorRecord.from_dict(t) for t in data.get("tensors", [])),
            activation=ActivationStats.from_dict(activation) if isinstance(activation, dict) else None,
        )


@dataclass(frozen=True)
class Filters:
    """The first Conv2d's filters as pictures: ``count`` images of ``height`` x ``width`` pixels
    with ``channels`` (1: grey, the mean over the input channels; 3: RGB), each stretched to
    0-255 on its own, row-major uint8 bytes."""

    layer: str
    count: int
    height: int
    width: int
    channels: int
    pixels: bytes
    total: int  # the layer's filters in all (only the first few are kept)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Filters:
        count, height, width, channels = (int(n) for n in data["shape"])
        pixels = base64.b64decode(str(data["pixels"]), validate=True)
        if len(pixels) != count * height * width * channels:
            raise ValueError("filters: the pixels do not fill the shape")
        return cls(str(data["layer"]), count, height, width, channels, pixels, int(data.get("total", count)))

    def image(self, index: int) -> list[list[list[int]]]:
        """Filter ``index`` as rows of pixels, each a list of ``channels`` values 0-255."""
        size = self.height * self.width * self.channels
        flat = self.pixels[index * size : (index + 1) * size]
        row = self.width * self.channels
        return [
            [list(flat[y * row + x * self.channels : y * row + (x + 1) * self.channels]) for x in range(self.width)]
            for y in range(self.height)
        ]


@dataclass(frozen=True)
class InsideEpoch:
    """What the model looked like at the end of one epoch."""

    epoch: int
    global_step: int
    gradients: str  # which gradients: GRADIENTS
    probe_split: str  # the split the probe batch came from ("val", or "train" without validation)
    probe_samples: int
    grad_norm: float | None  # of every gradient together; None: no parameter had one
    layers: tuple[LayerRecord, ...]
    filters: Filters | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InsideEpoch:
        filters = data.get("filters")
        grad_norm = data.get("grad_norm")
        return cls(
            epoch=int(data["epoch"]),
            global_step=int(data.get("global_step", 0)),
            gradients=str(data.get("gradients", GRADIENTS)),
            probe_split=str(data.get("probe_split", "")),
            probe_samples=int(data.get("probe_samples", 0)),
            grad_norm=float(grad_norm) if isinstance(grad_norm, (int, float)) else None,
            layers=tuple(LayerRecord.from_dict(layer) for layer in data["layers"]),
            filters=Filters.from_dict(filters) if isinstance(filters, dict) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``workbench inside --json``); the filters' pixels in base64, as stored."""
        data = dataclasses.asdict(self)
        if self.filters is not None:
            data["filters"]["pixels"] = base64.b64encode(self.filters.pixels).decode("ascii")
        return data

    def layer(self, name: str) -> LayerRecord | None:
        return next((layer for layer in self.layers if layer.name == name), None)


def read_inside(run: RunDir) -> list[InsideEpoch]:
    """The run's records, one per epoch, oldest first. An epoch trained again after a resume
    keeps its newest record; a damaged line (torn by a crash, from another version) is skipped."""
    try:
        data = run.inside_path.read_bytes()
    except FileNotFoundError:  # unreadable raises: nothing recorded is not the same as unreadable
        return []
    by_epoch: dict[int, InsideEpoch] = {}
    for record in decode_records(data):
        try:
            epoch = InsideEpoch.from_dict(record)
        except (KeyError, TypeError, ValueError):
            continue
        by_epoch[epoch.epoch] = epoch
    return [by_epoch[epoch] for epoch in sorted(by_epoch)]


# ----------------------------------------------------------------------------- warnings in plain words


@dataclass(frozen=True)
class Finding:
    """Something worth a warning; ``key`` tells repeats apart (the run warns once per key);
    ``layer``: the layer it is about, as the records name it (none for the whole model)."""

    key: str
    message: str
    layer: str = ""


def findings(record: InsideEpoch, norm_before: float | None) -> list[Finding]:
    """Dead ReLUs, exploding and vanishing gradients at the end of ``record``'s epoch
    (``norm_before``: the largest gradient norm of the epochs before, see :func:`largest_grad_norm`)."""
    return _dead_relus(record) + _exploding(record, norm_before) + _vanishing(record)


def largest_grad_norm(records: Iterable[InsideEpoch], largest: float | None = None) -> float | None:
    """The largest finite gradient norm of ``records`` (and ``largest``, one found before)."""
    for record in records:
        norm = record.grad_norm
        if norm is not None and math.isfinite(norm) and (largest is None or norm > largest):
            largest = norm
    return largest


def _dead_relus(record: InsideEpoch) -> list[Finding]:
    found = []
    for layer in record.layers:
        activation = layer.activation
        if layer.type in RELU_TYPES and activation is not None and activation.dead > DEAD_FRACTION:
            found.append(
                Finding(
                    f"dead:{layer.name}",
                    f"{layer.name}: {activation.dead:.0%} of its outputs are zero on every sample (dead ReLUs) "
                    "— consider a lower optimizer.lr or LeakyReLU",
                    layer.name,
                )
            )
    return found


def _exploding(record: InsideEpoch, before: float | None) -> list[Finding]:
    norm = record.grad_norm
    if norm is None:
        return []
    if not math.isfinite(norm):
        first = next(
            (
                f"{layer.name}.{t.name}"
                for layer in record.layers
                for t in layer.tensors
                if t.grad is not None and not math.isfinite(t.grad.norm)
            ),
            "a layer",
        )
        return [
            Finding(
                "non-finite gradients",
                f"gradients: {first}'s are not finite at the end of epoch {record.epoch} (exploding gradients) "
                "— consider a lower optimizer.lr or train.grad_clip",
            )
        ]
    if before is None or not math.isfinite(before) or before <= 0 or norm < EXPLODING_GROWTH * before:
        return []
    weights = math.sqrt(sum(t.weight.norm**2 for layer in record.layers for t in layer.tensors))
    if norm < EXPLODING_SHARE * weights:
        return []
    return [
        Finding(
            f"exploding:{record.epoch}",
            f"gradients: their norm grew {norm / before:.0f}x in epoch {record.epoch} "
            f"({number(before)} at most before → {number(norm)}; exploding gradients) "
            "— consider a lower optimizer.lr or train.grad_clip",
        )
    ]


def _vanishing(record: InsideEpoch) -> list[Finding]:
    ratios = [
        (f"{layer.name}.{t.name}", ratio, layer.name)
        for layer in record.layers
        for t in layer.tensors
        if len(t.shape) >= 2 and (ratio := t.grad_ratio) is not None and math.isfinite(ratio) and ratio > 0
    ]
    if len(ratios) < 2:
        return []
    strongest = max(ratios, key=lambda item: item[1])
    weakest = min(ratios, key=lambda item: item[1])
    if weakest[1] >= VANISHING_RATIO * strongest[1]:
        return []
    return [
        Finding(
            f"vanishing:{weakest[0]}",
            f"gradients: {weakest[0]} gets {weakest[1] / strongest[1]:.0e} of the gradient (relative to its size) "
            f"that {strongest[0]} gets (vanishing gradients) — consider ReLU over Sigmoid/Tanh, BatchNorm, or fewer layers",
            weakest[2],
        )
    ]


# ----------------------------------------------------------------------------- words and pictures


def number(value: float) -> str:
    """A statistic in at most 8 characters: ``0.0123``, ``-7.34e-4``, ``nan``, ``inf``."""
    if not math.isfinite(value):
        return str(value)
    return short_number(value)


def percent(share: float) -> str:
    return "nan" if not math.isfinite(share) else f"{share:.0%}"


def sparkline(counts: Sequence[int], width: int) -> str:
    """A histogram in one line of ``width`` characters (neighbouring bins summed), the tallest
    bin a full block and an empty one a space, so its shape shows in a table cell."""
    merged = _merge(counts, width)
    top = max(merged, default=0)
    if top <= 0:
        return " " * len(merged)
    return "".join(_SPARKS[math.ceil(n / top * (len(_SPARKS) - 1))] for n in merged)


def histogram_rows(counts: Sequence[int], height: int) -> list[str]:
    """A histogram as ``height`` lines of block characters, one column per bin, tallest bin
    full height; the lines top to bottom (the app draws a weight's and a gradient's with it)."""
    top = max(counts, default=0)
    eighths = [math.ceil(n / top * height * 8) if top > 0 else 0 for n in counts]
    rows = []
    for row in range(height - 1, -1, -1):
        line = ""
        for filled in eighths:
            part = min(8, max(0, filled - row * 8))
            line += _SPARKS[part]
        rows.append(line)
    return rows


def _merge(counts: Sequence[int], width: int) -> list[int]:
    if width <= 0 or len(counts) <= width:
        return list(counts)
    per = math.ceil(len(counts) / width)
    return [sum(counts[i : i + per]) for i in range(0, len(counts), per)]


#: The statistics of a tensor in a row, as ``workbench inside`` and the app title them.
STAT_COLUMNS = ("mean", "std", "|max|", "norm", "zero", "grad norm", "grad/w")
#: The columns of :func:`tensor_rows`: every tensor at one epoch.
TENSOR_COLUMNS = ("tensor", "shape", *STAT_COLUMNS, "weights")
#: The columns of :func:`tensor_history_rows`: one tensor at every epoch.
TENSOR_HISTORY_COLUMNS = ("epoch", *STAT_COLUMNS, "weights", "gradients")
#: The statistics of a layer's outputs in a row.
OUTPUT_COLUMNS = ("mean", "std", "zero", "dead")
#: The columns of :func:`activation_rows`: every layer's outputs at one epoch.
ACTIVATION_COLUMNS = ("layer", "type", *OUTPUT_COLUMNS)
#: The columns of :func:`activation_history_rows`: one layer's outputs at every epoch.
ACTIVATION_HISTORY_COLUMNS = ("epoch", *OUTPUT_COLUMNS)


def tensor_cells(tensor: TensorRecord) -> tuple[str, ...]:
    """:data:`STAT_COLUMNS` of one tensor: its weight's statistics, its gradient's norm and
    that norm relative to the weight's (how hard the last step pushed it)."""
    w, g, ratio = tensor.weight, tensor.grad, tensor.grad_ratio
    return (
        number(w.mean),
        number(w.std),
        number(w.absmax),
        number(w.norm),
        percent(w.zero),
        number(g.norm) if g is not None else "-",
        number(ratio) if ratio is not None else "-",
    )


def output_cells(activation: ActivationStats) -> tuple[str, ...]:
    """:data:`OUTPUT_COLUMNS` of one layer's outputs on the probe batch."""
    return (number(activation.mean), number(activation.std), percent(activation.zero), percent(activation.dead))


def tensor_rows(record: InsideEpoch) -> list[tuple[str, ...]]:
    """Every parameter tensor at one epoch, with its weights' histogram as a sparkline."""
    return [
        (f"{layer.name}.{t.name}", "x".join(str(n) for n in t.shape), *tensor_cells(t), sparkline(t.weight.hist, 10))
        for layer in record.layers
        for t in layer.tensors
    ]


def activation_rows(record: InsideEpoch) -> list[tuple[str, ...]]:
    """Every layer whose outputs were recorded on the probe batch, at one epoch."""
    return [(layer.name, layer.type, *output_cells(a)) for layer in record.layers if (a := layer.activation) is not None]


def tensor_history_rows(records: Sequence[InsideEpoch], layer: str, tensor: str) -> list[tuple[str, ...]]:
    """One tensor of a layer at every recorded epoch, with its weights' and gradients' sparklines."""
    rows = []
    for record in records:
        found = record.layer(layer)
        t = next((t for t in found.tensors if t.name == tensor), None) if found is not None else None
        if t is not None:
            grads = sparkline(t.grad.hist, 10) if t.grad is not None else "-"
            rows.append((str(record.epoch), *tensor_cells(t), sparkline(t.weight.hist, 10), grads))
    return rows


def activation_history_rows(records: Sequence[InsideEpoch], layer: str) -> list[tuple[str, ...]]:
    """One layer's outputs on the probe batch at every recorded epoch."""
    rows = []
    for record in records:
        found = record.layer(layer)
        if found is not None and found.activation is not None:
            rows.append((str(record.epoch), *output_cells(found.activation)))
    return rows


def probe_text(record: InsideEpoch) -> str:
    """``outputs on 179 validation samples · gradients of the epoch's last step (norm 2.86)``."""
    split = {"val": "validation", "train": "training"}.get(record.probe_split, record.probe_split)
    norm = f" (norm {number(record.grad_norm)})" if record.grad_norm is not None else ""
    return f"outputs on {record.probe_samples} {split} samples · gradients of the epoch's {record.gradients}{norm}"


def epoch_record(records: Sequence[InsideEpoch], epoch: int | None, where: str = "--epoch") -> InsideEpoch:
    """The record of ``epoch`` (None: the last one); a run without one is refused in one line."""
    if not records:
        raise WorkbenchError(
            "this run has no inside.jsonl records yet: the trainer writes one at each epoch's end "
            "(runs trained before Workbench recorded them have none)"
        )
    if epoch is None:
        return records[-1]
    found = next((r for r in records if r.epoch == epoch), None)
    if found is None:
        recorded = ", ".join(str(r.epoch) for r in records)
        raise WorkbenchError(f"{where} {epoch}: no record of that epoch; recorded: {recorded}")
    return found
