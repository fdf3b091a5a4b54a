"""Dialogs of the Runs screen that the shell's dialogs do not cover."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from workbench.tui.screens.dialogs import Dialog


class EpochsScreen(Dialog):
    """Ask for a new total number of epochs (resuming a run that has done all of its own).

    Dismisses with the number, or None when cancelled; a number that is not above ``minimum``
    is refused in the dialog, where it can be corrected.
    """

    def __init__(self, question: str, suggested: int, minimum: int) -> None:
        super().__init__()
        self.question = question
        self.suggested = suggested
        self.minimum = minimum

    def compose_dialog(self) -> ComposeResult:
        yield Static(self.question, classes="title", markup=False)
        yield Input(str(self.suggested), type="integer", id="epochs")
        yield Static(id="note", classes="note", markup=False)
        yield Static("enter resume · escape cancel", classes="note", markup=False)

    def on_mount(self) -> None:
        self.query_one("#epochs", Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        try:
            epochs = int(event.value)
        except ValueError:
            epochs = 0
        if epochs < self.minimum:
            note = self.query_one("#note", Static)
            note.add_class("error")
            note.update(f"give a whole number of at least {self.minimum}")
            return
        self.dismiss(epochs)
