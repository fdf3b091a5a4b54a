"""What every main screen shares: the top bar, a help line, the status bar and the footer.

A main screen (Data, Model, Optimize, Train, Runs) subclasses :class:`WorkbenchScreen`, lays
out its body in :meth:`compose_body` and redraws from the shared draft in :meth:`draft_changed`,
which runs once on mount and after every change of the draft (an edit on any screen, undo,
redo, opening another experiment). Values typed into any :class:`ParamForm` on the screen go
to the draft here, in one place; refused values are flagged on their row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from workbench.errors import ConfigError
from workbench.tui.widgets.bars import HelpLine, KeysFooter, StatusBar, TopBar
from workbench.tui.widgets.param_form import ParamForm
from workbench.tui.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from workbench.experiment.draft import Draft
    from workbench.tui.app_base import WorkbenchAppBase


class WorkbenchScreen(ReportsWorkerErrors, Screen[None]):
    """A main screen of the app (one per mode)."""

    #: The mode name the app switches to with this screen's number key.
    MODE: ClassVar[str] = ""
    #: What the help line says when no field has the focus.
    HINT: ClassVar[str] = ""
    #: Whether the status bar shows the line about the runs in progress (the Train screen shows
    #: the run itself, so it does not repaint the bottom row at every report as well).
    SHOWS_ACTIVITY: ClassVar[bool] = True
    #: The widget that has the focus when none of the screen's fields is being typed into (the
    #: runs table, the layer table): Escape from a field returns there. Empty: nothing focused.
    MAIN_WIDGET: ClassVar[str] = ""

    # The footer hides the keys a text field swallows, so while typing it shows this one: it
    # says that keys go to the field, and how to get the screen's keys back.
    BINDINGS = [Binding("escape", "leave_field", "done typing", tooltip="Leave the text field: the screen's keys work again")]

    app: WorkbenchAppBase  # type: ignore[assignment]

    def compose(self) -> ComposeResult:
        yield TopBar(self.MODE)
        yield from self.compose_body()
        yield HelpLine(self.HINT)
        yield StatusBar(activity=self.SHOWS_ACTIVITY)
        yield KeysFooter()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between the top bar and the help line."""
        yield from ()

    @property
    def draft(self) -> Draft:
        return self.app.draft

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """Shown again (its number key, a dialog closed): no restyling of every widget.

        Textual re-applies the whole stylesheet to each node of a resumed screen, in case the
        styles changed while it was hidden: 3-8 ms per 100 widgets, most of a switch to the
        Optimize screen (300 widgets). Nothing that changes them waits for the screen: a class
        or focus change restyles its widget at once, shown or not, and a theme or CSS change
        restyles the screen as the app switches to it (``App.switch_mode``).
        """
        event.refresh_styles = False
        super()._on_screen_resume(event)

    def on_mount(self) -> None:
        self.watch(self.app, "draft_version", self._draft_version_changed, init=False)
        self.draft_changed()

    def _draft_version_changed(self, _version: int) -> None:
        self.draft_changed()

    def draft_changed(self) -> None:
        """Redraw from ``self.draft`` (called on mount and after every change)."""

    def focus_field(self, path: str) -> None:
        """Put the focus on what edits ``path`` (``model.layers.3``), to go to a problem."""

    # ------------------------------------------------------------------ forms

    def on_param_form_changed(self, event: ParamForm.Changed) -> None:
        try:
            self.draft.set_value(event.path, event.value)
        except ConfigError as error:
            event.form.set_error(event.name, str(error))
            self.draft.refuse_text(ConfigError(str(error), field=event.path))

    def on_param_form_refused(self, event: ParamForm.Refused) -> None:
        """Text a field cannot take makes the experiment invalid until it is corrected: the
        status, ``!`` and ``s`` all see it (the draft keeps the old value meanwhile)."""
        self.draft.refuse_text(event.error)

    def on_param_form_field_focused(self, event: ParamForm.FieldFocused) -> None:
        param = event.param
        self.query_one(HelpLine).show(f"{event.path}: {param.help} ({param.allowed()})")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape is offered (and shown) only while a text field has the focus."""
        if action == "leave_field":
            return isinstance(self.focused, Input)
        return True

    def action_leave_field(self) -> None:
        """Escape from a text field to the screen's main widget, so that the screen's keys (and
        1-5, q, ?) act again and the arrows move what they moved before."""
        if isinstance(self.focused, Input):
            self.focus_main_widget()

    def focus_main_widget(self) -> None:
        """Focus the first shown one of ``MAIN_WIDGET`` (the Model screen's table or its code)."""
        shown = [w for w in self.query(self.MAIN_WIDGET) if w.focusable] if self.MAIN_WIDGET else []
        self.set_focus(shown[0] if shown else None)

    def set_hint(self, text: str) -> None:
        """Say something about the current selection on the help line."""
        self.query_one(HelpLine).show(text)
