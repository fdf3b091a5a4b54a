"""The learning-rate chart of the Optimize screen: the LR at every step, epochs on the x axis.

A thin layer over textual-plot's PlotWidget: the curve is thinned to about two points per
column (a 100-epoch run has ~100k steps), the x axis is in epochs with a mark at each epoch
(or at a round interval when there are too many to label), and the widget takes no focus so
the form's keys keep working around it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from textual_plot import HiResMode, PlotWidget

if TYPE_CHECKING:  # the preview module imports torch; the app must not, before a worker does
    from workbench.optim.preview import LRPreview


def epoch_ticks(epochs: int, width: int) -> list[float]:
    """Epoch marks for the x axis: every epoch when they fit, else every 2, 5, 10, 20, 50... epochs."""
    room = max(2, width // 6)  # a label needs about 6 columns
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if epochs / step <= room:
            return [float(e) for e in range(0, epochs + 1, step)]
    return [0.0, float(epochs)]


def thin(values: np.ndarray, points: int) -> np.ndarray:
    """Indices of at most ``points`` evenly spread samples of ``values``, always with the last."""
    if len(values) <= points:
        return np.arange(len(values))
    return np.unique(np.linspace(0, len(values) - 1, points).round().astype(int))


class LRChart(PlotWidget, can_focus=False):
    """Shows an :class:`LRPreview`; ``preview`` is the data last drawn."""

    DEFAULT_CSS = """
    LRChart { height: 9; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, allow_pan_and_zoom=False)
        self.preview: LRPreview | None = None

    def on_mount(self) -> None:
        self.margin_top = 0
        self.margin_bottom = 1  # the tick labels; the note under the chart says they are epochs
        self.margin_left = 9

    def show_preview(self, preview: LRPreview | None) -> None:
        """Draw ``preview``; None empties the chart (the settings cannot train).

        A preview computed in a worker can arrive while the app closes, after textual-plot's
        legend child has been removed; drawing then would fail in ``clear``, so it is dropped.
        """
        self.preview = preview
        if not self.is_attached or not self.query("#legend"):
            return
        if preview is None:
            self.clear()
            return
        lrs = np.asarray(preview.lrs + (preview.final_lr,), dtype=float)
        epochs_axis = np.arange(len(lrs), dtype=float) / preview.steps_per_epoch
        keep = thin(lrs, max(8, 2 * self.size.width))
        self.clear()
        self.plot(epochs_axis[keep], lrs[keep], line_style="bright_cyan", hires_mode=HiResMode.BRAILLE)
        self.set_xlimits(0, preview.epochs)
        top = float(lrs.max()) if len(lrs) else 1.0
        self.set_ylimits(0, top * 1.05 if top > 0 else 1.0)
        self.set_xticks(epoch_ticks(preview.epochs, max(10, self.size.width - self.margin_left)))
        self.set_yticks(_lr_ticks(top))

    def on_resize(self) -> None:
        if self.preview is not None:
            self.show_preview(self.preview)


def _lr_ticks(top: float) -> list[float]:
    """Two to four round marks from 0 up to the peak (0, 0.001, 0.002, 0.003): a short chart's scale."""
    if top <= 0 or not math.isfinite(top):
        return [0.0]
    magnitude = 10.0 ** math.floor(math.log10(top))
    step = next(s for s in (magnitude / 5, magnitude / 2, magnitude, 2 * magnitude, 5 * magnitude) if top / s <= 3.0 + 1e-9)
    return [round(i * step, 12) for i in range(int(top / step + 1e-9) + 1)]
