"""A sweep's axes as typed on the command line and written in the [sweep] table: read, refused
in one line, and written back to the same sweep."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import ConfigError
from workbench.experiment.presets import read_experiment
from workbench.schema import config as config_io
from workbench.schema.sweep import Axis, SweepSpec, dumps_sweep, has_sweep_table, parse_axis, read_sweep_file


def test_values_ranges_and_choices_are_read_as_axes() -> None:
    assert parse_axis("optimizer.lr=0.001,0.003, 0.01") == Axis("optimizer.lr", "values", (0.001, 0.003, 0.01))
    assert parse_axis("data.batch_size=32,64").values == (32, 64)
    assert parse_axis("data.batch_size=choice:16,32") == Axis("data.batch_size", "values", (16, 32))
    assert parse_axis("optimizer.lr=log-uniform:1e-4:1e-1") == Axis("optimizer.lr", "log-uniform", low=1e-4, high=0.1)
    assert parse_axis("optimizer.momentum=uniform:0.8:0.99") == Axis("optimizer.momentum", "uniform", low=0.8, high=0.99)
    assert parse_axis("optimizer.lr=log-uniform:1e-4:1e-1").text() == "optimizer.lr=log-uniform:0.0001:0.1"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("optimizer.lr", "expected SETTING=VALUES"),
        ("=0.1", "expected SETTING=VALUES"),
        ("optimizer.lr=", "no values"),
        ("optimizer.lr=,,", "no values"),
        ("optimizer.lr=fast,slow", "'fast' is not a number"),
        ("optimizer.lr=true", "True is not a number"),
        ("optimizer.lr=nan", "not a number"),
        ("optimizer.lr=gauss:1:2", "'gauss' is not a kind of axis"),
        ("optimizer.lr=uniform:1", "uniform takes LOW:HIGH"),
        ("optimizer.lr=uniform:0.1:0.01", "LOW must be below HIGH"),
        ("optimizer.lr=log-uniform:0:1", "log-uniform needs LOW > 0"),
    ],
)
def test_an_axis_that_cannot_be_read_is_one_line_naming_it(text: str, said: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_axis(text)
    assert said in str(raised.value) and "\n" not in str(raised.value)


def test_a_sweep_file_round_trips_and_reading_it_as_one_experiment_says_it_is_a_sweep(tmp_path: Path) -> None:
    base = read_experiment("digits-mlp")
    spec = SweepSpec(
        (parse_axis("optimizer.lr=log-uniform:1e-4:1e-1"), parse_axis("data.batch_size=32,64")),
        samples=8,
        seed=3,
        halving=(2, 4),
        sampler="tpe",
        pruner="hyperband",
    )
    path = tmp_path / "lr-sweep.toml"
    path.write_text(dumps_sweep(base, spec))
    assert has_sweep_table(path) and not has_sweep_table(tmp_path / "missing.toml")
    config, read = read_sweep_file(path)
    assert read == spec and config_io.to_dict(config) == config_io.to_dict(base)
    with pytest.raises(ConfigError, match=r"holds a \[sweep\] table, so it is a sweep.*workbench train"):
        config_io.read(path)


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ("[sweep]\nsample = 3\n", r"\[sweep\]\.sample: unknown field"),
        ("[sweep]\nsamples = -1\n", r"\[sweep\]\.samples: expected an integer >= 0"),
        ('[sweep]\nhalving = "2"\n', r"\[sweep\]\.halving: expected a list of epochs"),
        ('[sweep.axes]\n"optimizer.lr" = ["a"]\n', r"\[sweep\]\.axes\.optimizer\.lr: 'a' is not a number"),
        ('[sweep]\nsampler = "bayes"\n', r"\[sweep\]\.sampler: 'bayes' is not one; use grid, random, tpe, cmaes, gp"),
        ('[sweep]\npruner = "asha"\n', r"\[sweep\]\.pruner: 'asha' is not one; use halving, hyperband, median"),
        ('[sweep]\nsampler = "tpe"\n', r"the tpe sampler draws points: give how many with samples"),
        ('[sweep]\nsampler = "grid"\nsamples = 4\n', r"the grid sampler runs every point; drop samples"),
    ],
)
def test_a_bad_sweep_table_names_its_field(tmp_path: Path, table: str, said: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\n' + table)
    with pytest.raises(ConfigError, match=said):
        read_sweep_file(path)


def test_axes_given_on_the_command_line_replace_the_files_axes_on_the_same_setting() -> None:
    spec = SweepSpec((parse_axis("optimizer.lr=0.1,0.2"), parse_axis("data.batch_size=32,64")))
    changed = spec.with_axes([parse_axis("optimizer.lr=0.5")])
    assert [a.text() for a in changed.axes] == ["data.batch_size=32,64", "optimizer.lr=0.5"]
