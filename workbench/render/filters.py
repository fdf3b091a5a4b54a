"""The first conv layer's filters as a grid of small pictures (half blocks, :mod:`.pictures`):
the app's inside view and ``workbench inside`` in a terminal draw them with this."""

from __future__ import annotations

from workbench.outputs.inside import Filters
from workbench.render.pictures import Captioned, PictureGridRenderable


def filter_tiles(filters: Filters) -> tuple[int, int]:
    """Cells of one tile: each filter pixel two cells wide where it fits (a 3x3 filter is 6x3
    cells), at most 16 x 8."""
    width = min(16, max(6, 2 * filters.width))
    return width, width // 2


def filter_pictures(filters: Filters) -> list[Captioned]:
    """Each kept filter, numbered from 1 as the layer's output channels."""
    import numpy as np

    shape = (filters.count, filters.height, filters.width, filters.channels)
    images = np.frombuffer(filters.pixels, dtype=np.uint8).reshape(shape)
    return [Captioned(image, str(index + 1)) for index, image in enumerate(images)]


def filter_grid(filters: Filters) -> PictureGridRenderable:
    return PictureGridRenderable(filter_pictures(filters), *filter_tiles(filters))
