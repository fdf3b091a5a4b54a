"""Evaluate a model on a split: metrics, per-class scores, confusion, and telling examples.

The trainer validates each epoch with :func:`validation_metrics` and ends with
:func:`evaluate_model` on the test split; ``workbench eval`` calls :func:`evaluate_checkpoint`,
which rebuilds the same parts from the checkpoint's config and runs the same code, so the two
agree exactly. Their reports are saved next to the run by :mod:`workbench.outputs.reports` for the
app to show without recomputing; ``workbench eval --json`` prints the same structure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from workbench.data.batching import Batches
from workbench.engine.device import PreparedModel
from workbench.engine.distributed import SOLO, Team
from workbench.engine.metrics import MetricTotals
from workbench.engine.restore import restore_model
from workbench.engine.setup import Parts
from workbench.errors import DataError
from workbench.runs.status import now_iso

SPLITS = ("test", "val")
#: Examples kept per report: the worst (highest loss) and an even spread over the split.
EXAMPLES = 16
#: Pairs of (predicted, true) kept for a regression scatter plot.
MAX_PAIRS = 1000
MOST_CONFUSED = 10


@dataclass
class Evaluation:
    """One checkpoint on one split. Sample ``index`` values are positions in the split, for
    ``Batches.raw_images`` (the validation and test splits are never shuffled)."""

    run_id: str
    checkpoint: str  # the file
    checkpoint_name: str  # best, last, epoch-005, or the file's stem
    epoch: int | None
    split: str
    task: str
    dataset: str
    num_samples: int
    metrics: dict[str, float]
    class_names: list[str] = field(default_factory=list)
    per_class: list[dict[str, Any]] = field(default_factory=list)  # class, precision, recall, f1, support
    confusion: list[list[int]] = field(default_factory=list)  # rows: true class; columns: predicted
    most_confused: list[dict[str, Any]] = field(default_factory=list)  # true, predicted, count
    #: Highest loss first; for classification only the misclassified samples (none: all right).
    worst: list[dict[str, Any]] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)  # spread evenly over the split
    pairs: list[list[float]] = field(default_factory=list)  # regression: [predicted, true] of the first target
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------- the pass over a split


def _split_batches(parts: Parts, split: str) -> Batches:
    if split not in SPLITS:
        raise DataError(f"--split {split}: not a split to evaluate; use one of {', '.join(SPLITS)}")
    batches = parts.splits.test if split == "test" else parts.splits.val
    if batches is None:
        raise DataError("this run has no validation split (data.val_fraction = 0); evaluate --split test")
    return batches


def _outputs(
    prepared: PreparedModel, parts: Parts, batches: Batches, totals: MetricTotals, keep: bool
) -> list[tuple[Tensor, Tensor]]:
    """Run the model over every batch in eval mode; add to ``totals``; return the outputs if ``keep``."""
    prepared.model.eval()
    kept = []
    with torch.inference_mode():
        for inputs, targets in batches.epoch(0):
            with parts.precision.autocast():
                outputs = forward(prepared, parts, inputs)
                loss = parts.loss_fn(outputs, targets)
            totals.add(outputs, targets, loss)
            if keep:
                kept.append((outputs.float(), targets))
    return kept


def forward(prepared: PreparedModel, parts: Parts, inputs: Tensor) -> Tensor:
    """The model's outputs for a normalised batch, computed as evaluation computes them (the
    caller holds inference mode; ``workbench predict`` goes through here too)."""
    with parts.precision.autocast():
        return prepared.model(prepared.inputs(inputs))


def validation_metrics(parts: Parts, prepared: PreparedModel, split: str = "val", *, team: Team = SOLO) -> dict[str, float]:
    """Loss and metrics of the model on a split: the per-epoch validation (of a distributed run:
    each worker's share, summed)."""
    totals = MetricTotals(parts.task, parts.num_outputs, parts.device)
    _outputs(prepared, parts, _split_batches(parts, split), totals, keep=False)
    return team.sum_totals(totals).compute()


def evaluate_model(
    parts: Parts,
    split: str,
    *,
    checkpoint: Path,
    run_id: str = "",
    epoch: int | None = None,
    prepared: PreparedModel | None = None,
    team: Team = SOLO,
) -> Evaluation:
    """The full report of the model (default: the plain module of ``parts``) on ``split``. The
    workers of a distributed run each take their range of the split; every one gets the report
    of the whole, their outputs put back in sample order."""
    prepared = prepared or parts.prepared.for_evaluation()
    batches = _split_batches(parts, split)
    totals = MetricTotals(parts.task, parts.num_outputs, parts.device)
    kept = _outputs(prepared, parts, batches, totals, keep=True)
    if not team.alone:
        ranges = team.gather([(o.cpu(), t.cpu()) for o, t in kept])  # sync: every worker's outputs, in rank order
        kept = [(o.to(parts.device), t.to(parts.device)) for share in ranges for o, t in share]
        totals = team.sum_totals(totals)
    outputs = torch.cat([o for o, _ in kept])
    targets = torch.cat([t for _, t in kept])
    info = parts.splits.info
    evaluation = Evaluation(
        run_id=run_id,
        checkpoint=str(checkpoint),
        checkpoint_name=Path(checkpoint).stem,
        epoch=epoch,
        split=split,
        task=info.task,
        dataset=info.name,
        num_samples=batches.num_samples,
        metrics=totals.compute(extra=True),
        class_names=list(info.class_names),
        created_at=now_iso(),
    )
    if info.task == "classification":
        _classification_details(evaluation, outputs, targets, len(info.class_names))
    else:
        _regression_details(evaluation, outputs, targets)
    return evaluation


def _classification_details(evaluation: Evaluation, outputs: Tensor, targets: Tensor, classes: int) -> None:
    probabilities = outputs.softmax(1)
    confidence, predicted = probabilities.max(1)
    losses = F.cross_entropy(outputs, targets, reduction="none")  # -log p(true class): what "worst" ranks by
    confusion = torch.bincount(targets * classes + predicted, minlength=classes * classes).reshape(classes, classes)
    matrix = confusion.cpu()
    true_positive = matrix.diag().double()
    support = matrix.sum(1).double()
    predicted_count = matrix.sum(0).double()
    precision = torch.where(predicted_count > 0, true_positive / predicted_count, 0.0)
    recall = torch.where(support > 0, true_positive / support, 0.0)
    f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    names = evaluation.class_names
    evaluation.per_class = [
        {"class": names[k], "precision": p, "recall": r, "f1": f, "support": int(s)}
        for k, (p, r, f, s) in enumerate(zip(precision.tolist(), recall.tolist(), f1.tolist(), support.tolist(), strict=True))
    ]
    evaluation.confusion = matrix.tolist()
    off_diagonal = matrix.clone().fill_diagonal_(0).flatten()
    top = off_diagonal.topk(min(MOST_CONFUSED, off_diagonal.numel()))
    evaluation.most_confused = [
        {"true": names[i // classes], "predicted": names[i % classes], "count": int(c)}
        for c, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
        if c > 0
    ]

    def example(index: int) -> dict[str, Any]:
        return {
            "index": index,
            "true": names[int(targets[index])],
            "predicted": names[int(predicted[index])],
            "confidence": float(confidence[index]),
            "loss": float(losses[index]),
            "correct": bool(targets[index] == predicted[index]),
        }

    # Only mistakes: a sample classified right is no "worst prediction", however unsure it was.
    wrong = torch.nonzero(predicted != targets).flatten()
    worst_first = losses[wrong].argsort(descending=True)[:EXAMPLES]
    evaluation.worst = [example(i) for i in wrong[worst_first].tolist()]
    evaluation.examples = [example(i) for i in _spread(len(targets))]


def _regression_details(evaluation: Evaluation, outputs: Tensor, targets: Tensor) -> None:
    errors = (outputs - targets).square().mean(1)

    def example(index: int) -> dict[str, Any]:
        return {
            "index": index,
            "true": targets[index].tolist(),
            "predicted": outputs[index].tolist(),
            "squared_error": float(errors[index]),
        }

    evaluation.worst = [example(i) for i in errors.topk(min(EXAMPLES, len(errors))).indices.tolist()]
    evaluation.examples = [example(i) for i in _spread(len(targets))]
    shown = _spread(len(targets), MAX_PAIRS)
    evaluation.pairs = torch.stack([outputs[shown, 0], targets[shown, 0]], 1).tolist()


def _spread(total: int, count: int = EXAMPLES) -> list[int]:
    """Up to ``count`` indices spread evenly over ``range(total)``: the same for every run."""
    if total <= count:
        return list(range(total))
    return torch.linspace(0, total - 1, count).round().long().tolist()


# ----------------------------------------------------------------------------- checkpoints


def evaluate_checkpoint(path: Path, split: str = "test", *, device: str | None = None) -> Evaluation:
    """Rebuild a checkpoint's model and data from its config and evaluate it on ``split``."""
    restored = restore_model(path, device=device)
    return evaluate_model(restored.parts, split, checkpoint=path, run_id=restored.run_id, epoch=restored.epoch)
