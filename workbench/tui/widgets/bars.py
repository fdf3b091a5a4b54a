"""The one-line bars around every main screen.

- :class:`TopBar`: the experiment's name, whether it has unsaved changes, and the five screens
  with their number keys (the current one highlighted; clickable with a mouse).
- :class:`HelpLine`: what the focused field means and which values it takes.
- :class:`StatusBar`: the draft's problems summarised (count and the first one) on the left,
  and on the right the app's ``activity`` line about the runs in progress (left out on the
  Train screen, which shows the run itself).
- :class:`KeysFooter`: the keys of the screen, Textual's footer without its leak.

They read the app's ``draft`` and redraw when its ``draft_version`` or ``activity`` changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey, FooterLabel

from workbench.errors import ConfigError
from workbench.tui.main_screens import SCREENS
from workbench.usercode.probing import StillRunning

if TYPE_CHECKING:
    from textual.screen import Screen

    from workbench.data.registry import DatasetInfo
    from workbench.tui.app_base import WorkbenchAppBase


class TopBar(Horizontal):
    """``digits-cnn  ● unsaved        1 Data  2 Model  3 Optimize  4 Train  5 Runs``."""

    DEFAULT_CSS = """
    TopBar { height: 1; background: $panel; }
    TopBar > #experiment { width: 1fr; height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    TopBar > #tabs { width: auto; height: 1; }
    """

    app: WorkbenchAppBase  # type: ignore[assignment]

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def compose(self) -> ComposeResult:
        yield Static(id="experiment", markup=False)
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
        for mode, title, key, _location in SCREENS:
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


def show_content(static: Static, content: str | Text) -> None:
    """Show ``content`` in ``static`` unless it already shows exactly that.

    Every update dirties the screen around the widget, and while a run trains the screens are
    told of it several times a second: repainting what did not change is most of what the app
    would spend. The widget keeps its size, so the screen is not laid out again."""
    if static.content != content:
        static.update(content, layout=False)


class StatusBar(Horizontal):
    """``✗ 2 problems: model.layers.4 ...`` or ``✓ ready to train``, and the activity on the right."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; }
    StatusBar > #problems { width: 1fr; height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    StatusBar > #activity { width: auto; max-width: 40; height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    app: WorkbenchAppBase  # type: ignore[assignment]

    def __init__(self, *, activity: bool = True) -> None:
        super().__init__()
        self.shows_activity = activity

    def compose(self) -> ComposeResult:
        yield Static(id="problems", markup=False)
        if self.shows_activity:
            yield Static(id="activity", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "draft_version", self._redraw_problems)
        if self.shows_activity:
            self.query_one("#activity", Static).update(self.app.activity)
            self.watch(self.app, "activity", self._redraw_activity, init=False)

    def _redraw_problems(self, _version: int = 0) -> None:
        draft = self.app.draft
        show_content(self.query_one("#problems", Static), problems_summary(draft.problems, draft.dataset_info))

    def _redraw_activity(self, old: str, activity: str) -> None:
        # The line changes with every report of a run: re-lay out the screen only when its width does.
        self.query_one("#activity", Static).update(activity, layout=cell_len(activity) != cell_len(old))


def problems_summary(problems: list[ConfigError], info: DatasetInfo | None = None) -> Text:
    """One line: ``✓ ready to train`` or ``✗ 3 problems (! lists them): <the first one>``.

    The line is cut at the terminal's width, so it always says that ``!`` shows the problems
    whole (wrapped), one problem too: at 80 columns most are longer than the line.

    A dataset that still has to be downloaded is said too (``info``: the draft's dataset): a
    run would fetch it first, and on a machine without a network it could not start. The
    user's code being run once in the background is not counted as a problem: it answers
    itself, and the line says what it waits for.
    """
    running = [problem.label for problem in problems if isinstance(problem, StillRunning)]
    problems = [problem for problem in problems if not isinstance(problem, StillRunning)]
    if running and not problems:
        return Text.styled(f"… running {', '.join(dict.fromkeys(running))} once to check it; s waits for it", "yellow")
    if not problems and info is not None and not info.cached:
        return Text.styled(
            f"✓ ready to train; {info.name} downloads first ({info.download_mb:g} MB; D on screen 1 now)", "yellow"
        )
    if not problems:
        return Text.styled("✓ ready to train", "green")
    count = len(problems)
    head = "✗ 1 problem (! shows it): " if count == 1 else f"✗ {count} problems (! lists them): "
    return Text.assemble((head, "bold red"), (str(problems[0]), "red"))


class KeysFooter(Footer):
    """Textual's compact footer (keys only, no palette entry), without a leak of Textual 8.2.

    Every recompose (each screen switch and binding change) data-binds the new keys to the
    footer's ``compact``, and Textual forgets the bindings of removed keys only when ``compact``
    changes, which it never does; so every switch kept about 16 dead keys alive (5,000 objects),
    and the garbage collector's pauses grew with them, past 0.3 s in a long session."""

    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)
        self._recompose_due = False
        self._keys_shown: tuple[object, ...] = ()

    def bindings_changed(self, screen: Screen) -> None:
        """Textual's, but one recompose for every change before it runs: showing a screen
        changes its bindings several times (focus set, keys enabled)."""
        self._bindings_ready = True
        if self._recompose_due or not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        self._recompose_due = True
        self.call_after_refresh(self.recompose)

    async def recompose(self) -> None:
        """Rebuild the keys only when the keys to show changed: each rebuild makes every key
        anew (about 20 widgets), and most binding changes (focus moving within a screen, a
        table filled) leave the same keys; the Runs screen's first showing rebuilt them 3 times."""
        self._recompose_due = False
        if not self.is_attached:  # its screen was closed meanwhile
            return
        keys = tuple(
            (binding.key, binding.action, binding.description, binding.group, enabled, tooltip)
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show
        )
        if keys == self._keys_shown and self.children:
            return
        self._keys_shown = keys
        await super().recompose()
        # Textual keeps a node's watchers in the attribute "__watchers", a dict of lists of
        # (watching node, callback); it prunes closed nodes with this same rule.
        for watchers in getattr(self, "__watchers", {}).values():
            watchers[:] = [(node, callback) for node, callback in watchers if not node._closing]
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Hide the keys that do not fit, the screen's last ones first, so that a narrow
        terminal never shows a key cut in the middle ("q Qu"); help and quit always stay (the
        help lists every key). Textual's footer would scroll them out of sight instead.

        Widths come from the keys' texts, not from the layout, which is not done yet after a
        recompose, and which hidden keys are missing from."""
        units: list[list[Widget]] = []  # a key, or a group of keys with its label after it
        for child in self.children:
            if isinstance(child, FooterLabel) and units:
                units[-1].append(child)
            else:
                units.append([child])
        widths = [sum(_footer_width(widget) for widget in unit) for unit in units]
        kept = list(range(len(units)))
        while sum(widths[i] for i in kept) - 1 > self.size.width and len(kept) > 2:
            kept.pop(-3)  # the last key before help and quit
        for index, unit in enumerate(units):
            for widget in unit:
                widget.display = index in kept


def _footer_width(widget: Widget) -> int:
    """Cells a footer item takes, with the space after it."""
    if isinstance(widget, FooterKey):
        text = f"{widget.key_display} {widget.description}" if widget.description else widget.key_display
    elif isinstance(widget, FooterLabel):
        text = str(widget.render())
    else:  # a group: its keys side by side
        text = "".join(key.key_display for key in widget.query(FooterKey))
    return cell_len(text) + 1
