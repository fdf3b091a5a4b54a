"""A progress bar that wakes the app only when it has something new to draw."""

from __future__ import annotations

from textual import events
from textual.widgets import ProgressBar


class StillProgressBar(ProgressBar):
    """Textual's ProgressBar without its ETA clock, and never animating while hidden.

    Textual's bar wakes the app every second to redraw an ETA, on any screen and even hidden, and
    a bar of unknown total animates 15 times a second. These bars show no ETA (the rows beside
    them say it), and an app attached to a run is idle but for the run's reports: on a small
    machine, whose cores are all the trainer's, each wake-up of the app stalls the run. Here a
    bar draws when its progress changes; ``total=None`` (the animated "working" bar) is only
    set while it is shown, and :meth:`rest` hides it still.
    """

    def __init__(self, total: float | None = None, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(total, show_eta=False, id=id, classes=classes)

    def on_mount(self, event: events.Mount) -> None:
        event.prevent_default()  # ProgressBar.on_mount: draw, then start the one-second ETA timer
        super()._on_mount(event)  # the Widget's own mount handling, which prevent_default skips too
        self.update()

    def rest(self) -> None:
        """Hide the bar, stopped: a hidden bar of unknown total would go on animating."""
        self.update(total=1, progress=0)
        self.add_class("hidden")
