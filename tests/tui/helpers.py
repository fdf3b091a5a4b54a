"""Helpers for driving the real app with Textual's pilot at 80x24."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from workbench.schema.config import LayerSpec, RunConfig
from workbench.tui.app import WorkbenchApp

SIZE = (80, 24)


async def wait_for(
    pilot: Pilot,
    condition: Callable[[], object],
    timeout: float = 90.0,
    what: str = "",
    shown: Callable[[], object] | None = None,
) -> None:
    """Let the app run until ``condition()`` is true (workers read data, import torch...);
    ``what`` says in the failure what was being waited on, and ``shown()`` what there was instead."""
    waited = 0.0
    while not condition():
        if waited > timeout:
            instead = f"; instead: {shown()}" if shown is not None else ""
            raise AssertionError(f"condition not met within {timeout}s {what}".strip() + instead)
        await pilot.pause(0.05)
        waited += 0.05


def fixed_experiment() -> RunConfig:
    """A small digits experiment defined here, so snapshots do not change with the shipped presets."""
    config = RunConfig(name="fixed-digits", description="a small CNN, defined by the test")
    config.data.batch_size = 32
    config.model.layers = [
        LayerSpec("Conv2d", params={"out_channels": 8, "kernel_size": 3, "padding": 1}),
        LayerSpec("ReLU"),
        LayerSpec("MaxPool2d", params={"kernel_size": 2}),
        LayerSpec("Flatten"),
        LayerSpec("Linear", params={"out_features": "auto"}),
    ]
    config.optimizer.name = "sgd"
    config.optimizer.lr = 0.1
    config.optimizer.params = {"momentum": 0.9}
    config.schedule.name = "step"
    config.schedule.params = {"step_size": 2, "gamma": 0.5}
    config.train.epochs = 6
    return config


def screen_text(app: WorkbenchApp) -> str:
    """What the current screen shows, as plain text lines (what a person reads at 80x24)."""
    # The compositor is what Textual itself paints from; its strips are the screen's rows.
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def press_start(pilot: Pilot, app: WorkbenchApp) -> None:
    """``s`` on the Train screen, then enter in the name dialog it opens: start the run as proposed."""
    from workbench.tui.train.name_dialog import RunNameScreen

    await pilot.press("s")
    await wait_for(pilot, lambda: isinstance(app.screen, RunNameScreen), what="the run's name dialog")
    await pilot.press("enter")
