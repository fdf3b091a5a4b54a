"""The confusion matrix as a heat map: one coloured cell per (true class, predicted class).

Cells are shaded by their share of the row (the true class's samples): the diagonal in greens
(brighter = more of the class recognised), mistakes in reds scaled to the worst mistake of the
matrix (brighter = more often), empty cells as a dim dot. Colours are xterm-256 palette entries,
so the map reads the same in any 256-colour terminal without true colour. Counts stay written in
each cell, so nothing depends on telling colours apart.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.color import Color
from rich.style import Style
from rich.text import Text

from workbench.tui.theme import contrast_ratio

#: Palette entries from dark to bright.
GREENS = (22, 28, 34, 40, 46)
REDS = (52, 88, 124, 160, 196)
#: A count is written in whichever of these reads better on its cell (4.5:1 or more on every shade).
COUNT_COLOURS = ("#000000", "#ffffff")
#: Row labels are cut to this many characters.
LABEL_WIDTH = 10

LEGEND = "rows: true class · columns: predicted\ngreen: right (share of the row) · red: mistakes"


def heat_map(matrix: Sequence[Sequence[int]], names: Sequence[str]) -> Text:
    """The matrix as lines of text: a header of predicted classes, then one row per true class."""
    biggest = max((value for row in matrix for value in row), default=0)
    cell = max(3, len(str(biggest))) + 1
    label = min(LABEL_WIDTH, max((len(n) for n in names), default=1)) + 1
    worst = max((value / max(1, sum(row)) for i, row in enumerate(matrix) for j, value in enumerate(row) if i != j), default=0.0)
    text = Text(no_wrap=True, overflow="crop")
    text.append(" " * label)
    for name in names:
        text.append(name[: cell - 1].rjust(cell), style="bold")
    for i, row in enumerate(matrix):
        text.append("\n")
        text.append(names[i][: label - 1].ljust(label), style="bold")
        total = max(1, sum(row))
        for j, value in enumerate(row):
            text.append(" ")
            text.append((str(value) if value else ".").rjust(cell - 1), style=_cell_style(value / total, i == j, worst))
    return text


def _cell_style(share: float, diagonal: bool, worst: float) -> Style:
    if share <= 0:
        return Style(dim=True)
    if diagonal:
        level = min(len(GREENS) - 1, int(share * len(GREENS)))
        ramp = GREENS
    else:
        level = min(len(REDS) - 1, int(share / worst * len(REDS))) if worst > 0 else 0
        ramp = REDS
    background = Color.from_ansi(ramp[level])
    cell = background.get_truecolor()
    foreground = max(COUNT_COLOURS, key=lambda colour: contrast_ratio(Color.parse(colour).get_truecolor(), cell))
    return Style(color=foreground, bgcolor=background)
