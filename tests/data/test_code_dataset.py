"""A data set from the user's own class (``data.dataset = "code"``): what the probe reads of it,
each broken rule as one line naming the file and the item, its options checked.

These call the probe's answerer in this process (what the child runs); the child itself, the
registry through it and training are in test_code_dataset_training.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.code_dataset_files import broken_dataset, write_csv_rows, write_pictures
from workbench.data.registry import describe
from workbench.data.sources.code_dataset import facts_from_answer, picture
from workbench.data.sources.code_items import picked_indices, probe_dataset
from workbench.errors import ConfigError, DataError, WorkbenchError
from workbench.schema.config import DataConfig
from workbench.usercode.importing import UserCodeError


def ask(code: str, args: dict | None = None, test_args: dict | None = None) -> dict:
    request = {"kind": "dataset", "code": code, "args": args or {}}
    if test_args is not None:
        request["test_args"] = test_args
    return probe_dataset(request)


def test_the_tutorials_mydataset_over_a_text_file_of_path_label_lines_is_read_as_pictures(tmp_path: Path) -> None:
    listing = write_pictures(tmp_path, count=30, size=8)
    facts = facts_from_answer(ask(f"{tmp_path}/mydata.py:MyDataset", {"file": str(listing)}))
    assert (facts.task, facts.kind, facts.class_names) == ("classification", "image", ("circle", "square", "cross"))
    assert (facts.train.size, facts.train.input_shape, facts.train.dtype) == (30, (3, 8, 8), "uint8")
    assert facts.num_outputs == 3 and facts.test is None
    shown = [picture(sample) for sample in facts.samples]
    assert shown[0].shape == (8, 8, 3) and shown[0].dtype == np.uint8
    assert {sample["label"] for sample in facts.samples[:3]} == {"circle", "square", "cross"}  # classes take turns


def test_rows_of_a_csv_file_with_float_targets_are_a_regression_set(tmp_path: Path) -> None:
    rows = write_csv_rows(tmp_path, count=40)
    facts = facts_from_answer(ask(f"{tmp_path}/rows.py:Rows", {"file": str(rows)}))
    assert (facts.task, facts.kind, facts.class_names, facts.num_outputs) == ("regression", "tabular", (), 1)
    assert (facts.train.input_shape, facts.train.dtype) == ((3,), "float32")
    assert len(facts.samples[0]["features"]) == 3


def test_test_args_give_the_test_sets_facts(tmp_path: Path) -> None:
    train = write_pictures(tmp_path, count=12, file="train.txt")
    test = write_pictures(tmp_path, count=6, file="test.txt")
    facts = facts_from_answer(ask(f"{tmp_path}/mydata.py:MyDataset", {"file": str(train)}, {"file": str(test)}))
    assert facts.train.size == 12 and facts.test is not None and facts.test.size == 6
    other = write_pictures(tmp_path, count=6, size=6, file="small.txt")
    with pytest.raises(
        DataError, match=r"^data.options.test_args: the test set's items are \(3x6x6, 0\), the training set's \(3x8x8, 0\)$"
    ):
        ask(f"{tmp_path}/mydata.py:MyDataset", {"file": str(train)}, {"file": str(other)})


def test_a_set_sorted_by_class_shows_its_last_class_too() -> None:
    picked = picked_indices(1000, 64)
    assert len(picked) == 64 and picked[:16] == list(range(16)) and picked[-1] == 999


@pytest.mark.parametrize(
    ("getitem", "extra", "says"),
    [
        (
            "return torch.zeros(3)",
            "",
            r"^data.options.code \(broken.py:Broken\) item 0: __getitem__ returned a Tensor, not an \(x, y\) pair",
        ),
        (
            "return torch.zeros(3 if index < 5 else 4), 0",
            "",
            r"item 5: input of shape 4, but the first item's is 3; every input must have one shape",
        ),
        (
            "return torch.zeros(3), index % 3",
            'classes = ["a", "b"]',
            r"item 2: label 2 is out of range \(its classes attribute names 2: 0..1\)",
        ),
        ("return torch.zeros(3), -1", "", r"item 0: label -1 is out of range \(labels start at 0\)"),
        ("return torch.full((3,), math.nan if index == 7 else 0.0), 0", "", r"item 7: the input holds NaN$"),
        ("return torch.zeros(3), 'cat'", "", r"item 0: the label is str 'cat'; a class is an integer"),
        ("return 'text', 0", "", r"item 0: the input is a str, not numbers"),
        ("return torch.zeros(3), (0 if index < 4 else 0.5)", "", r"item 4: label \[0.5\], but the first item's is 0"),
    ],
)
def test_each_broken_rule_of_an_item_is_one_line_naming_the_file_and_the_item(
    tmp_path: Path, getitem: str, extra: str, says: str
) -> None:
    broken_dataset(tmp_path, getitem, extra=extra)
    with pytest.raises(DataError, match=says) as raised:
        ask(f"{tmp_path}/broken.py:Broken")
    assert "\n" not in str(raised.value) and "broken.py:Broken" in str(raised.value)


def test_an_error_in_the_users_getitem_names_their_line_and_the_item(tmp_path: Path) -> None:
    broken_dataset(tmp_path, "if index == 3:\n    raise ValueError('row 3 has no label')\nreturn torch.zeros(3), 0")
    with pytest.raises(UserCodeError) as raised:
        ask(f"{tmp_path}/broken.py:Broken")
    assert str(raised.value) == "broken.py line 13: ValueError: row 3 has no label (Broken[3])"


def test_a_missing_argument_of_the_class_is_one_line(tmp_path: Path) -> None:
    write_pictures(tmp_path)
    with pytest.raises(UserCodeError, match=r"TypeError: .*missing 1 required positional argument: 'file' \(MyDataset\(\)\)$"):
        ask(f"{tmp_path}/mydata.py:MyDataset")


def test_a_class_that_is_no_dataset_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("class NotOne:\n    pass\n")
    with pytest.raises(WorkbenchError, match=r"plain.py:NotOne is not a Dataset subclass"):
        ask(f"{tmp_path}/plain.py:NotOne")


@pytest.mark.parametrize(
    ("options", "field", "says"),
    [
        ({}, "data.options.code", "a data set from your code needs its class"),
        ({"code": "mydata.py"}, "data.options.code", "should be FILE.py:CLASS"),
        ({"code": "{dir}/absent.py:MyDataset"}, "data.options.code", "no such file"),
        (
            {"code": "{dir}/mydata.py:MyDataset", "args": "train.txt"},
            "data.options.args",
            "expected a table of keyword arguments",
        ),
        ({"code": "{dir}/mydata.py:MyDataset", "colour": 1}, "data.options.colour", "unknown parameter for dataset code"),
    ],
)
def test_the_options_are_checked_before_any_code_runs(tmp_path: Path, options: dict, field: str, says: str) -> None:
    write_pictures(tmp_path)
    filled = {name: value.format(dir=tmp_path) if isinstance(value, str) else value for name, value in options.items()}
    with pytest.raises(ConfigError, match=says) as raised:
        describe(DataConfig(dataset="code", options=filled))
    assert raised.value.field == field
