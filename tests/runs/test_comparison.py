"""Comparing runs below the UI: every difference, most telling first; sorting by figures; and
``workbench compare`` printing what the app's compare view shows."""

from __future__ import annotations

import json

import pytest

from tests.tui.runs import recorded_run
from workbench.cli import main
from workbench.runs.comparison import MISSING, compare_runs, differences, importance, run_labels


def test_differences_list_every_setting_that_differs_most_telling_first() -> None:
    a = {
        "name": "a",
        "data.dataset": "digits",
        "optimizer.name": "adam",
        "optimizer.lr": 0.003,
        "train.epochs": 5,
        "schedule.name": "cosine",
        "optimizer.beta1": 0.9,
        "train.seed": 1,
        "model.layers.10.p": 0.1,
        "model.layers.9.p": 0.1,
    }
    b = a | {
        "name": "b",
        "optimizer.name": "sgd",
        "optimizer.lr": 0.05,
        "train.epochs": 8,
        "schedule.name": "step",
        "train.seed": 2,
        "model.layers.10.p": 0.2,
        "model.layers.9.p": 0.2,
    }
    del b["optimizer.beta1"]
    found = differences([a, b])
    assert [d.setting for d in found] == [
        "model.layers.9.p",
        "model.layers.10.p",
        "optimizer.name",
        "optimizer.lr",
        "optimizer.beta1",
        "schedule.name",
        "train.epochs",
        "train.seed",
        "name",
    ]
    assert found[4].values == (0.9, MISSING)


def test_equal_values_of_different_spelling_are_not_differences_but_types_are() -> None:
    assert differences([{"x": 1}, {"x": 1}]) == []
    assert [d.values for d in differences([{"x": 1}, {"x": "1"}])] == [(1, "1")]


def test_settings_sort_numbers_in_numeric_order() -> None:
    assert sorted(["model.layers.10.p", "model.layers.2.p"], key=importance) == ["model.layers.2.p", "model.layers.10.p"]


def test_run_labels_are_letters_then_numbers_past_26() -> None:
    assert run_labels(3) == ["A", "B", "C"]
    assert run_labels(27)[:2] == ["1", "2"] and len(set(run_labels(27))) == 27


def test_runs_sort_by_the_figure_not_its_text_and_runs_lacking_a_setting_stay_last() -> None:
    low = recorded_run("low", val_acc=(0.2,), lr=0.1)
    high = recorded_run("high", val_acc=(0.9,), lr=0.003)
    mlp = recorded_run("mlp", "digits-mlp", val_acc=(0.5,), lr=0.02)
    comparison = compare_runs([low, high, mlp])
    assert comparison.order("test") == [1, 2, 0]  # the best test first
    assert comparison.order("optimizer.lr") == [1, 2, 0]
    assert comparison.order("optimizer.lr", reverse=True) == [0, 2, 1]
    assert comparison.order("optimizer.beta1") == [0, 1, 2]  # adam's runs; sgd's lacks it, last
    assert comparison.cells("optimizer.lr") == ["0.1", "0.003", "0.02"]


def test_a_run_whose_experiment_cannot_be_read_is_compared_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    good, broken = recorded_run("good", val_acc=(0.5,)), recorded_run("broken", val_acc=(0.6,))
    (broken.path / "config.toml").write_text("[[[", encoding="utf-8")
    comparison = compare_runs([good, broken])
    assert comparison.runs[1].error and not comparison.runs[0].error
    assert main(["compare", good.id, broken.id]) == 0
    out = capsys.readouterr().out
    assert f"{broken.id}: " in out and "config.toml" in out


def test_workbench_compare_prints_the_runs_and_what_differs_sorted_as_asked(capsys: pytest.CaptureFixture[str]) -> None:
    low = recorded_run("low", val_acc=(0.2,), lr=0.1)
    high = recorded_run("high", val_acc=(0.9,), lr=0.003)
    assert main(["compare", low.id, high.id, "--sort", "test"]) == 0
    out = capsys.readouterr().out
    assert out.index(high.id) < out.index(low.id)
    assert "What differs" in out and "optimizer.lr" in out
    assert main(["compare", low.id, high.id, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["label"] for r in data["runs"]] == ["A", "B"]
    assert {"setting": "optimizer.lr", "values": [0.1, 0.003]} in data["differences"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["latest", "latest"], "at least two different runs"),
        (["latest", "nope"], "no run matches 'nope'"),
        (["{a}", "{b}", "--sort", "colour"], "--sort colour: no such result or setting"),
    ],
)
def test_compare_refuses_bad_arguments_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    a, b = recorded_run("a", val_acc=(0.2,)), recorded_run("b", val_acc=(0.3,))
    argv = [arg.format(a=a.id, b=b.id) for arg in argv]
    assert main(["compare", *argv]) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_two_runs_of_one_experiment_whose_code_was_edited_between_them_differ_in_their_code() -> None:
    """The new user's loop: train their nets.py, edit it, train again, compare. The experiments are
    the same; the code each run copied (its code.json) is what differs, and it comes first."""
    from workbench.usercode.copies import CodeRecord, CopiedFile

    runs = [recorded_run("before", val_acc=(0.5,)), recorded_run("after", val_acc=(0.6,))]
    for run, digest in zip(runs, ("a" * 64, "b" * 64), strict=True):
        files = (CopiedFile("code/nets.py", "/home/me/nets.py", digest),)
        (run.path / "code.json").write_bytes(CodeRecord(0, "me", "2026-12-07T17:00:00", {"/home/me": "code"}, files).to_json())
    comparison = compare_runs(runs)
    assert [d.setting for d in comparison.differences] == ["code nets.py", "name"]
    assert comparison.cells("code nets.py") == ["sha256 aaaaaaaaaaaa", "sha256 bbbbbbbbbbbb"]
    catalog = compare_runs([recorded_run("catalog", val_acc=(0.5,)), recorded_run("same", val_acc=(0.6,))])
    assert [d.setting for d in catalog.differences] == ["name"]
