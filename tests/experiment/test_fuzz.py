"""Property-based fuzz of experiments: whatever a person types or a file holds, the outcome is a
clean result or one clean error line (a WorkbenchError), never another exception.

The quick suite tries a few dozen cases of each; the ``slow`` marker runs thousands.
"""

from __future__ import annotations

import math

import pytest
import tomli_w
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workbench.errors import WorkbenchError
from workbench.experiment.draft import Draft
from workbench.experiment.presets import list_presets, read_experiment
from workbench.experiment.validation import check_experiment
from workbench.schema import config as config_io
from workbench.schema.config import to_dict

PRESETS = sorted(entry.name for entry in list_presets())
#: Paths a person is likely to --set, plus a few that do not exist.
PATHS = [
    "name",
    "data.dataset",
    "data.batch_size",
    "data.val_fraction",
    "data.options.noise",
    "data.options.path",
    "data.augment.random_crop_padding",
    "model.init",
    "model.layers.0.type",
    "model.layers.1.out_features",
    "model.layers.1.out_channels",
    "model.layers.1.kernel_size",
    "model.layers.2.name",
    "model.layers.99.out_features",
    "loss.name",
    "loss.params.label_smoothing",
    "optimizer.name",
    "optimizer.lr",
    "optimizer.params.momentum",
    "optimizer.params.beta1",
    "schedule.name",
    "schedule.params.step_size",
    "schedule.params.milestones",
    "schedule.warmup_epochs",
    "train.epochs",
    "train.device",
    "train.precision",
    "train.early_stopping.patience",
    "checkpoint.every",
    "nonsense",
    "optimizer.lr.deeper",
    "model.layers.x",
]
SCALARS = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=20),
    st.sampled_from(["auto", "[/]", "[bold]x", "cuda:7", "sgd", "adam", "cosine", "digits", "Linear", "", "\x00", "é"]),
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8
)


def _toml_literal(value: object) -> str:
    """How a person would type ``value`` after ``--set key=`` (or something close to it)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    try:
        return tomli_w.dumps({"v": value}).partition("=")[2].strip()
    except (TypeError, ValueError):
        return str(value)


def _check(overrides: list[str], preset: str) -> None:
    """Apply the overrides and check the experiment: a WorkbenchError is a clean outcome."""
    try:
        experiment = config_io.apply_overrides(read_experiment(preset), overrides)
        checked = check_experiment(experiment)
        Draft(experiment)  # what the app does with it: must never raise
    except WorkbenchError as error:
        assert str(error) and "\n" not in str(error).strip(), repr(error)
        return
    assert all(isinstance(problem, WorkbenchError) and problem.field is not None for problem in checked.problems)


#: Cases the quick suite tries of each property: enough to catch a path that escapes in a
#: minute-long suite (each case validates a whole experiment); the slow suite tries thousands.
QUICK_EXAMPLES = 60

#: What a person could type that is not a TOML value, including what once escaped as a traceback.
RAW_TEXTS = st.text(max_size=12) | st.sampled_from(["9" * 5000, "9" * 400, "[" * 3000 + "]" * 3000, "1e999", "0x", "[1,", '"'])
OVERRIDES = st.lists(st.tuples(st.sampled_from(PATHS), VALUES.map(_toml_literal) | RAW_TEXTS), min_size=1, max_size=4)


@settings(max_examples=QUICK_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=OVERRIDES, preset=st.sampled_from(PRESETS))
def test_any_set_values_give_a_clean_result_or_one_clean_error(overrides: list[tuple[str, str]], preset: str) -> None:
    _check([f"{key}={text}" for key, text in overrides], preset)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=OVERRIDES, preset=st.sampled_from(PRESETS))
def test_thousands_of_set_values_give_a_clean_result_or_one_clean_error(overrides: list[tuple[str, str]], preset: str) -> None:
    _check([f"{key}={text}" for key, text in overrides], preset)


def _mutated_file(data: dict, path: list[str], value: object) -> str:
    """The TOML of an experiment with one value replaced anywhere (or a table added)."""
    node = data
    for part in path[:-1]:
        child = node.get(part) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value
    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError):
        return "name = 1\n"


@settings(max_examples=QUICK_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    preset=st.sampled_from(PRESETS),
    path=st.lists(
        st.sampled_from(["data", "model", "loss", "optimizer", "schedule", "train", "options", "params", "name", "x"]),
        min_size=1,
        max_size=3,
    ),
    value=VALUES,
)
@example(preset="cifar10-finetune", path=["data"], value={"\n": 0})  # a key with a line break: one line still
def test_any_experiment_file_reads_as_a_clean_result_or_one_clean_error(preset: str, path: list[str], value: object) -> None:
    text = _mutated_file(to_dict(read_experiment(preset)), path, value)
    try:
        experiment = config_io.loads(text, source="fuzz.toml")
        check_experiment(experiment)
    except WorkbenchError as error:
        assert str(error) and "\n" not in str(error).strip(), repr(error)
