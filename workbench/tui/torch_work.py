"""The torch work of the app's screens, in a module that imports no Textual: a child process
(:func:`workbench.tui.torch_thread.in_child_process`) imports it to run the work of a run or
draft of the user's own code, which the app never imports; the torch thread runs the same
functions for everything else. Each imports torch only when called.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.outputs.reports import write_report
from workbench.render.pictures import Captioned
from workbench.runs.folder import RunDir
from workbench.schema.config import RunConfig
from workbench.tui.torch_thread import report_progress

if TYPE_CHECKING:
    from workbench.engine.lr_find import LRFind
    from workbench.engine.predict import Prediction, Predictor


def evaluate_and_save(run: RunDir, checkpoint: Path, split: str) -> dict[str, Any]:
    """What ``workbench eval RUN --checkpoint FILE`` does: evaluate, then save the report."""
    from workbench.engine.evaluate import evaluate_checkpoint  # imports torch: only in the worker

    evaluation = evaluate_checkpoint(checkpoint, split)
    if not evaluation.run_id:
        evaluation.run_id = run.id
    report = evaluation.to_dict()
    write_report(run, report)
    return report


def mistake_pictures(run: RunDir, report: dict[str, Any]) -> list[Captioned]:
    """The misclassified samples among the report's worst predictions, as captioned pictures
    (image datasets only: reading the split's stored images loads the dataset once)."""
    from workbench.data.registry import dataset_spec

    mistakes = [w for w in report.get("worst", []) if not w.get("correct", True)]
    if report.get("task") != "classification" or not mistakes:
        return []
    config = run.read_config()
    if dataset_spec(config.data.dataset).kind != "image":
        return []
    from workbench.data.loading import load_splits

    splits = load_splits(config.data, config.train.seed, "cpu")
    batches = splits.test if report.get("split") == "test" else splits.val
    if batches is None:
        return []
    images = batches.raw_images([m["index"] for m in mistakes]).numpy().transpose(0, 2, 3, 1)
    return [
        Captioned(image, f"{m['true']}→{m['predicted']} {m['confidence']:.0%}", "red")
        for image, m in zip(images, mistakes, strict=True)
    ]


def load_predictor(checkpoint: Path) -> Predictor:
    """What ``workbench predict`` answers with (imports torch: only on the torch thread)."""
    from workbench.engine.predict import Predictor

    return Predictor.from_checkpoint(checkpoint)


def predict_once(checkpoint: Path, path: Path, resize: bool) -> list[Prediction]:
    """A prediction in a child process of its own (a run of the user's code): the predictor is
    built for it, since a child keeps nothing between two."""
    return load_predictor(checkpoint).predict([path], resize=resize)


def run_finder(config: RunConfig, progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> LRFind | None:
    """The finder, on the torch thread (where its module, which imports torch, is imported);
    None when it was cancelled."""
    from workbench.engine.lr_find import LRFindCancelled, find_lr

    try:
        return find_lr(config, progress=progress, cancelled=cancelled)
    except LRFindCancelled:
        return None


def find_in_child(config: RunConfig) -> LRFind:
    """The finder in a child process of its own (the user's code runs there): its steps are
    reported to the dialog through the child's pipe; escape ends the child."""
    from workbench.engine.lr_find import find_lr

    return find_lr(config, progress=lambda step, steps: report_progress((step, steps)))
