"""Half-block pictures: whole-factor scaling and a grid that flows with the width."""

from __future__ import annotations

import numpy as np
from rich.console import Console

from workbench.render.pictures import Captioned, HalfBlockImage, PictureGridRenderable, fit_image


def test_small_images_are_enlarged_and_large_ones_averaged_down() -> None:
    digit = np.arange(64, dtype=np.uint8).reshape(8, 8)
    big = fit_image(digit, 16, 8)
    assert big.shape == (16, 16, 3)
    assert (big[:2, :2, 0] == digit[0, 0]).all()  # each pixel repeated, nothing invented
    photo = np.full((32, 32, 3), 200, dtype=np.uint8)
    photo[:2, :2] = 0
    small = fit_image(photo, 8, 4)
    assert small.shape == (8, 8, 3)
    assert small[0, 0, 0] == 150  # a 4x4 block holding four black pixels
    mnist = fit_image(np.zeros((28, 28), np.uint8), 16, 8)
    assert mnist.shape == (14, 14, 3)  # halved: a 28x28 digit is 14x7 cells


def test_each_cell_shows_the_upper_pixel_over_the_lower_one() -> None:
    image = np.array([[[255, 0, 0]], [[0, 0, 255]]], dtype=np.uint8)  # red above blue
    ((segment,),) = HalfBlockImage(image, 1, 1).lines()
    assert segment.text == "▀"
    assert segment.style.color.triplet == (255, 0, 0)
    assert segment.style.bgcolor.triplet == (0, 0, 255)


def test_the_grid_puts_as_many_tiles_in_a_row_as_fit_each_with_its_caption() -> None:
    pictures = [Captioned(np.zeros((8, 8), np.uint8), f"label{i}") for i in range(5)]
    console = Console(width=60, color_system=None, record=True)
    grid = PictureGridRenderable(pictures, 16, 8)
    console.print(grid)
    lines = console.export_text().splitlines()
    assert len(lines) == grid.height(60) == 2 * (8 + 1) + 1
    assert lines[8].split() == ["label0", "label1", "label2"]  # 3 x 16 columns + gaps fit in 60, not 4
    assert lines[18].split() == ["label3", "label4"]
