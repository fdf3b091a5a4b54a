"""Axis ticks and labels for the charts, chosen for the room the chart has.

textual-plot picks up to 8 ticks whatever the chart's height and cuts labels to its left margin,
so a short chart showed labels on top of each other (``00.1``) and a log axis under a decade
showed values out of order. :func:`y_ticks` picks the ticks itself: few enough that two labels
are at least :data:`LABEL_ROWS` rows apart, each label short enough for the margin, all of them
distinct as written and in order. :class:`FixedLabels` hands those to the plot.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import NamedTuple

from textual.geometry import Region
from textual_plot import AxisFormatter
from textual_plot.plot_widget import map_coordinate_to_pixel

#: Rows from one y label to the next, at least (a label on every row is a wall of numbers).
LABEL_ROWS = 2
#: The most y labels on one axis, however tall the chart.
MAX_LABELS = 8
#: Nice steps within a decade, for ticks and for epoch marks.
NICE = (1, 2, 5)
#: An axis whose biggest value is under / from these is in scientific notation (1e-4, not 0.0001).
SMALL, LARGE = 1e-3, 1e6


def epoch_ticks(epochs: int, width: int) -> list[float]:
    """Epoch marks for the x axis: every epoch when they fit, else every 2, 5, 10, 20, 50... epochs."""
    room = max(2, width // 6)  # a label needs about 6 columns
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if epochs / step <= room:
            return [float(e) for e in range(0, epochs + 1, step)]
    return [0.0, float(epochs)]


class Candidate(NamedTuple):
    """A set of ticks :func:`y_ticks` may choose."""

    values: list[float]
    shared: bool  # labels with the same number of decimals (see format_values)
    half: bool = False  # every other tick of a round step: taken only when the round steps give one label


class FixedLabels(AxisFormatter):
    """Labels decided beforehand (by :func:`y_ticks`), looked up by tick."""

    def __init__(self, ticks: Sequence[float], labels: Sequence[str]) -> None:
        self.ticks = list(ticks)
        self.labels = dict(zip(ticks, labels, strict=True))

    def get_ticks(self, min_: float, max_: float, max_ticks: int = MAX_LABELS) -> list[float]:
        return [t for t in self.ticks if min_ <= t <= max_]

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return [self.labels.get(t, "") for t in ticks]


def label_row(position: float, low: float, high: float, rows: int) -> int:
    """The row (0: top) textual-plot writes the label of ``position`` on, in a plot ``rows`` high."""
    _, row = map_coordinate_to_pixel(0.0, position, 0.0, 1.0, low, high, Region(1, 1, 1, max(rows - 2, 1)))
    return row + 1 if position == low else row  # textual-plot moves the lowest tick onto the axis line


def y_ticks(low: float, high: float, rows: int, width: int, *, log: bool = False) -> tuple[list[float], list[str]]:
    """Ticks and their labels for a y axis from ``low`` to ``high``, ``rows`` high (the plot's
    height, axis lines included), with labels at most ``width`` characters.

    On a log axis the positions are log10 of the values and the labels the values. The most ticks
    that keep the labels :data:`LABEL_ROWS` apart (and at most :data:`MAX_LABELS`) win; on a log
    axis whole-decade sets (1, 2, 5 of each decade; every decade...) are preferred, and round
    values spaced evenly are used under a decade, where those sets have one tick or none.
    Returns empty lists when nothing fits (a margin too narrow for any label).
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [], []
    candidates = list(_log_sets(low, high)) if log else []
    if not log or high - low < 1 or max((len(c.values) for c in candidates), default=0) < 2:
        candidates += _linear_sets(10**low, 10**high) if log else _linear_sets(low, high)
    candidates += [Candidate(c.values[:-1], c.shared) for c in candidates] + [
        Candidate(c.values[1:], c.shared) for c in candidates
    ]
    candidates += [Candidate(c.values[start::2], c.shared, half=True) for c in candidates for start in (0, 1)]
    best: tuple[list[float], list[str]] = ([], [])
    # Round steps two rows apart (less an end tick too near the next); failing two labels so,
    # every other tick of one (1.5 and 2.5; 0.1 and 0.5), then a short chart's labels on next
    # rows, one per two rows at most.
    for gap, most, halves in ((LABEL_ROWS, MAX_LABELS, False), (LABEL_ROWS, MAX_LABELS, True), (1, (rows + 1) // 2, True)):
        for values, shared, half in candidates:
            positions = [math.log10(v) for v in values] if log else values
            if (half and not halves) or len(positions) <= len(best[0]) or len(positions) > most:
                continue
            rows_used = [label_row(p, low, high, rows) for p in positions]
            if any(lower - upper < gap for lower, upper in pairwise(rows_used)):
                continue
            labels = format_values(values, width, shared=shared)
            if labels is not None:
                best = positions, labels
        if len(best[0]) >= 2:
            break
    return best


def _linear_sets(low: float, high: float) -> Iterator[Candidate]:
    """Multiples of 1, 2 and 5 times a power of ten within [low, high], finest first."""
    top = math.floor(math.log10(high - low))
    for power in range(top - 2, top + 2):
        for nice in NICE:
            first, last = math.ceil(low / (nice * 10.0**power)), math.floor(high / (nice * 10.0**power))
            if 0 <= last - first <= 4 * MAX_LABELS:
                values = [float(f"{i * nice}e{power}") for i in range(first, last + 1)]
                yield Candidate([v for v in values if low <= v <= high], shared=True)  # not past an end by rounding


def _log_sets(low: float, high: float) -> Iterator[Candidate]:
    """1, 2 and 5 of each decade, 1 and 3, then whole decades every 1, 2, 5... decades, in [10**low, 10**high]."""
    decades = range(math.floor(low), math.ceil(high) + 1)
    for steps in ((1, 2, 5), (1, 3)):
        values = [float(f"{s}e{d}") for d in decades for s in steps if low <= d + math.log10(s) <= high]
        yield Candidate(values, shared=False)
    for every in (1, 2, 5, 10, 20, 50):
        yield Candidate([float(f"1e{d}") for d in decades if d % every == 0 and low <= d <= high], shared=False)


def format_values(values: Sequence[float], width: int, *, shared: bool = True) -> list[str] | None:
    """Labels for ``values``, at most ``width`` characters, distinct; None when they cannot be.

    All in plain decimals (0.25) or all in scientific notation (2.5e-4): when the biggest value
    is under :data:`SMALL` or from :data:`LARGE` up, or plain would not fit. ``shared``: every label with
    the same number of decimals (ticks of a linear axis: 0.5, 1.0, 1.5), else each its fewest
    (1, 2 and 5 of each decade on a log axis: 0.05, 0.1, 0.2)."""
    if not values:
        return []
    biggest = max(abs(v) for v in values)
    options = [_plain, _scientific] if SMALL <= biggest < LARGE or not biggest else [_scientific]
    for write in options:
        labels = write(values, shared)
        if max(len(label) for label in labels) <= width and len(set(labels)) == len(labels):
            return labels
    return None


def _plain(values: Sequence[float], shared: bool) -> list[str]:
    digits = [_decimals(v) for v in values]
    return [_no_minus_zero(f"{v:.{max(digits) if shared else d}f}") for v, d in zip(values, digits, strict=True)]


def _scientific(values: Sequence[float], shared: bool) -> list[str]:
    digits = [next((p for p in range(12) if _close(float(f"{v:.{p}e}"), v)), 12) for v in values]
    return [_sci(v, max(digits) if shared else d) for v, d in zip(values, digits, strict=True)]


def _sci(value: float, decimals: int) -> str:
    if value == 0:
        return "0"
    mantissa, _, exponent = f"{value:.{decimals}e}".partition("e")
    return mantissa if int(exponent) == 0 else f"{mantissa}e{int(exponent)}"


def _decimals(value: float) -> int:
    """Decimals needed to write ``value`` (a tick: a short decimal up to float noise)."""
    return next((d for d in range(16) if _close(round(value, d), value)), 16)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def _no_minus_zero(label: str) -> str:
    return label[1:] if label.startswith("-") and not label.strip("-0.") else label
