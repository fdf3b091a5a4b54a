"""The LR finder's dialog, opened with ``f`` on the Optimize screen.

It runs :func:`workbench.engine.lr_find.find_lr` on a copy of the draft on the app's torch
thread (:mod:`workbench.tui.torch_thread`; in a child process when the draft's model or data
set is the user's own code, which the app never imports), shows the ramp's progress, then the loss against the
LR with the suggestion marked and its caveat. ``u`` dismisses with the suggestion for the
Optimize screen to put into the draft; escape cancels the ramp between two steps and closes.
The draft is never changed here.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static

from workbench.errors import describe_error
from workbench.formatting import counted, duration, short_number
from workbench.optim.lr_ramp import END_LR, START_LR, STEPS
from workbench.schema.config import RunConfig
from workbench.tui.messages import LRFindProgress
from workbench.tui.screens.dialogs import Dialog
from workbench.tui.torch_thread import ChildCancelled, in_child_process, on_torch_thread
from workbench.tui.torch_work import find_in_child, run_finder
from workbench.tui.widgets.lr_find_chart import SUGGESTION_COLOUR, LRFindChart
from workbench.tui.worker_errors import ReportsWorkerErrors
from workbench.usercode.copies import code_refs

if TYPE_CHECKING:
    from workbench.engine.lr_find import LRFind


def rounded(lr: float) -> float:
    """The LR as the dialog writes it (three significant digits), which is the value taken."""
    return float(short_number(lr))


class LRFindScreen(ReportsWorkerErrors, Dialog):
    """Dismisses with the suggested LR (``u``), or None (escape, at any time)."""

    DEFAULT_CSS = """
    LRFindScreen > Vertical { width: 76; }
    """

    BINDINGS = [
        Binding("u", "use", "Use this LR", tooltip="Set optimizer.lr to the suggested learning rate (ctrl+z undoes it)"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        self.config = config
        #: What the ramp found, once it has run.
        self.result: LRFind | None = None
        #: Steps of the ramp reported so far.
        self.steps_done = 0
        self._cancelled = threading.Event()

    def compose_dialog(self) -> ComposeResult:
        yield Label(f"Learning-rate finder · {self.config.name} ({self.config.optimizer.name})", classes="title")
        yield Static(id="lr-find-status", classes="note", markup=False)
        yield LRFindChart(id="lr-find-chart")
        yield Static(id="lr-find-note", markup=False)

    def on_mount(self) -> None:
        self._say(f"starting: a fresh copy of the model, LR {short_number(START_LR)} → {short_number(END_LR)} in {STEPS} steps…")
        self.run_worker(self._find(), group="lr-find", exclusive=True, exit_on_error=False)

    async def _find(self) -> None:
        progress = lambda step, steps: self.post_message(LRFindProgress(step, steps))  # noqa: E731 - from the torch thread
        if code_refs(self.config):
            try:
                result: LRFind | None = await in_child_process(
                    "the LR finder",
                    find_in_child,
                    self.config,
                    progress=lambda reported: progress(*reported),
                    cancelled=self._cancelled.is_set,
                )
            except ChildCancelled:
                return
        else:
            result = await on_torch_thread(partial(run_finder, self.config, progress, self._cancelled.is_set))
        if result is not None:
            self._show(result)

    @on(LRFindProgress)
    def _progressed(self, message: LRFindProgress) -> None:
        self.steps_done = message.step
        if self.result is None:  # a report can be handled after the result, on a starved UI thread
            self._say(f"ramping the LR: step {message.step} of {message.steps} · escape cancels")

    def worker_failed(self, group: str, error: BaseException) -> None:
        if group == "lr-find":
            self.query_one("#lr-find-note", Static).update(Text(describe_error(error), style="bold red"))
            self._say("the finder could not run")
        else:
            super().worker_failed(group, error)

    def _say(self, text: str) -> None:
        self.query_one("#lr-find-status", Static).update(text)

    def _show(self, result: LRFind) -> None:
        self.result = result
        ended = f"stopped at step {result.taken}, the loss diverged" if result.diverged else counted(result.taken, "step")
        self._say(f"{ended} · took {duration(result.seconds)} · nothing saved · smoothed loss against the LR")
        self.query_one(LRFindChart).show(result)
        if result.suggestion is None:
            note = Text(result.note, style="yellow")
        else:
            note = Text.assemble(
                "suggested optimizer.lr ",
                (short_number(result.suggestion), f"bold {SUGGESTION_COLOUR}"),
                f" (steepest descent; was {short_number(self.config.optimizer.lr)}) · u uses it\n",
                (result.note, "dim"),
            )
        self.query_one("#lr-find-note", Static).update(note)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``u`` is offered once there is a suggestion to use."""
        if action == "use":
            return self.result is not None and self.result.suggestion is not None
        return True

    def action_use(self) -> None:
        if self.result is not None and self.result.suggestion is not None:
            self.dismiss(rounded(self.result.suggestion))

    def action_cancel(self) -> None:
        self._cancelled.set()  # the ramp stops before its next step; the torch thread is free again
        self.dismiss(None)
