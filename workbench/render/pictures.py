"""Small pictures drawn with half-block characters, and a grid of them with captions.

Each terminal cell shows two pixels stacked: ``▀`` in the upper pixel's colour over the lower
pixel's colour as background. That works in any 256-colour terminal without special fonts
(Rich maps the RGB colours to the nearest palette entry when true colour is missing).
The Data screen shows dataset samples with it, the Runs screen misclassified samples, and
``workbench inside`` in a terminal a conv layer's filters. Rich only: the app's widget
(:class:`workbench.tui.widgets.picture.PictureGrid`) and the CLI both draw these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    import numpy as np

UPPER_HALF = "▀"
#: Columns between two pictures of a grid.
GAP = 1


def fit_image(image: np.ndarray, max_width: int, max_height: int) -> np.ndarray:
    """Scale an HxWxC (or HxW) uint8 image by a whole factor to fit ``max_width`` x ``max_height`` cells.

    A cell holds one pixel across and two down. Small images (8x8 digits) are enlarged by
    repeating pixels; large ones are shrunk by averaging blocks, so no detail is invented.
    Returns an HxWx3 uint8 array with an even height.
    """
    import numpy as np  # here: the Data screen paints its first frame before numpy has loaded

    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    pixels = pixels[:, :, :3].astype(np.float32)
    height, width = pixels.shape[:2]
    grow, shrink = _factors(height, width, max_width, max_height)
    if grow > 1:
        pixels = pixels.repeat(grow, axis=0).repeat(grow, axis=1)
    elif shrink > 1:
        factor = shrink
        pad_h, pad_w = -height % factor, -width % factor
        pixels = np.pad(pixels, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        h, w = pixels.shape[0] // factor, pixels.shape[1] // factor
        pixels = pixels.reshape(h, factor, w, factor, 3).mean(axis=(1, 3))
    if pixels.shape[0] % 2:
        pixels = np.pad(pixels, ((0, 1), (0, 0), (0, 0)), mode="constant")
    return np.clip(pixels.round(), 0, 255).astype(np.uint8)


def _factors(height: int, width: int, max_width: int, max_height: int) -> tuple[int, int]:
    """Whole enlargement and reduction factors (one of them 1) to fit the image in the cells."""
    fit = min(max_width / width, (2 * max_height) / height)
    if fit >= 2:
        return int(fit), 1
    return 1, max(1, math.ceil(1 / fit))


class HalfBlockImage:
    """A Rich renderable of an image, two pixels per cell (see :func:`fit_image`)."""

    def __init__(self, image: np.ndarray, max_width: int = 16, max_height: int = 8) -> None:
        self.pixels = fit_image(image, max_width, max_height)
        self._lines: list[list[Segment]] | None = None

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0]) // 2

    def lines(self) -> list[list[Segment]]:
        """One list of segments per terminal row (computed once)."""
        if self._lines is None:
            self._lines = [
                [
                    Segment(UPPER_HALF, Style(color=Color.from_rgb(*a), bgcolor=Color.from_rgb(*b)))
                    for a, b in zip(top.tolist(), bottom.tolist(), strict=True)
                ]
                for top, bottom in zip(self.pixels[0::2], self.pixels[1::2], strict=True)
            ]
        return self._lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for row in self.lines():
            yield from row
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)


@dataclass(frozen=True)
class Captioned:
    """One picture of a grid and the line under it (a label, or ``true -> predicted 93%``)."""

    image: np.ndarray
    caption: str
    style: str = ""


class PictureGridRenderable:
    """Tiles of captioned pictures, as many per row as the width allows."""

    def __init__(self, pictures: Sequence[Captioned], tile_width: int, tile_height: int, gap: int = GAP) -> None:
        self.pictures = list(pictures)
        self.images = [HalfBlockImage(p.image, tile_width, tile_height) for p in self.pictures]
        self.gap = gap
        self.cell = max((i.width for i in self.images), default=0)
        self.picture_rows = max((i.height for i in self.images), default=0)

    def per_row(self, width: int) -> int:
        return max(1, (width + self.gap) // (self.cell + self.gap))

    def height(self, width: int) -> int:
        """Terminal rows the grid takes at ``width`` columns (pictures, captions, blank lines)."""
        if not self.images:
            return 0
        rows = math.ceil(len(self.images) / self.per_row(width))
        return rows * (self.picture_rows + 1) + rows - 1

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        per_row = self.per_row(options.max_width)
        cell, gap = self.cell, self.gap
        for start in range(0, len(self.images), per_row):
            chunk = list(zip(self.images[start : start + per_row], self.pictures[start : start + per_row], strict=True))
            for row in range(self.picture_rows):
                for column, (image, _) in enumerate(chunk):
                    line = image.lines()[row] if row < image.height else []
                    yield from line
                    yield Segment(" " * (cell - len(line) + (gap if column < len(chunk) - 1 else 0)))
                yield Segment.line()
            for column, (_, picture) in enumerate(chunk):
                caption = Text(picture.caption[:cell], style=picture.style)
                caption.align("center", cell)
                yield from caption.render(console)
                if column < len(chunk) - 1:
                    yield Segment(" " * gap)
            yield Segment.line()
            if start + per_row < len(self.images):
                yield Segment.line()
