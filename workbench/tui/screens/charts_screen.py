"""The base of the main screens that show a :class:`ChartDeck` (Train, Runs, a comparison).

Apart from :mod:`workbench.tui.screens.base` so that the screens without charts (the first
frame's Data screen among them) do not import the chart widgets, numpy and textual-plot.
"""

from __future__ import annotations

from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.widgets.charts import ChartDeck


class ChartsScreen(WorkbenchScreen):
    """A main screen with a :class:`ChartDeck` (the Train screen, the Runs screen, a comparison):
    ``g`` shows the next chart, ``l`` switches the loss between log and linear, ``[`` ``]``
    smooth the training curves less or more; the help line says what each did."""

    def action_next_chart(self) -> None:
        name = self.query_one(ChartDeck).cycle()
        self.set_hint(f"Showing the {'learning rate' if name == 'lr' else name} chart; g shows the next one")

    def action_chart_scale(self) -> None:
        self.set_hint(self.query_one(ChartDeck).toggle_scale())

    def action_smoothing(self, step: int) -> None:
        self.set_hint(self.query_one(ChartDeck).change_smoothing(step))
