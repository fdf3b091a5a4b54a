"""``workbench inside``: the figures the trainer recorded, as tables, JSON, or one layer across epochs."""

from __future__ import annotations

import json

import pytest

from tests.tui.runs import train_run
from workbench.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_inside_prints_every_tensor_and_output_json_one_layer_and_refuses_what_is_not_recorded(capsys) -> None:
    trained = train_run("digits-cnn", epochs=2, overrides=("data.subset=256",))

    status, out, _ = run(capsys, "inside", trained.id)
    assert status == 0
    assert f"Inside {trained.id} · epoch 2 of 2" in out
    assert "gradients of the epoch's last step" in out
    lines = out.splitlines()
    assert any(line.startswith("conv1.weight") and "32x1x3x3" in line for line in lines)
    assert any(line.split()[:2] == ["relu1", "ReLU"] for line in lines)
    assert "conv1: the first 32 of 32 filters, 3x3 (drawn in a terminal and in the app)" in out

    status, out, _ = run(capsys, "inside", trained.id, "--epoch", "1", "--json")
    record = json.loads(out)
    assert status == 0 and record["epoch"] == 1
    assert [layer["name"] for layer in record["layers"]][:3] == ["conv1", "bn1", "relu1"]

    status, out, _ = run(capsys, "inside", trained.id, "--layer", "relu3")
    rows = [line.split() for line in out.splitlines()]
    assert status == 0 and [row[0] for row in rows if row and row[0].isdigit()] == ["1", "2"]

    status, _, err = run(capsys, "inside", trained.id, "--epoch", "7")
    assert status == 1 and err.strip() == "error: --epoch 7: no record of that epoch; recorded: 1, 2"
    status, _, err = run(capsys, "inside", trained.id, "--layer", "relu9")
    assert status == 1 and err.startswith("error: --layer relu9: no such layer in this run's records; its layers: conv1, bn1")

    trained.inside_path.write_bytes(b'{"epoch": 1, "layers": [{"torn')  # damaged: nothing readable left
    status, _, err = run(capsys, "inside", trained.id)
    assert status == 1 and err.count("\n") == 1 and "no inside.jsonl records yet" in err
