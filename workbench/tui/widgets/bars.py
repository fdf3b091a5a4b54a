"""The one-line bars around every main screen.

- :class:`TopBar`: the experiment's name, whether it has unsaved changes, and the five screens
  with their number keys (the current one highlighted; clickable with a mouse).
- :class:`HelpLine`: what the focused field means and which values it takes.
- :class:`StatusBar`: the draft's problems summarised (count and the first one) on the left,
  and on the right the app's ``activity`` line (the Train screen reports a running run there).

They read the app's ``draft`` and redraw when its ``draft_version`` or ``activity`` changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from workbench.errors import ConfigError

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp

#: (mode, title, key) of the five main screens, in key order.
SCREENS: tuple[tuple[str, str, str], ...] = (
    ("data", "Data", "1"),
    ("model", "Model", "2"),
    ("optimize", "Optimize", "3"),
    ("train", "Train", "4"),
    ("runs", "Runs", "5"),
)


class TopBar(Horizontal):
    """``digits-cnn  ● unsaved        1 Data  2 Model  3 Optimize  4 Train  5 Runs``."""

    DEFAULT_CSS = """
    TopBar { height: 1; background: $panel; }
    TopBar > #experiment { width: 1fr; height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    TopBar > #tabs { width: auto; height: 1; }
    """

    app: WorkbenchApp  # type: ignore[assignment]

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def compose(self) -> ComposeResult:
        yield Static(id="experiment")
        yield Static(self._tabs(), id="tabs")

    def on_mount(self) -> None:
        self.watch(self.app, "draft_version", self._redraw)

    def _redraw(self, _version: int = 0) -> None:
        draft = self.app.draft
        text = Text()
        text.append(draft.name, style="bold")
        if draft.dirty:
            text.append("  ● unsaved", style="yellow")
        self.query_one("#experiment", Static).update(text)

    def _tabs(self) -> str:
        parts = []
        for mode, title, key in SCREENS:
            label = f" {key} {title} "
            if mode == self.mode:
                parts.append(f"[reverse bold]{label}[/]")
            else:
                parts.append(f"[@click=app.show('{mode}')]{label}[/]")
        return "".join(parts)


class HelpLine(Static):
    """A dim line explaining the focused field, or the screen's default hint."""

    DEFAULT_CSS = """
    HelpLine { height: 1; color: $text-muted; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, hint: str = "") -> None:
        super().__init__(hint, markup=False)
        self.hint = hint

    def show(self, text: str) -> None:
        self.update(text or self.hint)


class StatusBar(Horizontal):
    """``✗ 2 problems: model.layers.4 ...`` or ``✓ ready to train``, and the activity on the right."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; }
    StatusBar > #problems { width: 1fr; height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    StatusBar > #activity { width: auto; max-width: 40; height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    app: WorkbenchApp  # type: ignore[assignment]

    def compose(self) -> ComposeResult:
        yield Static(id="problems", markup=False)
        yield Static(id="activity", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "draft_version", self._redraw_problems)
        self.query_one("#activity", Static).update(self.app.activity)
        self.watch(self.app, "activity", self._redraw_activity, init=False)

    def _redraw_problems(self, _version: int = 0) -> None:
        self.query_one("#problems", Static).update(problems_summary(self.app.draft.problems))

    def _redraw_activity(self, old: str, activity: str) -> None:
        # The line changes with every report of a run: re-lay out the screen only when its width does.
        self.query_one("#activity", Static).update(activity, layout=cell_len(activity) != cell_len(old))


def problems_summary(problems: list[ConfigError]) -> Text:
    """One line: ``✓ ready to train`` or ``✗ 3 problems (! lists them): <the first one>``."""
    if not problems:
        return Text("✓ ready to train", style="green")
    count = len(problems)
    head = "✗ 1 problem: " if count == 1 else f"✗ {count} problems (! lists them): "
    return Text.assemble((head, "bold red"), (str(problems[0]), "red"))
