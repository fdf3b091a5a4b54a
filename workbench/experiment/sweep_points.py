"""A sweep's points: every experiment it will train, each checked before any of them starts.

:func:`plan_points` checks the axes against the base experiment (each names a numeric setting
the experiment has), counts the points (refusing a sweep larger than its limit, with the
count), draws them (the grid, or ``samples`` random points from ``seed``), and validates every
point as the experiment it will be. A sweep with one invalid point starts nothing. A learning
sampler's points (TPE, CMA-ES, GP) are drawn one by one as the sweep runs: none is planned, and
each is validated by :func:`point_config` when drawn. Torch-free.
"""

from __future__ import annotations

import difflib
import itertools
import math
import random
from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigError
from workbench.experiment.validation import validate
from workbench.schema import config as config_io
from workbench.schema.config import RunConfig
from workbench.schema.params import format_value
from workbench.schema.sweep import Axis, SweepSpec, checked_spec

#: Significant digits of a sampled value: 0.0031 reads (and compares) better than 0.003097316.
SAMPLED_DIGITS = 3


@dataclass(frozen=True)
class SweepPoint:
    """One point: its number (from 1), the axes' values, and the validated experiment."""

    number: int
    values: dict[str, float | int]
    config: RunConfig

    def label(self) -> str:
        """``optimizer.lr=0.003 data.batch_size=64``."""
        return " ".join(f"{k}={format_value(v)}" for k, v in self.values.items())


def plan_points(base: RunConfig, spec: SweepSpec) -> list[SweepPoint]:
    """Every planned point of the sweep, validated (none for a learning sampler: its points are
    drawn as it runs); a ConfigError line for the first thing wrong."""
    base, integer = checked_base(base, spec)
    if not spec.planned:
        return []
    return [point_config(base, number, values) for number, values in enumerate(_draw(spec, integer), start=1)]


def checked_base(base: RunConfig, spec: SweepSpec) -> tuple[RunConfig, dict[str, bool]]:
    """The validated base experiment, and for each axis whether its setting is a whole number;
    a ConfigError line for an axis the experiment cannot take, or too many points."""
    checked_spec(spec, "the sweep")
    if not spec.axes:
        raise ConfigError("the sweep has no axes; add one, e.g. --sweep optimizer.lr=0.001,0.01", field="sweep")
    base = validate(base)
    settings = config_io.flat_settings(config_io.to_dict(base))
    settings |= _class_defaults(base, spec, settings)
    for axis in spec.axes:
        check_axis(axis, settings)
    count = point_count(spec)
    if count > spec.max_points:
        shape = " x ".join(str(len(a.values)) for a in spec.axes) if spec.is_grid else f"{spec.samples} samples"
        raise ConfigError(
            f"the sweep has {count:,} points ({shape}), more than the limit of {spec.max_points}; "
            f"use fewer values, or --max-points {count} to run them all",
            field="sweep",
        )
    integer = {a.setting: isinstance(settings[a.setting], int) and not isinstance(settings[a.setting], bool) for a in spec.axes}
    return base, integer


def point_config(base: RunConfig, number: int, values: dict[str, float | int]) -> SweepPoint:
    """Point ``number``: the base experiment with the axes' ``values``, validated."""
    overrides = [f"{setting}={format_value(value)}" for setting, value in values.items()]
    try:
        config = validate(config_io.apply_overrides(base, overrides))
    except ConfigError as error:
        shown = " ".join(overrides)
        raise ConfigError(f"sweep point {number} ({shown}): {error}", field=error.field) from None
    return SweepPoint(number, values, config)


def point_count(spec: SweepSpec) -> int:
    """How many points the sweep has, without drawing them."""
    return math.prod(len(axis.values) for axis in spec.axes) if spec.is_grid else spec.samples


def check_axis(axis: Axis, settings: dict[str, Any]) -> None:
    """Refuse an axis on a setting the experiment lacks, or on one that is not a number."""
    if axis.setting not in settings:
        close = difflib.get_close_matches(axis.setting, list(settings), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"--sweep {axis.setting}: no such numeric setting in this experiment{hint}", field=axis.setting)
    value = settings[axis.setting]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"--sweep {axis.setting}: this setting is {format_value(value)!r}, not a number; an axis varies a numeric setting",
            field=axis.setting,
        )


def _class_defaults(base: RunConfig, spec: SweepSpec, settings: dict[str, Any]) -> dict[str, float | int]:
    """Axes over arguments of the user's class that the experiment leaves at the class's default
    (``--sweep model.args.hidden=64,128`` with no ``hidden`` in ``[model.args]``): allowed, the
    class refusing one it does not take when each point is validated. A listed value stands for
    the setting's kind of number; a sampled range needs the setting written, to know whether it
    is a whole number."""
    if not base.model.code:
        return {}
    found: dict[str, float | int] = {}
    for axis in spec.axes:
        if not axis.setting.startswith("model.args.") or axis.setting in settings:
            continue
        if axis.kind != "values":
            raise ConfigError(
                f"--sweep {axis.setting}: the experiment does not set it; write it in [model.args] first, "
                "so that a sampled value is a whole number or not as the class expects",
                field=axis.setting,
            )
        found[axis.setting] = axis.values[0]
    return found


def _draw(spec: SweepSpec, integer: dict[str, bool]) -> list[dict[str, float | int]]:
    if spec.is_grid:
        ranges = [a for a in spec.axes if a.kind != "values"]
        if ranges:
            raise ConfigError(
                f"--sweep {ranges[0].text()}: a range is sampled; add --samples N (and --sweep-seed), or list values",
                field=ranges[0].setting,
            )
        return [
            dict(zip((a.setting for a in spec.axes), combo, strict=True))
            for combo in itertools.product(*(a.values for a in spec.axes))
        ]
    rng = random.Random(spec.seed)
    return [{a.setting: _sample(a, rng, integer[a.setting]) for a in spec.axes} for _ in range(spec.samples)]


def _sample(axis: Axis, rng: random.Random, integer: bool) -> float | int:
    if axis.kind == "values":
        return rng.choice(axis.values)
    if axis.kind == "log-uniform":
        value = math.exp(rng.uniform(math.log(axis.low), math.log(axis.high)))
    else:
        value = rng.uniform(axis.low, axis.high)
    return round(value) if integer else float(f"{value:.{SAMPLED_DIGITS}g}")
