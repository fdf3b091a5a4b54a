"""Evaluation reports: the same numbers as the end of training, and details that add up."""

from __future__ import annotations

import json

import pytest
import torch

from workbench.data.loading import load_splits
from workbench.engine.evaluate import Evaluation, _classification_details, evaluate_checkpoint
from workbench.engine.trainer import Trainer
from workbench.errors import DataError
from workbench.experiment.presets import load_experiment
from workbench.outputs.reports import read_reports, report_path
from workbench.runs.store import find_run


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory):
    """One tiny digits-cnn run shared by the classification tests (10 classes: top-5 applies)."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(home))
        config = load_experiment("digits-cnn", ["data.subset=300", "train.epochs=2"])
        finished = Trainer(config).run()
        yield config, finished, find_run("latest")


def test_evaluating_the_chosen_checkpoint_repeats_the_end_of_training_test_metrics_exactly(digits_run, monkeypatch) -> None:
    config, finished, run = digits_run
    monkeypatch.setenv("WORKBENCH_HOME", str(run.path.parents[2]))
    evaluation = evaluate_checkpoint(run.best_checkpoint, "test")
    assert evaluation.metrics == finished.test
    assert set(evaluation.metrics) == {"loss", "acc", "top5"}
    saved = json.loads(report_path(run, evaluation.checkpoint_name, evaluation.split).read_text())
    assert saved["metrics"] == finished.test and saved["checkpoint_name"] == "best"
    assert [r["split"] for r in read_reports(run)] == ["test"]


def test_a_classification_report_adds_up(digits_run) -> None:
    # scikit-learn, the reference, is imported where used: at the top it cost each worker a second of collection
    from sklearn.metrics import precision_recall_fscore_support

    config, _, run = digits_run
    report = evaluate_checkpoint(run.best_checkpoint, "test")
    confusion = torch.tensor(report.confusion)
    assert confusion.shape == (10, 10) and int(confusion.sum()) == report.num_samples == 359
    assert confusion.diag().sum().item() / report.num_samples == pytest.approx(report.metrics["acc"])
    # Per-class scores agree with scikit-learn on the same predictions.
    y_true = [t for t in range(10) for p in range(10) for _ in range(int(confusion[t, p]))]
    y_pred = [p for t in range(10) for p in range(10) for _ in range(int(confusion[t, p]))]
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=range(10), zero_division=0)
    assert [c["precision"] for c in report.per_class] == pytest.approx(precision.tolist())
    assert [c["recall"] for c in report.per_class] == pytest.approx(recall.tolist())
    assert [c["f1"] for c in report.per_class] == pytest.approx(f1.tolist())
    assert [c["support"] for c in report.per_class] == support.tolist()
    # The most confused pair is the largest off-diagonal cell.
    off = confusion.clone().fill_diagonal_(0)
    if off.max() > 0:
        top = report.most_confused[0]
        assert top["count"] == int(off.max())
        assert int(off[int(top["true"]), int(top["predicted"])]) == top["count"]
    # The worst predictions are mistakes only, worst first, and their indices point at the right
    # samples of the split.
    mistakes = report.num_samples - int(confusion.diag().sum())
    losses = [w["loss"] for w in report.worst]
    assert losses == sorted(losses, reverse=True) and len(report.worst) == min(16, mistakes) > 0
    assert not any(w["correct"] for w in report.worst)
    assert max(e["loss"] for e in report.examples if not e["correct"]) <= losses[0]
    splits = load_splits(config.data, config.train.seed, "cpu")
    targets = torch.cat([t for _, t in splits.test.epoch(0)])
    for worst in report.worst:
        assert report.class_names[int(targets[worst["index"]])] == worst["true"]
        assert worst["true"] != worst["predicted"] and 0 < worst["confidence"] <= 1
    pictures = splits.test.raw_images([w["index"] for w in report.worst[:4]])
    assert pictures.shape == (4, 1, 8, 8) and pictures.dtype == torch.uint8


def test_the_validation_split_can_be_evaluated_and_a_missing_one_is_explained(digits_run) -> None:
    _, _, run = digits_run
    report = evaluate_checkpoint(run.last_checkpoint, "val")
    assert report.split == "val" and report.checkpoint_name == "last" and report.num_samples == 144
    config = load_experiment(
        "spirals-mlp",
        [
            "data.val_fraction=0",
            "data.options.samples_per_class=20",
            "train.epochs=1",
            "train.checkpoint.monitor=train_loss",
            "train.early_stopping.monitor=train_loss",
        ],
    )
    Trainer(config).run()
    with pytest.raises(DataError, match="no validation split"):
        evaluate_checkpoint(find_run("latest").last_checkpoint, "val")


def test_a_regression_report_has_mse_mae_r2_that_agree_with_scikit_learn() -> None:
    from sklearn.metrics import mean_squared_error, r2_score

    finished = Trainer(load_experiment("diabetes-regression", ["train.epochs=5"])).run()
    run = find_run("latest")
    report = evaluate_checkpoint(run.best_checkpoint, "test")
    assert report.metrics == finished.test
    assert set(report.metrics) == {"loss", "mae", "r2", "mse"}
    predicted, true = zip(*report.pairs, strict=True)
    assert len(report.pairs) == report.num_samples == 88  # 20% of 442
    assert report.metrics["r2"] == pytest.approx(r2_score(true, predicted), abs=1e-5)
    assert report.metrics["mse"] == pytest.approx(mean_squared_error(true, predicted), rel=1e-5)
    assert report.metrics["loss"] == pytest.approx(report.metrics["mse"], rel=1e-5)  # the loss is mse
    errors = [w["squared_error"] for w in report.worst]
    assert errors == sorted(errors, reverse=True)
    assert report.confusion == [] and report.per_class == []


def test_worst_predictions_list_only_misclassified_samples_and_none_when_all_are_right() -> None:
    """`workbench eval` listed samples classified right under "worst predictions"."""
    report = Evaluation(
        run_id="", checkpoint="", checkpoint_name="", epoch=None, split="test", task="classification",
        dataset="", num_samples=4, metrics={}, class_names=["a", "b", "c"],
    )  # fmt: skip
    targets = torch.tensor([0, 1, 2, 0])
    # Sample 1 is right but unsure: a higher loss than 2, which is wrong; 3 is wrong and worst.
    outputs = torch.tensor([[5.0, 0.0, 0.0], [0.9, 1.0, 0.9], [0.0, 1.0, 0.95], [0.0, 3.0, 0.0]])
    _classification_details(report, outputs, targets, 3)
    assert [(w["index"], w["true"], w["predicted"]) for w in report.worst] == [(3, "a", "b"), (2, "c", "b")]
    _classification_details(report, outputs, outputs.argmax(1), 3)
    assert report.worst == [] and len(report.examples) == 4
