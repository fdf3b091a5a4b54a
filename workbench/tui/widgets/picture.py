"""The app's widget for a grid of captioned half-block pictures (:mod:`workbench.render.pictures`
draws them; the CLI draws the same renderable)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.geometry import Size
from textual.widget import Widget

from workbench.render.pictures import Captioned, PictureGridRenderable


class PictureGrid(Widget):
    """A widget showing captioned pictures in a grid that reflows with its width.

    ``set_pictures([...])`` replaces what it shows; tiles are at most ``tile_width`` x
    ``tile_height`` cells (a 28x28 MNIST digit becomes 14x7 cells, an 8x8 digit 16x8).
    """

    DEFAULT_CSS = """
    PictureGrid { height: auto; }
    """

    def __init__(self, tile_width: int = 16, tile_height: int = 8, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.tile_width = tile_width
        self.tile_height = tile_height
        self.grid = PictureGridRenderable((), tile_width, tile_height)

    @property
    def pictures(self) -> list[Captioned]:
        return self.grid.pictures

    def set_pictures(self, pictures: Sequence[Captioned]) -> None:
        self.grid = PictureGridRenderable(pictures, self.tile_width, self.tile_height)
        self.refresh(layout=True)

    def render(self) -> PictureGridRenderable:
        return self.grid

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.grid.height(width)
