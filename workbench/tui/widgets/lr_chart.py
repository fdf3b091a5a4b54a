"""The learning-rate chart of the Optimize screen: the LR at every step, epochs on the x axis.

A thin layer over textual-plot's PlotWidget: the curve is thinned to about two points per
column (a 100-epoch run has ~100k steps), the x axis is in epochs with a mark at each epoch
(or at a round interval when there are too many to label), the y axis's labels are the LRs
(:func:`axes.y_ticks`; a constant LR shows its value), and the widget takes no focus so the
form's keys keep working around it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from textual_plot import HiResMode, PlotWidget

from workbench.tui.widgets.axes import FixedLabels, epoch_ticks, format_values, y_ticks

if TYPE_CHECKING:  # the preview module imports torch; the app must not, before a worker does
    from workbench.optim.preview import LRPreview


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
        self.y_labels: list[str] = []  # the y axis's labels, bottom to top, as drawn last

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
            self.y_labels = []
            return
        lrs = np.asarray(preview.lrs + (preview.final_lr,), dtype=float)
        epochs_axis = np.arange(len(lrs), dtype=float) / preview.steps_per_epoch
        keep = thin(lrs, max(8, 2 * self.size.width))
        self.clear()
        self.plot(epochs_axis[keep], lrs[keep], line_style="bright_cyan", hires_mode=HiResMode.BRAILLE)
        self.set_xlimits(0, preview.epochs)
        top = float(lrs.max()) if len(lrs) else 1.0
        high = top * 1.05 if top > 0 else 1.0
        self.set_ylimits(0, high)
        self.set_xticks(epoch_ticks(preview.epochs, max(10, self.size.width - self.margin_left)))
        width, rows = self.margin_left - 1, self.content_size.height - self.margin_top - self.margin_bottom
        if top > 0 and float(lrs.min()) == top:  # a constant LR: 0 and its value, which a round tick may miss
            ticks, labels = [0.0, top], format_values([0.0, top], width) or ["", ""]
        else:
            ticks, labels = y_ticks(0, high, rows, width)
        self.set_y_formatter(FixedLabels(ticks, labels))
        self.set_yticks(ticks)
        self.y_labels = labels

    def on_resize(self) -> None:
        if self.preview is not None:
            self.show_preview(self.preview)
