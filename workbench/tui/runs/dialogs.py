"""Dialogs of the Runs screen that the shell's dialogs do not cover."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, SelectionList, Static

from workbench.tui.screens.dialogs import Dialog
from workbench.tui.widgets.text_field import TextField


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
        yield TextField(str(self.suggested), type="integer", id="epochs")
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


class ColumnsScreen(Dialog):
    """Choose which settings the compare view's runs table shows as columns.

    Lists every setting of the compared experiments, the differing ones marked; space toggles,
    enter applies (dismisses with the chosen settings, in the list's order).
    """

    BINDINGS = [Binding("enter", "apply", "Apply", priority=True)]

    DEFAULT_CSS = """
    ColumnsScreen SelectionList { height: auto; max-height: 16; border: none; padding: 0; }
    """

    def __init__(self, settings: Sequence[str], chosen: Sequence[str], differing: set[str]) -> None:
        super().__init__()
        # The shown ones first, then what differs, then the rest; each layer's settings last.
        rank = {setting: (setting not in chosen, ".layers." in setting, setting not in differing) for setting in settings}
        self.settings = sorted(settings, key=lambda setting: rank[setting])  # stable: importance within each
        self.chosen = set(chosen)
        self.differing = differing

    def compose_dialog(self) -> ComposeResult:
        yield Static("Settings shown as columns", classes="title", markup=False)
        yield SelectionList[str](*((self._label(s), s, s in self.chosen) for s in self.settings), id="columns")
        yield Static("space toggles · enter applies · escape cancels · ● differs between the runs", classes="note", markup=False)

    def _label(self, setting: str) -> Text:
        return Text(f"{setting} ●" if setting in self.differing else setting)  # a Text: never markup

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_apply(self) -> None:
        selected = set(self.query_one(SelectionList).selected)
        self.dismiss([s for s in self.settings if s in selected])


class FileScreen(Dialog):
    """Ask for the path of a file (to predict on). Dismisses with the path, or None when
    cancelled; a path that is not a file is refused in the dialog, where it can be corrected."""

    def __init__(self, question: str, placeholder: str) -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder

    def compose_dialog(self) -> ComposeResult:
        yield Static(self.question, classes="title", markup=False)
        yield TextField(placeholder=self.placeholder, id="path")
        yield Static(id="note", classes="note", markup=False)
        yield Static("enter predict · escape cancel", classes="note", markup=False)

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not event.value.strip() or not path.is_file():
            note = self.query_one("#note", Static)
            note.add_class("error")
            note.update(f"{path}: no such file" if event.value.strip() else "give the path of a file")
            return
        self.dismiss(path.resolve())
