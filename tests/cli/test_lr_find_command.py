"""`workbench lr-find` as a user runs it: a chart, the suggestion with its caveat, the time."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_lr_find_draws_the_curve_and_marks_the_suggestion_with_its_caveat(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "lr-find", "digits-mlp")
    assert status == 0
    lines = out.splitlines()
    suggested = next(line for line in lines if line.startswith("suggested optimizer.lr = "))
    value = suggested.split("= ")[1].split()[0]
    assert any(f"▼ {value}" in line for line in lines)  # marked on the chart
    assert any("│" in line and any("\u2800" < c <= "\u28ff" for c in line) for line in lines)  # braille curve
    assert "1e-7" in lines[-4] and "LR (log)" in lines[-4]  # decades under the x axis
    assert "try it and a bit lower" in out and "too high" in out
    assert "nothing was saved" in out and f"--set optimizer.lr={value}" in out
    assert max(len(line) for line in lines[1:-4]) <= 72  # the chart fits a narrow terminal


def test_lr_find_json_has_the_curve_and_the_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "lr-find", "spirals-mlp", "--steps", "40", "--start", "1e-5", "--end", "1", "--json")
    result = json.loads(out)
    assert status == 0
    assert result["steps"] == 40 and len(result["lrs"]) == result["taken"] <= 40
    assert result["lrs"][0] == pytest.approx(1e-5) and result["suggestion"] > 0 and result["seconds"] > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope"], "'nope' is neither a preset nor a TOML file"),
        (["digits-mlp", "--start", "1", "--end", "0.1"], "--end: 0.1 must be above --start"),
        (["digits-mlp", "--set", "optimizer.lr=-1"], "optimizer.lr"),
        (["mnist-mlp"], "mnist: the download failed"),  # not in the tests' home, and offline
    ],
)
def test_bad_input_is_one_line_and_a_failure(
    capsys: pytest.CaptureFixture[str], no_network: None, argv: list[str], message: str
) -> None:
    status, out, err = run(capsys, "lr-find", *argv)
    assert status != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err
