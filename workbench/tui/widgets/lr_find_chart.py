"""The LR finder's chart: the loss against the learning rate on a log x axis, the suggestion marked.

A textual-plot PlotWidget like the other charts, with their helpers: :func:`axes.y_ticks` and
:class:`axes.FixedLabels` for the loss axis, :func:`axes.format_values` for the decades under the
LR axis (chosen by :func:`formatting.decades`), :func:`charts.y_range` for the limits. Each step's loss is drawn faint behind the
smoothed loss the suggestion comes from; losses above the first one (where the ramp diverged)
are cut at the top, so that the descent keeps the chart's height.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from textual_plot import HiResMode, PlotWidget

from workbench.formatting import decades
from workbench.tui.widgets.axes import FixedLabels, format_values, y_ticks
from workbench.tui.widgets.charts import MARKER, RAW_COLOUR, TRAIN_COLOUR, y_range

if TYPE_CHECKING:  # the finder imports torch; the app imports it only on the torch thread
    from workbench.engine.lr_find import LRFind

SUGGESTION_COLOUR = "bright_green"


class LRFindChart(PlotWidget, can_focus=False):
    """Shows an :class:`LRFind`; ``result`` is the one last drawn."""

    DEFAULT_CSS = """
    LRFindChart { height: 12; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, allow_pan_and_zoom=False)
        self.result: LRFind | None = None

    def on_mount(self) -> None:
        self.margin_top = 0
        self.margin_bottom = 1  # the decades
        self.margin_left = 7

    def show(self, result: LRFind) -> None:
        """Draw ``result`` (dropped while the widget is not laid out: it is drawn on resize)."""
        self.result = result
        if not self.is_attached or not self.query("#legend") or len(result.lrs) < 2:
            return
        xs = np.log10(result.lrs)
        finite = [v for v in result.smoothed if math.isfinite(v)]
        low, high = y_range([min(finite), result.chart_top], None, None)
        self.clear()
        for values, colour in ((result.losses, RAW_COLOUR), (result.smoothed, TRAIN_COLOUR)):
            ys = np.minimum(np.nan_to_num(np.asarray(values, dtype=float), nan=high, posinf=high), high)
            self.plot(xs, ys, line_style=colour, hires_mode=HiResMode.BRAILLE)
        if result.suggestion is not None:
            at = math.log10(result.suggestion)
            self.plot([at, at], [low, high], line_style=SUGGESTION_COLOUR)
            self.scatter([at], [result.smoothed[result.lrs.index(result.suggestion)]], marker=MARKER, marker_style="bold")
        self.set_xlimits(float(xs[0]), float(xs[-1]))
        self.set_ylimits(low, high)
        ticks = [float(d) for d in decades(float(xs[0]), float(xs[-1]), self.size.width - self.margin_left)]
        self.set_x_formatter(FixedLabels(ticks, format_values([10.0**t for t in ticks], 5) or []))
        self.set_xticks(ticks)
        rows = self.content_size.height - self.margin_top - self.margin_bottom
        ticks, labels = y_ticks(low, high, rows, self.margin_left - 1)
        self.set_y_formatter(FixedLabels(ticks, labels))
        self.set_yticks(ticks)

    def on_resize(self) -> None:
        if self.result is not None:
            self.show(self.result)
