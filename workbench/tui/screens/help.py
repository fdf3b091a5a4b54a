"""The help screen: every key of the app, generated from the bindings themselves.

The list is built from the ``BINDINGS`` of the app and of each main screen, so a key added
anywhere shows up here without a second place to update.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

#: Keys every form and list understands, which no binding of ours declares.
FIELD_KEYS: tuple[tuple[str, str], ...] = (
    ("tab / shift+tab", "next / previous field or panel"),
    ("up / down", "move in a list, or between form fields"),
    ("enter", "choose; in a form field, accept and go on"),
    ("escape", "leave a text field (then 1-5 switch screens); close a dialog"),
    ("ctrl+p", "command palette: every screen and action by name"),
)


def key_table(sections: Sequence[tuple[str, Sequence[Binding]]]) -> Table:
    """A two-column table of keys and what they do, one titled block per section."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=14)
    table.add_column()
    for title, bindings in sections:
        rows = [(display_key(b.key), b.tooltip or b.description) for b in bindings if b.description]
        if not rows:
            continue
        table.add_row(Text(title, style="bold underline"), "")
        for key, description in rows:
            table.add_row(key, description)
        table.add_row("", "")
    table.add_row(Text("In forms and lists", style="bold underline"), "")
    for key, description in FIELD_KEYS:
        table.add_row(key, description)
    return table


def display_key(keys: str) -> str:
    """``"shift+up,K"`` -> ``"shift+up / K"``; ``"question_mark"`` -> ``"?"``, ``"slash"`` -> ``"/"``.

    A key named after a symbol reads as the symbol; "enter", "escape" and the arrows stay words
    (Textual's own symbols for them, ⏎ and ↓, are easy to miss in a list).
    """
    shown = []
    for key in keys.split(","):
        *modifiers, name = key.strip().split("+")
        symbol = format_key(name)
        is_symbol = len(symbol) == 1 and symbol.isascii() and not symbol.isalnum()
        shown.append("+".join([*modifiers, symbol if is_symbol else name]))
    return " / ".join(shown)


class HelpScreen(ModalScreen[None]):
    """A scrollable list of keys; escape, ? or q closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 76; max-width: 100%; height: 100%; border: round $accent; background: $surface; }
    HelpScreen VerticalScroll { height: 1fr; padding: 0 1; }
    HelpScreen .note { color: $text-muted; padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape,question_mark,q", "app.pop_screen", "Close"),
        Binding("down,j", "scroll(1)", "Down", show=False),
        Binding("up,k", "scroll(-1)", "Up", show=False),
    ]

    def __init__(self, sections: Sequence[tuple[str, Sequence[Binding]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Static(key_table(self.sections), markup=False)
            yield Static("↑↓ scroll · escape close", classes="note", markup=False)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_scroll(self, lines: int) -> None:
        scroll = self.query_one(VerticalScroll)
        scroll.scroll_relative(y=lines, animate=False)
