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

import asyncio
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
from textual.widgets._select import SelectOverlay

from workbench.errors import ConfigError
from workbench.schema.params import Param, format_value, parse_field_text
from workbench.tui.widgets.field_sync import FieldSync, same
from workbench.tui.widgets.text_field import KeysInOrder, TextField


class ChoiceSelect(KeysInOrder, Select[str], inherit_bindings=False):
    """A Select that opens with enter or space only, so up and down move between form rows;
    ``enter down enter`` typed at once opens the list, moves and chooses."""

    BINDINGS = [Binding("enter,space", "show_overlay", "Choose", show=False)]

    def action_show_overlay(self) -> None:
        super().action_show_overlay()
        # Focus the list now, not after the keys already on their way: they move in it.
        self.screen.set_focus(self.query_one(SelectOverlay), scroll_visible=False)


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
        #: Where each field stands with whoever takes its values (see FieldSync).
        self._sync: dict[str, FieldSync] = {}
        #: Held while rows are replaced: two rebuilds at once (the devices found, a schedule
        #: picked) moved rows the other was still removing or mounting.
        self._rebuilding = asyncio.Lock()

    # ------------------------------------------------------------------ building

    def compose(self) -> ComposeResult:
        if self.title:
            yield Label(self.title, classes="form-title" + (" first" if self.has_class("first") else ""), markup=False)
        yield Static(classes="form-problem", markup=False)
        for param in self.params:
            yield self._row(param, self.values[param.name])

    def on_mount(self) -> None:
        self._size_columns()

    def _row(self, param: Param, value: Any) -> Horizontal:
        """``name  [value]  help`` for one knob, and the record of where its field stands."""
        editor = self._editor(param, value)
        self._sync[param.name] = FieldSync(shown=_content(editor), taken=value)
        hint = Label(param.help, classes="hint", id=f"hint-{param.name}", markup=False)  # shows errors too
        return Horizontal(Label(param.name, classes="name", markup=False), editor, hint, classes="row", id=f"row-{param.name}")

    def _size_columns(self) -> None:
        """Names and fields in columns: every field as wide as the longest choice needs
        ("kaiming_normal ▼" was cut to "kaiming_norma"), so the fields and hints line up."""
        width = min(22, max((len(p.name) for p in self.params), default=4) + 2)
        longest = max((len(c) for p in self.params for c in p.choices), default=0)
        field_width = min(MAX_FIELD_WIDTH, max(FIELD_WIDTH, longest + 3))
        for row in self.query(".row").results(Horizontal):
            if len(row.children) < 2:  # being mounted by a rebuild under way (the form's own
                continue  # mount came meanwhile), which sizes it when mounted
            name, editor = row.children[0], row.children[1]
            name.styles.width = width
            editor.styles.width = field_width

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
        return TextField(format_value(value), compact=True, id=field_id)

    async def set_schema(self, params: Sequence[Param], values: Mapping[str, Any]) -> None:
        """Show another set of knobs (another optimizer was picked, the devices were found).

        Only the rows whose knob changed are rebuilt: a field that stays is the same widget, so
        what is being typed into it (and keys not yet handled) is kept with its focus.
        """
        params = tuple(params)
        async with self._rebuilding:  # in turn, each from the rows the one before left
            if params != self.params:
                await self._replace_rows(params, values)
        self.set_values(values)

    async def _replace_rows(self, params: tuple[Param, ...], values: Mapping[str, Any]) -> None:
        focused = self.screen.focused
        had_focus = _name_of(focused) if focused is not None and focused in self.walk_children() else None
        kept = {p.name for p in params} & {p.name for p in self.params if p in params}
        for param in self.params:
            if param.name not in kept:
                self._forget(param.name)
                await self.query_one(f"#row-{param.name}").remove()
        self.params = params
        previous: Widget = self.query_one(".form-problem")
        for param in params:
            if param.name in kept:
                row: Widget = self.query_one(f"#row-{param.name}")
                self.move_child(row, after=previous)
            else:
                self.values[param.name] = values.get(param.name, param.default)
                row = self._row(param, self.values[param.name])
                await self.mount(row, after=previous)
            previous = row
        self._size_columns()
        self._show_problems()
        if had_focus is not None and had_focus not in kept:  # a rebuilt field being used keeps the focus
            field = self._field(had_focus)
            if field is not None:
                field.focus(scroll_visible=False)

    def _forget(self, name: str) -> None:
        """A knob that is no longer shown: its value, refusal and problem go with its row."""
        for table in (self.values, self._sync, self._errors, self._problems):
            table.pop(name, None)
        self._unheard.discard(name)

    # ------------------------------------------------------------------ state in

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show the draft's values without disturbing a field that is being typed into.

        A redraw that is only catching up with what was typed leaves the field alone (see
        :class:`FieldSync`); so does one that comes while the field holds keys not yet read,
        which will be announced over it. A field whose text already means the new value keeps
        it (its cursor stays put); a field with refused text keeps it unless the value changed.
        """
        for param in self.params:
            name = param.name
            value = values.get(name, param.default)
            widget, sync = self._field(name), self._sync.get(name)
            if widget is None or sync is None or sync.catching_up(value):
                continue
            sync.changed_elsewhere(value)
            before, self.values[name] = self.values.get(name), value
            content = _content(widget)
            if sync.unread(content) or (name in self._errors and same(before, value)):
                continue
            try:
                if same(self._meaning(param, content), value):
                    continue
            except ConfigError:
                pass  # refused text, and the value changed: show the value
            self._show(widget, value)
            self._set_error(name, None)

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
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _edited(self, event: Input.Changed | Checkbox.Changed | Select.Changed) -> None:
        """A field changed: read what it holds now, not what the message says it held.

        Keys are handled before the Changed messages they post, so a burst arrives as messages
        about text the field has since left; the first of them reads the final text, the rest
        find nothing new. What is announced is therefore always what the field shows.
        """
        event.stop()
        widget = event.control
        name = _name_of(widget)
        param, sync = self._param(name), self._sync.get(name)
        if param is None or sync is None or not sync.read(content := _content(widget)):
            return
        if isinstance(widget, Checkbox):
            widget.label = _yes_no(content)
        try:
            value = self._meaning(param, content)
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

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        name = _name_of(event.widget)
        param = self._param(name)
        if param is not None:
            self.post_message(self.FieldFocused(self, self._path(name), param))

    # ------------------------------------------------------------------ helpers

    def _announce(self, name: str, value: Any, *, corrected: bool = False) -> None:
        """Post the field's new value; also an unchanged one that replaces refused text, so
        whoever counted the refusal as a problem hears that it is gone."""
        if not corrected and same(self.values.get(name), value):
            return
        self.values[name] = value
        self._sync[name].announced(value)
        self.post_message(self.Changed(self, self._path(name), name, value))

    def _meaning(self, param: Param, content: Any) -> Any:
        """The value a field's content stands for (ConfigError when its text is refused)."""
        if isinstance(content, str) and param.kind not in ("choice", "bool"):
            return parse_field_text(param, content, self._path(param.name))
        return bool(content) if param.kind == "bool" else content

    def _show(self, widget: Widget, value: Any) -> None:
        """Write a value into its field without announcing it back (it came from the taker)."""
        name = _name_of(widget)
        if isinstance(widget, Input):
            with widget.prevent(Input.Changed):
                widget.value = format_value(value)
        elif isinstance(widget, Checkbox):
            with widget.prevent(Checkbox.Changed):
                widget.value = bool(value)
            widget.label = _yes_no(value)
        elif isinstance(widget, Select) and (param := self._param(name)) is not None and value in param.choices:
            with widget.prevent(Select.Changed):
                widget.value = value
        self._sync[name].shown = _content(widget)

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
            self._show(widget, self.values[name])
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


def _name_of(widget: Widget) -> str:
    return (widget.id or "").removeprefix("field-")


def _content(widget: Widget) -> Any:
    """What a field holds: an Input's text, a Checkbox's state, a Select's choice."""
    if isinstance(widget, (Input, Checkbox, Select)):
        return widget.value
    return None


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def _short(message: str, path: str) -> str:
    """A field's error without the path prefix (the row already says which field)."""
    return message.removeprefix(f"{path}: ")
