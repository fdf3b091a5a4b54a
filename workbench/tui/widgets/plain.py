"""User text shown as itself.

Textual reads a plain ``str`` as markup wherever it renders one: in a Static, in the cells of a
DataTable or a Rich table. A run named ``ev[/]il``, a class folder called ``[bold]``, a CSV
value with brackets would then be styled, or crash the app with a MarkupError. Everything that
can hold user text goes through :func:`plain_cells` (or a Static built with ``markup=False``).
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text


def plain_cells(*values: RenderableType) -> list[RenderableType]:
    """Table cells: each ``str`` as literal text, each renderable (a styled Text) as it is."""
    return [Text(value) if isinstance(value, str) else value for value in values]
