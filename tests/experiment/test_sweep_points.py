"""A sweep's points: every one validated before any starts, a grid or seeded samples, and the
bad sweeps refused in one line (an unknown or non-numeric setting, an invalid value, too many)."""

from __future__ import annotations

import pytest

from workbench.errors import ConfigError
from workbench.experiment.presets import read_experiment
from workbench.experiment.sweep_points import plan_points, point_count
from workbench.schema.sweep import SweepSpec, parse_axis


def spec(*axes: str, **options: int) -> SweepSpec:
    return SweepSpec(tuple(parse_axis(a) for a in axes), **options)  # type: ignore[arg-type]


def test_a_two_by_two_grid_is_four_validated_experiments_with_those_settings() -> None:
    points = plan_points(read_experiment("digits-mlp"), spec("optimizer.lr=0.01,0.1", "data.batch_size=32,64"))
    assert [p.values for p in points] == [
        {"optimizer.lr": 0.01, "data.batch_size": 32},
        {"optimizer.lr": 0.01, "data.batch_size": 64},
        {"optimizer.lr": 0.1, "data.batch_size": 32},
        {"optimizer.lr": 0.1, "data.batch_size": 64},
    ]
    assert [(p.config.optimizer.lr, p.config.data.batch_size) for p in points] == [(0.01, 32), (0.01, 64), (0.1, 32), (0.1, 64)]
    assert points[0].config.optimizer.params["momentum"] == 0.9  # the rest is the base, normalised
    assert points[3].label() == "optimizer.lr=0.1 data.batch_size=64"


def test_a_catalog_parameter_and_a_layer_field_can_be_axes() -> None:
    points = plan_points(read_experiment("digits-mlp"), spec("optimizer.momentum=0.5,0.9", "model.layers.1.out_features=32"))
    assert [(p.config.optimizer.params["momentum"], p.config.model.layers[1].params["out_features"]) for p in points] == [
        (0.5, 32),
        (0.9, 32),
    ]


def test_random_points_are_drawn_from_the_seed_within_their_ranges() -> None:
    base = read_experiment("digits-mlp")
    sampled = spec("optimizer.lr=log-uniform:1e-4:1e-1", "data.batch_size=uniform:16:128", samples=8, seed=1)
    points = plan_points(base, sampled)
    assert len(points) == 8 and [p.values for p in points] == [p.values for p in plan_points(base, sampled)]
    assert all(1e-4 <= p.values["optimizer.lr"] <= 0.1 for p in points)
    assert all(isinstance(p.values["data.batch_size"], int) and 16 <= p.values["data.batch_size"] <= 128 for p in points)
    other = plan_points(base, spec("optimizer.lr=log-uniform:1e-4:1e-1", samples=8, seed=2))
    assert [p.values["optimizer.lr"] for p in other] != [p.values["optimizer.lr"] for p in points]


@pytest.mark.parametrize(
    ("axes", "said"),
    [
        (("optimizer.lrr=0.1",), "optimizer.lrr: no such numeric setting in this experiment (did you mean optimizer.lr?)"),
        (("optimizer.name=1,2",), "optimizer.name: this setting is 'sgd', not a number"),
        (("train.early_stopping.enabled=1",), "this setting is 'false', not a number"),
        (("optimizer.lr=0.1,-1",), "sweep point 2 (optimizer.lr=-1): optimizer.lr: -1.0 is not allowed; expected a number > 0"),
        (("data.batch_size=32,0.5",), "sweep point 2 (data.batch_size=0.5): data.batch_size: 0.5 is not allowed"),
        (("optimizer.lr=log-uniform:1e-4:1e-1",), "a range is sampled; add --samples N"),
        ((), "the sweep has no axes"),
    ],
)
def test_a_bad_sweep_is_refused_in_one_line_before_anything_starts(axes: tuple[str, ...], said: str) -> None:
    with pytest.raises(ConfigError) as raised:
        plan_points(read_experiment("digits-mlp"), spec(*axes))
    assert said in str(raised.value) and "\n" not in str(raised.value)


def test_a_grid_past_the_limit_is_refused_with_its_count_unless_the_limit_is_raised() -> None:
    values = ",".join(str(i) for i in range(1, 101))
    huge = spec(f"data.batch_size={values}", f"train.seed={values}")
    assert point_count(huge) == 10_000
    with pytest.raises(ConfigError, match=r"has 10,000 points \(100 x 100\), more than the limit of 256; .*--max-points 10000"):
        plan_points(read_experiment("digits-mlp"), huge)
    assert len(plan_points(read_experiment("digits-mlp"), spec("train.seed=1,2,3", max_points=3))) == 3
    with pytest.raises(ConfigError, match="has 3 points"):
        plan_points(read_experiment("digits-mlp"), spec("train.seed=1,2,3", max_points=2))
