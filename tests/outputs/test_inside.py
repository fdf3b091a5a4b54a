"""inside.jsonl read back without torch: damaged lines, epochs trained again, the warnings'
rules and the text the CLI and the app draw with."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from workbench.errors import WorkbenchError
from workbench.outputs.inside import (
    HISTOGRAM_BINS,
    InsideEpoch,
    epoch_record,
    findings,
    histogram_rows,
    largest_grad_norm,
    read_inside,
    sparkline,
    tensor_history_rows,
    tensor_rows,
)
from workbench.runs.folder import RunDir


def _stats(norm: float, absmax: float = 1.0) -> dict[str, Any]:
    hist = [0] * HISTOGRAM_BINS
    hist[HISTOGRAM_BINS // 2] = 10
    return {"mean": 0.0, "std": 0.5, "absmax": absmax, "norm": norm, "zero": 0.0, "hist": hist}


def _record(epoch: int, *, grads: tuple[float, float] = (1.0, 1.0), dead: float = 0.0, weights: float = 2.0) -> dict[str, Any]:
    """Two Linear layers with a ReLU between them, as the engine writes them."""
    first, last = grads
    return {
        "epoch": epoch,
        "global_step": epoch * 10,
        "gradients": "last step",
        "probe_split": "val",
        "probe_samples": 64,
        "grad_norm": (first**2 + last**2) ** 0.5,
        "layers": [
            {
                "name": "fc1",
                "type": "Linear",
                "tensors": [{"name": "weight", "shape": [8, 4], "weight": _stats(weights), "grad": _stats(first)}],
            },
            {"name": "relu1", "type": "ReLU", "tensors": [], "activation": {"mean": 0.1, "std": 0.2, "zero": dead, "dead": dead}},
            {
                "name": "fc2",
                "type": "Linear",
                "tensors": [{"name": "weight", "shape": [2, 8], "weight": _stats(weights), "grad": _stats(last)}],
            },
        ],
        "filters": {
            "layer": "conv1",
            "shape": [2, 1, 2, 1],
            "total": 6,
            "pixels": base64.b64encode(bytes([0, 255, 255, 0])).decode(),
        },
    }


def _write(run: RunDir, lines: list[str]) -> None:
    run.path.mkdir(parents=True, exist_ok=True)
    run.inside_path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_records_read_back_one_per_epoch_the_newest_winning_and_damaged_lines_skipped(tmp_path) -> None:
    run = RunDir(tmp_path / "run")
    retrained = _record(2, grads=(5.0, 5.0))
    _write(
        run,
        [
            json.dumps(_record(1)),
            json.dumps(_record(2)),
            '{"epoch": 3, "lay',
            "not json",
            '{"epoch": "x"}',
            json.dumps(retrained),
        ],
    )
    records = read_inside(run)
    assert [r.epoch for r in records] == [1, 2]
    assert records[1].grad_norm == pytest.approx(50**0.5)  # the epoch trained again after a resume
    assert records[0].filters is not None and records[0].filters.image(1) == [[[255], [0]]]  # one row of two grey pixels
    assert read_inside(RunDir(tmp_path / "none")) == []


def test_the_epoch_asked_for_or_one_line_naming_those_recorded(tmp_path) -> None:
    records = [InsideEpoch.from_dict(_record(1)), InsideEpoch.from_dict(_record(2))]
    assert epoch_record(records, None).epoch == 2
    assert epoch_record(records, 1).epoch == 1
    with pytest.raises(WorkbenchError, match=r"--epoch 5: no record of that epoch; recorded: 1, 2"):
        epoch_record(records, 5)
    with pytest.raises(WorkbenchError, match="no inside.jsonl records yet"):
        epoch_record([], None)


def test_warnings_for_a_dead_relu_exploding_and_vanishing_gradients() -> None:
    calm = InsideEpoch.from_dict(_record(1))
    calm_norm = largest_grad_norm([calm])
    assert findings(calm, None) == []
    dead = findings(InsideEpoch.from_dict(_record(2, dead=0.63)), calm_norm)
    assert [f.message for f in dead] == [
        "relu1: 63% of its outputs are zero on every sample (dead ReLUs) — consider a lower optimizer.lr or LeakyReLU"
    ]
    grown = findings(InsideEpoch.from_dict(_record(2, grads=(12.0, 12.0))), calm_norm)
    assert [f.key for f in grown] == ["exploding:2"] and "grew 12x in epoch 2 (1.41 at most before → 17;" in grown[0].message
    assert findings(InsideEpoch.from_dict(_record(2, grads=(9.0, 9.0))), calm_norm) == []  # under 10x: noise of one batch
    # Near a minimum: tiny last-step gradients jump 30x from one batch to another, still nothing beside the weights.
    settled = InsideEpoch.from_dict(_record(1, grads=(0.002, 0.002), weights=20.0))
    assert findings(InsideEpoch.from_dict(_record(2, grads=(0.06, 0.06), weights=20.0)), largest_grad_norm([settled])) == []
    vanishing = findings(InsideEpoch.from_dict(_record(2, grads=(1e-6, 1.0))), calm_norm)
    assert [f.key for f in vanishing] == ["vanishing:fc1.weight"]
    assert [f.layer for f in dead + vanishing] == ["relu1", "fc1"]  # what the app marks, also in a named group
    assert vanishing[0].message.startswith(
        "gradients: fc1.weight gets 1e-06 of the gradient (relative to its size) that fc2.weight gets"
    )


def test_gradients_grown_from_one_tiny_epoch_back_to_their_usual_size_are_not_exploding() -> None:
    """digits-cnn, seed 0, batch 64: the last step's gradient norm went 1.33, 0.0057, 2.38 over
    epochs 5-7, and the growth from the tiny one read as exploding gradients on the default run."""
    epochs = [InsideEpoch.from_dict(_record(epoch, grads=(g, g), weights=12.0)) for epoch, g in ((5, 0.94), (6, 0.004))]
    back = InsideEpoch.from_dict(_record(7, grads=(1.68, 1.68), weights=12.0))
    assert largest_grad_norm(epochs) == pytest.approx(0.94 * 2**0.5)
    assert findings(back, largest_grad_norm(epochs)) == []
    assert [f.key for f in findings(back, largest_grad_norm(epochs[1:]))] == ["exploding:7"]  # the old rule's verdict
    assert largest_grad_norm([], None) is None and largest_grad_norm(epochs[1:], 3.0) == 3.0


def test_tables_and_histograms_in_text() -> None:
    records = [InsideEpoch.from_dict(_record(1)), InsideEpoch.from_dict(_record(2, grads=(2.0, 1.0)))]
    rows = tensor_rows(records[1])
    assert rows[0][:9] == ("fc1.weight", "8x4", "0", "0.5", "1", "2", "0%", "2", "1")
    assert [row[0] for row in tensor_history_rows(records, "fc1", "weight")] == ["1", "2"]
    assert sparkline([0, 1, 2, 4], width=4) == " ▂▄█"
    assert sparkline([1, 1, 0, 4], width=2) == "▄█"  # neighbouring bins summed
    assert histogram_rows([0, 4, 8], height=2) == ["  █", " ██"]
