"""Names of the metrics a run reports, and which direction counts as better.

Validation (is ``val_acc`` a metric this task has?), the trainer (best checkpoint, early
stopping, plateau schedule) and the listings all use these, so a metric name means the same
thing everywhere.
"""

from __future__ import annotations

SPLITS = ("train", "val")

#: Metrics where a smaller value is better; every other metric is better when larger.
_LOWER_IS_BETTER = frozenset({"loss", "mae", "mse"})


def metric_names(task: str, num_classes: int = 0) -> tuple[str, ...]:
    """Per-epoch metrics of a task: ``loss``, ``acc`` (+ ``top5``) or ``loss``, ``mae``, ``r2``."""
    if task == "regression":
        return ("loss", "mae", "r2")
    return ("loss", "acc", "top5") if num_classes > 5 else ("loss", "acc")


def monitor_choices(task: str, num_classes: int = 0) -> tuple[str, ...]:
    """Every monitorable name, e.g. ``val_loss``, ``val_acc``, ``train_loss``."""
    return tuple(f"{split}_{metric}" for split in SPLITS for metric in metric_names(task, num_classes))


def split_monitor(monitor: str) -> tuple[str, str]:
    """``"val_acc"`` -> ``("val", "acc")``."""
    split, _, metric = monitor.partition("_")
    return split, metric


def higher_is_better(monitor: str) -> bool:
    return split_monitor(monitor)[1] not in _LOWER_IS_BETTER


def is_improvement(value: float, best: float | None, monitor: str, min_delta: float = 0.0) -> bool:
    """True when ``value`` beats ``best`` by more than ``min_delta`` in the monitor's direction."""
    if best is None:
        return True
    if higher_is_better(monitor):
        return value > best + min_delta
    return value < best - min_delta
