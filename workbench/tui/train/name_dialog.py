"""The run's name, asked for on ``s`` (and ``Q``): the proposed one (what the run trains, once the
data or the model differ from the preset's), editable; enter starts (or queues), escape cancels.

A run lists under its name for good, so this is the moment to tell it apart from the others.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from workbench.tui.screens.dialogs import Dialog
from workbench.tui.widgets.text_field import TextField


class RunNameScreen(Dialog):
    """Dismisses with the name typed (stripped), or None if cancelled; an empty name is refused here."""

    def __init__(self, name: str, description: str, verb: str = "start") -> None:
        super().__init__()
        self.proposed = name
        self.description = description
        self.verb = verb  # what enter does: "start", or "queue"

    def compose_dialog(self) -> ComposeResult:
        yield Label(f"{self.verb.capitalize()} a run named", classes="title", markup=False)
        yield TextField(self.proposed, placeholder="the run's name", id="run-name")
        yield Static(self.description, id="about", classes="note", markup=False)
        yield Static(f"enter {self.verb} · escape cancel", classes="note", markup=False)

    @on(Input.Submitted, "#run-name")
    def _submit(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if not name:
            about = self.query_one("#about", Static)
            about.add_class("error")
            about.update("A run needs a name: type one, or escape to cancel.")
            return
        self.dismiss(name)
