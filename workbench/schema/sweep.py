"""A sweep's plan as plain data: its axes, how points are drawn, and its ``[sweep]`` TOML table.

A sweep is a base experiment plus axes. An axis names one numeric setting and either lists its
values (``optimizer.lr=0.001,0.003,0.01``) or gives a range to sample (``log-uniform:1e-4:1e-1``,
``uniform:0.8:0.99``; ``choice:32,64`` is the same as listing the values). With no ``samples``
the sweep is the grid of every axis's values; with ``samples = N`` it is N points, drawn by its
``sampler``: ``random`` (from ``seed``, the default), or an Optuna sampler that learns from the
points that ended (``tpe``, ``cmaes``, ``gp``). A ``pruner`` stops poor points early from their
epoch metrics. The same axes are written in the experiment file's ``[sweep]`` table, so a sweep
is a file that can be saved, shared and run again::

    [sweep]
    samples = 8          # absent or 0: the grid
    seed = 0
    sampler = "tpe"      # grid (no samples), random (default with samples), tpe, cmaes, gp
    pruner = "halving"   # optional: halving, hyperband or median
    halving = [2, 4]     # the halving pruner's first epochs: worst half stopped at 2, 4, 8...

    [sweep.axes]
    "optimizer.lr" = "log-uniform:1e-4:1e-1"
    "data.batch_size" = [32, 64]

Which settings an axis may name and which values it may take is checked against the base
experiment (:mod:`workbench.experiment.sweep_points`); this module only reads and writes.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import tomli_w

from workbench.errors import ConfigError
from workbench.schema import config as config_io
from workbench.schema.config import RunConfig
from workbench.schema.params import format_value, parse_literal

AxisKind = Literal["values", "uniform", "log-uniform"]
#: Range kinds, as written before the first colon; "choice:" lists values.
RANGE_KINDS: tuple[AxisKind, ...] = ("uniform", "log-uniform")
CHOICE = "choice"
#: A sweep larger than this is refused unless its owner raises the limit (``--max-points``).
DEFAULT_MAX_POINTS = 256
#: The experiment file's table that makes it a sweep.
SWEEP_TABLE = "sweep"
#: How points are drawn: the grid and random points are planned before any starts; the others
#: are Optuna samplers asked for each point when a slot frees, learning from those that ended.
SAMPLERS = ("grid", "random", "tpe", "cmaes", "gp")
ADAPTIVE_SAMPLERS = ("tpe", "cmaes", "gp")
#: How points are stopped early (Optuna pruners, fed each point's epoch metrics).
PRUNERS = ("halving", "hyperband", "median")


@dataclass(frozen=True)
class Axis:
    """One setting the sweep varies: a list of values, or a range to sample."""

    setting: str
    kind: AxisKind
    values: tuple[float | int, ...] = ()
    low: float = 0.0
    high: float = 0.0

    def text(self) -> str:
        """The axis as ``--sweep`` takes it (and the app shows it)."""
        return f"{self.setting}={self.value_text()}"

    def value_text(self) -> str:
        if self.kind == "values":
            return ",".join(format_value(v) for v in self.values)
        return f"{self.kind}:{format_value(self.low)}:{format_value(self.high)}"

    def toml_value(self) -> Any:
        return list(self.values) if self.kind == "values" else self.value_text()


@dataclass(frozen=True)
class SweepSpec:
    """The axes and how points are drawn from them (``samples`` 0: the full grid)."""

    axes: tuple[Axis, ...] = ()
    samples: int = 0
    seed: int = 0
    halving: tuple[int, ...] = ()
    max_points: int = DEFAULT_MAX_POINTS
    sampler: str = ""  # "" : grid without samples, random with
    pruner: str = ""  # "" : halving when halving epochs are given, else none

    @property
    def is_grid(self) -> bool:
        return self.samples == 0

    @property
    def sampler_name(self) -> str:
        """The sampler in force: the one named, else the grid or random points."""
        return self.sampler or ("grid" if self.is_grid else "random")

    @property
    def pruner_name(self) -> str:
        """The pruner in force ("" for none): the one named, else halving when epochs are given."""
        return self.pruner or ("halving" if self.halving else "")

    @property
    def planned(self) -> bool:
        """True when every point is known before any starts (the grid, random points)."""
        return self.sampler_name not in ADAPTIVE_SAMPLERS

    def with_axes(self, axes: list[Axis]) -> SweepSpec:
        """A copy where ``axes`` replace the axes on the same settings and add the others."""
        given = {axis.setting for axis in axes}
        return replace(self, axes=tuple(a for a in self.axes if a.setting not in given) + tuple(axes))


def parse_axis(text: str) -> Axis:
    """``SETTING=V1,V2,...`` or ``SETTING=uniform:LOW:HIGH`` / ``log-uniform:LOW:HIGH`` /
    ``choice:V1,V2``; one ConfigError line naming the axis when it cannot be read."""
    setting, sep, spec = text.partition("=")
    setting = setting.strip()
    if not sep or not setting:
        raise ConfigError(
            f"--sweep {text!r}: expected SETTING=VALUES, e.g. optimizer.lr=0.001,0.01 or optimizer.lr=log-uniform:1e-4:1e-1"
        )
    return axis_from_value(setting, spec.strip(), f"--sweep {setting}")


def axis_from_value(setting: str, value: Any, where: str) -> Axis:
    """An axis from what a file or a command line gives for it: a list of values or a text."""
    if isinstance(value, list):
        return Axis(setting, "values", _numbers(value, where, setting))
    if not isinstance(value, str):
        value = str(value)
    kind, colon, rest = value.partition(":")
    kind = kind.strip()
    if colon and kind in RANGE_KINDS:
        parts = rest.split(":")
        if len(parts) != 2:
            raise ConfigError(f"{where}: {kind} takes LOW:HIGH, e.g. {kind}:1e-4:1e-1", field=setting)
        low, high = _numbers([parse_literal(p) for p in parts], where, setting)
        if not low < high:
            raise ConfigError(f"{where}: the range {value} is empty; LOW must be below HIGH", field=setting)
        if kind == "log-uniform" and low <= 0:
            raise ConfigError(f"{where}: log-uniform needs LOW > 0 (got {format_value(low)})", field=setting)
        return Axis(setting, kind, low=float(low), high=float(high))
    if colon and kind == CHOICE:
        value = rest
    elif colon and not kind.replace(".", "").replace("-", "").isdigit():
        raise ConfigError(
            f"{where}: {kind!r} is not a kind of axis; use values, choice:, uniform: or log-uniform:", field=setting
        )
    items = [parse_literal(item) for item in value.split(",") if item.strip()]
    if not items:
        raise ConfigError(f"{where}: no values; give at least one, e.g. {setting}=0.001,0.01", field=setting)
    return Axis(setting, "values", _numbers(items, where, setting))


def _numbers(items: list[Any], where: str, setting: str) -> tuple[float | int, ...]:
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise ConfigError(f"{where}: {item!r} is not a number; an axis takes numbers", field=setting)
    if not items:
        raise ConfigError(f"{where}: no values; give at least one", field=setting)
    return tuple(items)


# ----------------------------------------------------------------------------- the [sweep] table


def spec_from_table(table: Any, source: str) -> SweepSpec:
    """The ``[sweep]`` table of an experiment file, checked field by field."""
    where = f"{source}: [sweep]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table", field="sweep")
    known = {"axes", "samples", "seed", "halving", "max_points", "sampler", "pruner"}
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown field; allowed here: {', '.join(sorted(known))}", field=f"sweep.{key}")
    axes_table = table.get("axes", {})
    if not isinstance(axes_table, dict):
        raise ConfigError(f'{where}.axes: expected a table of "setting" = values', field="sweep.axes")
    axes = tuple(axis_from_value(k, v, f"{where}.axes.{k}") for k, v in axes_table.items())
    halving = table.get("halving", [])
    if not isinstance(halving, list) or not all(_is_count(e, 1) for e in halving):
        raise ConfigError(f"{where}.halving: expected a list of epochs, e.g. [2, 4]", field="sweep.halving")
    for key, least in (("samples", 0), ("seed", 0), ("max_points", 1)):
        if key in table and not _is_count(table[key], least):
            raise ConfigError(f"{where}.{key}: expected an integer >= {least}", field=f"sweep.{key}")
    for key, allowed in (("sampler", SAMPLERS), ("pruner", PRUNERS)):
        if key in table and table[key] not in allowed:
            raise ConfigError(f"{where}.{key}: {table[key]!r} is not one; use {', '.join(allowed)}", field=f"sweep.{key}")
    return checked_spec(
        SweepSpec(
            axes,
            samples=table.get("samples", 0),
            seed=table.get("seed", 0),
            halving=tuple(sorted(set(halving))),
            max_points=table.get("max_points", DEFAULT_MAX_POINTS),
            sampler=table.get("sampler", ""),
            pruner=table.get("pruner", ""),
        ),
        where,
    )


def checked_spec(spec: SweepSpec, where: str) -> SweepSpec:
    """The spec, or one ConfigError line when its sampler does not go with its samples."""
    if spec.sampler == "grid" and spec.samples:
        raise ConfigError(f"{where}: the grid sampler runs every point; drop samples, or use another sampler", field="sweep")
    if spec.sampler in ("random", *ADAPTIVE_SAMPLERS) and not spec.samples:
        raise ConfigError(
            f"{where}: the {spec.sampler} sampler draws points: give how many with samples (--samples N)", field="sweep"
        )
    return spec


def _is_count(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def spec_to_table(spec: SweepSpec) -> dict[str, Any]:
    table: dict[str, Any] = {}
    if spec.samples:
        table["samples"] = spec.samples
        table["seed"] = spec.seed
    if spec.sampler:
        table["sampler"] = spec.sampler
    if spec.pruner:
        table["pruner"] = spec.pruner
    if spec.halving:
        table["halving"] = list(spec.halving)
    if spec.max_points != DEFAULT_MAX_POINTS:
        table["max_points"] = spec.max_points
    table["axes"] = {axis.setting: axis.toml_value() for axis in spec.axes}
    return table


def read_sweep_file(path: Path) -> tuple[RunConfig, SweepSpec | None]:
    """An experiment file and its ``[sweep]`` table (None when it has none); not yet validated."""
    text = config_io.read_text(path)
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        return config_io.read(path), None  # the experiment reader says what is wrong, in its words
    config, spec = _sweep_from_data(data, str(path))
    if not config.name:
        config.name = Path(path).stem
    config_io.anchor_code_paths(config, Path(path).parent)  # as config_io.read does: nets.py beside the file
    return config, spec


def read_sweep_text(text: str, source: str) -> tuple[RunConfig, SweepSpec | None]:
    """A sweep file's text (as a sweep's study keeps it for other machines); not yet validated."""
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError) as error:
        raise ConfigError(f"{source}: its sweep file cannot be read: {error}") from None
    return _sweep_from_data(data, source)


def _sweep_from_data(data: dict[str, Any], source: str) -> tuple[RunConfig, SweepSpec | None]:
    table = data.pop(SWEEP_TABLE, None)
    try:
        config = config_io.from_dict(data)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}", field=error.field) from None
    return config, None if table is None else spec_from_table(table, source)


def has_sweep_table(path: Path) -> bool:
    """True when the TOML file at ``path`` holds a ``[sweep]`` table (False if it cannot be read)."""
    try:
        return SWEEP_TABLE in tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError, RecursionError):
        return False


def dumps_sweep(config: RunConfig, spec: SweepSpec) -> str:
    """The base experiment and its ``[sweep]`` table: a file ``workbench train`` runs as this sweep."""
    return tomli_w.dumps(config_io.to_dict(config) | {SWEEP_TABLE: spec_to_table(spec)})
