"""User text shown as itself.

Textual reads a plain ``str`` as markup wherever it renders one: in a Static, in the cells of a
DataTable or a Rich table. A run named ``ev[/]il``, a class folder called ``[bold]``, a CSV
value with brackets would then be styled, or crash the app with a MarkupError. Everything that
can hold user text goes through :func:`plain_cells` (or a Static built with ``markup=False``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.text import Text


def plain_cells(*values: RenderableType) -> list[RenderableType]:
    """Table cells: each ``str`` as literal text, each renderable (a styled Text) as it is."""
    return [Text(value) if isinstance(value, str) else value for value in values]


@dataclass(frozen=True, slots=True)
class UnmeasuredCell:
    """A cell of a column whose width the table is given: drawn as its text, never measured.

    A DataTable measures every cell it is handed (through the cell's ``__rich_measure__``, which
    asks the console for its options, three terminal-size calls each), even in columns of a fixed
    width, where the measure is thrown away: 0.1 s for a thousand runs' rows on opening the Runs
    screen. Without a ``__rich_measure__``, Textual takes the cell's width as 1 and moves on."""

    text: Text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.text

    def __str__(self) -> str:
        return self.text.plain


def unmeasured_cells(*values: Text | str) -> list[UnmeasuredCell]:
    """Cells for columns of given widths: each ``str`` as literal text, each Text as it is."""
    return [UnmeasuredCell(Text(value) if isinstance(value, str) else value) for value in values]
