"""One form widget for every set of knobs: generated from :class:`~workbench.schema.params.Param` schemas.

The layer editor, the loss/optimizer/schedule forms, the training options and the data
options are all this widget, fed with the schemas the config validates against, so a knob's
range and help are declared once. Each row is ``name  [value]  help``; a value the schema
refuses is flagged on its row as it is typed and never leaves the form. Valid values are
announced with :class:`ParamForm.Changed` carrying the field's dotted path
(``optimizer.momentum``); the screen decides what to do with them (apply to the draft, or
collect them in a dialog).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.events import DescendantFocus
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static

from workbench.errors import ConfigError
from workbench.schema.params import Param, format_value, parse_field_text


class ChoiceSelect(Select[str], inherit_bindings=False):
    """A Select that opens with enter or space only, so up and down move between form rows."""

    BINDINGS = [Binding("enter,space", "show_overlay", "Choose", show=False)]


#: Width of a form's fields, and the most a long choice may widen them to.
FIELD_WIDTH = 16
MAX_FIELD_WIDTH = 28


class ParamForm(Vertical, can_focus=False):
    """Rows of ``name  [value]  help`` for a tuple of Params, with inline errors."""

    DEFAULT_CSS = """
    ParamForm { height: auto; }
    ParamForm > .form-title { text-style: bold; color: $accent; margin-top: 1; }
    ParamForm > .form-title.first { margin-top: 0; }
    ParamForm .row { height: 1; }
    ParamForm .row > .name { width: 20; height: 1; color: $text-muted; }
    ParamForm .row > Input, ParamForm .row > ChoiceSelect, ParamForm .row > Checkbox { height: 1; margin-right: 1; }
    ParamForm .row > Checkbox:focus { border: none !important; }
    /* A list of choices near the bottom opens upwards instead of over the status bar and footer. */
    ParamForm ChoiceSelect > SelectOverlay { constrain: none inflect; }
    ParamForm .row > .hint { width: 1fr; height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    ParamForm .row > .hint.error { color: $text-error; }
    ParamForm .row.problem > .name { color: $text-error; text-style: bold; }
    ParamForm .row > Input.-refused { background-tint: $error 30%; }
    ParamForm > .form-problem { color: $text-error; display: none; }
    ParamForm > .form-problem.shown { display: block; }
    """

    BINDINGS = [
        Binding("down", "app.focus_next", "Next field", show=False),
        Binding("up", "app.focus_previous", "Previous field", show=False),
    ]

    class Changed(Message):
        """A field now holds a valid value (``path`` is ``where.name``)."""

        def __init__(self, form: ParamForm, path: str, name: str, value: Any) -> None:
            super().__init__()
            self.form = form
            self.path = path
            self.name = name
            self.value = value

        @property
        def control(self) -> ParamForm:
            return self.form

    class Refused(Message):
        """What was typed into a field is not a value it takes (the row shows why)."""

        def __init__(self, form: ParamForm, path: str, name: str, error: ConfigError) -> None:
            super().__init__()
            self.form = form
            self.path = path
            self.name = name
            #: The refusal, naming the field's full path (``optimizer.lr: ...``).
            self.error = ConfigError(str(error), field=path)

    class FieldFocused(Message):
        """A field got the focus: the screen shows its full help and allowed values."""

        def __init__(self, form: ParamForm, path: str, param: Param) -> None:
            super().__init__()
            self.form = form
            self.path = path
            self.param = param

    def __init__(
        self,
        params: Sequence[Param],
        values: Mapping[str, Any],
        *,
        where: str,
        title: str = "",
        enter_moves_on: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.params = tuple(params)
        self.values = {p.name: values.get(p.name, p.default) for p in self.params}
        self.where = where
        self.title = title
        #: Enter in a field focuses the next one; False lets the Submitted message reach a dialog.
        self.enter_moves_on = enter_moves_on
        self._errors: dict[str, str] = {}
        #: Fields whose refusal was posted (Refused) but not yet seen among the problems: until it
        #: is, a redraw must not take it for a refusal the draft has dropped (an undo).
        self._unheard: set[str] = set()
        self._problems: dict[str, str] = {}

    # ------------------------------------------------------------------ building

    def compose(self) -> ComposeResult:
        if self.title:
            yield Label(self.title, classes="form-title" + (" first" if self.has_class("first") else ""), markup=False)
        yield Static(classes="form-problem", markup=False)
        width = min(22, max((len(p.name) for p in self.params), default=4) + 2)
        # Every field of a form is as wide as its longest choice needs ("kaiming_normal ▼" was
        # cut to "kaiming_norma"), so the fields and their hints stay in columns.
        longest = max((len(c) for p in self.params for c in p.choices), default=0)
        field_width = min(MAX_FIELD_WIDTH, max(FIELD_WIDTH, longest + 3))
        for param in self.params:
            with Horizontal(classes="row", id=f"row-{param.name}"):
                label = Label(param.name, classes="name", markup=False)
                label.styles.width = width
                yield label
                editor = self._editor(param, self.values[param.name])
                editor.styles.width = field_width
                yield editor
                yield Label(param.help, classes="hint", id=f"hint-{param.name}", markup=False)  # shows errors too

    def _editor(self, param: Param, value: Any) -> Widget:
        field_id = f"field-{param.name}"
        if param.kind == "bool":
            box = Checkbox(_yes_no(value), bool(value), compact=True, id=field_id)
            box.tooltip = param.help
            return box
        if param.kind == "choice":
            options = [(choice, choice) for choice in param.choices]
            if value not in param.choices:  # an unknown name from a file: show it, flagged by validation
                options.insert(0, (Text(f"{value} (unknown)"), value))  # user text: never markup
            return ChoiceSelect(options, value=value, allow_blank=False, compact=True, id=field_id)
        return Input(format_value(value), compact=True, id=field_id)

    async def set_schema(self, params: Sequence[Param], values: Mapping[str, Any]) -> None:
        """Show another set of knobs (another optimizer was picked); rebuilds only if they differ."""
        params = tuple(params)
        if params == self.params:
            self.set_values(values)
            return
        focused = self.screen.focused
        had_focus = _name_of(focused) if focused is not None and focused in self.walk_children() else None
        self.params = params
        self.values = {p.name: values.get(p.name, p.default) for p in params}
        self._errors.clear()
        await self.recompose()
        self._show_problems()
        if had_focus is not None:  # the field being used (the optimizer's name, say) keeps the focus
            field = self._field(had_focus)
            if field is not None:
                field.focus(scroll_visible=False)

    # ------------------------------------------------------------------ state in

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show the draft's values without disturbing a field that is being typed into.

        A field whose current text already means the new value is left as it is (its cursor
        stays put); a field with a rejected value keeps it unless the value really changed.
        """
        for param in self.params:
            value = values.get(param.name, param.default)
            widget = self._field(param.name)
            if widget is None:
                continue
            if isinstance(widget, Input):
                try:
                    typed = parse_field_text(param, widget.value, self._path(param.name))
                except ConfigError:
                    typed = _UNSET
                if typed != value or type(typed) is not type(value):
                    if param.name in self._errors and self.values.get(param.name) == value:
                        continue  # the draft did not change here; keep what the person is typing
                    with widget.prevent(Input.Changed):
                        widget.value = format_value(value)
                    self._set_error(param.name, None)
            elif isinstance(widget, Checkbox):
                if widget.value != bool(value):
                    with widget.prevent(Checkbox.Changed):
                        widget.value = bool(value)
                    widget.label = _yes_no(value)
            elif isinstance(widget, Select) and widget.value != value and value in param.choices:
                with widget.prevent(Select.Changed):
                    widget.value = value
            self.values[param.name] = value

    def show_problems(self, problems: Iterable[ConfigError]) -> None:
        """Mark the rows that validation of the whole experiment found a problem with.

        A problem with no row here (a parameter a hand-written file added, a file that cannot
        be read) is shown above the rows, so it is still seen where it belongs. Refused text
        that is no longer among the problems (an undo, another experiment opened) gives way to
        the field's value.
        """
        problems = list(problems)
        refusals_kept = {p.field for p in problems}
        self._unheard -= {n for n in self._unheard if self._path(n) in refusals_kept}
        for name in [n for n in self._errors if self._path(n) not in refusals_kept and n not in self._unheard]:
            self._drop_refused_text(name)
        self._problems = {}
        elsewhere = []
        for problem in problems:
            name = problem.field[len(self.where) + 1 :].split(".", 1)[0] if problem.field.startswith(self.where + ".") else ""
            if name in self.values:
                self._problems.setdefault(name, str(problem))
            else:
                elsewhere.append(str(problem))
        self._show_problems()
        for line in self.query(".form-problem").results(Static):
            line.update("\n".join(f"✗ {text}" for text in elsewhere))
            line.set_class(bool(elsewhere), "shown")

    def set_error(self, name: str, message: str) -> None:
        """Flag a field with a message (text it cannot take, or a value the draft refused)."""
        self._set_error(name, _short(message, self._path(name)))

    @property
    def errors(self) -> dict[str, str]:
        """Fields whose current text is refused, by name."""
        return dict(self._errors)

    # ------------------------------------------------------------------ events

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        name = _name_of(event.input)
        param = self._param(name)
        if param is None:
            return
        try:
            value = parse_field_text(param, event.value, self._path(name))
        except ConfigError as error:
            self.set_error(name, str(error))
            self._unheard.add(name)
            self.post_message(self.Refused(self, self._path(name), name, error))
            return
        corrected = name in self._errors
        self._unheard.discard(name)
        self._set_error(name, None)
        self._announce(name, value, corrected=corrected)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        # Enter in a field means "done with this one": move on, like tab.
        if self.enter_moves_on and not self._errors:
            event.stop()
            self.app.action_focus_next()

    @on(Checkbox.Changed)
    def _toggled(self, event: Checkbox.Changed) -> None:
        event.stop()
        event.checkbox.label = _yes_no(event.value)
        self._announce(_name_of(event.checkbox), event.value)

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL:
            self._announce(_name_of(event.select), event.value)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        name = _name_of(event.widget)
        param = self._param(name)
        if param is not None:
            self.post_message(self.FieldFocused(self, self._path(name), param))

    # ------------------------------------------------------------------ helpers

    def _announce(self, name: str, value: Any, *, corrected: bool = False) -> None:
        """Post the field's new value; also an unchanged one that replaces refused text, so
        whoever counted the refusal as a problem hears that it is gone."""
        if not corrected and self.values.get(name) == value and type(self.values.get(name)) is type(value):
            return
        self.values[name] = value
        self.post_message(self.Changed(self, self._path(name), name, value))

    def _set_error(self, name: str, message: str | None) -> None:
        if message is None:
            self._errors.pop(name, None)
        else:
            self._errors[name] = message
        field = self._field(name)
        if field is not None:
            field.set_class(message is not None, "-refused")  # not Input's own -invalid, which it resets
        self._refresh_hint(name)

    def _drop_refused_text(self, name: str) -> None:
        widget = self._field(name)
        if isinstance(widget, Input) and name in self.values:
            with widget.prevent(Input.Changed):
                widget.value = format_value(self.values[name])
        self._set_error(name, None)

    def _show_problems(self) -> None:
        for param in self.params:
            self._refresh_hint(param.name)

    def _refresh_hint(self, name: str) -> None:
        param = self._param(name)
        try:
            hint = self.query_one(f"#hint-{name}", Label)
            row = self.query_one(f"#row-{name}", Horizontal)
        except NoMatches:  # not composed yet; compose shows the current state
            return
        message = self._errors.get(name) or self._problems.get(name)
        hint.update(message or (param.help if param else ""))
        hint.set_class(bool(message), "error")
        row.set_class(bool(message), "problem")
        if message:
            hint.tooltip = message

    def _field(self, name: str) -> Widget | None:
        try:
            return self.query_one(f"#field-{name}")
        except NoMatches:  # a field that is not mounted (yet) has nothing to update
            return None

    def _param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def _path(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name


_UNSET = object()


def _name_of(widget: Widget) -> str:
    return (widget.id or "").removeprefix("field-")


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def _short(message: str, path: str) -> str:
    """A field's error without the path prefix (the row already says which field)."""
    return message.removeprefix(f"{path}: ")
