"""The five main screens, listed once: their mode, title, number key and where the class lives.

The app builds its modes from this list, the top bar draws its tabs, the palette and the help
list their keys. A screen's module is imported on its first visit (``module:Class``), so the
first frame does not wait for the screens it does not show.
"""

from __future__ import annotations

from typing import NamedTuple


class MainScreen(NamedTuple):
    mode: str
    title: str
    key: str
    location: str


SCREENS: tuple[MainScreen, ...] = (
    MainScreen("data", "Data", "1", "workbench.tui.setup.data:DataScreen"),
    MainScreen("model", "Model", "2", "workbench.tui.setup.model:ModelScreen"),
    MainScreen("optimize", "Optimize", "3", "workbench.tui.setup.optimize:OptimizeScreen"),
    MainScreen("train", "Train", "4", "workbench.tui.train.screen:TrainScreen"),
    MainScreen("runs", "Runs", "5", "workbench.tui.runs.screen:RunsScreen"),
)
