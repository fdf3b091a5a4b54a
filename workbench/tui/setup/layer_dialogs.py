"""Dialogs of the Model screen: pick a layer type, edit a layer, put it in a group, start from a
preset's model.

The editor is a :class:`ParamForm` over the layer type's catalog params plus its name. As
values are typed it reruns shape inference on the edited stack (torch-free, instant) and says
what the layer will output, or why the stack breaks; the draft changes only when the edit is
applied, as one undo step.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from workbench.errors import ConfigError, WorkbenchError
from workbench.experiment.draft import LAYER_GROUP, LAYER_NAME, Draft, layer_types_by_group
from workbench.experiment.presets import list_presets, read_experiment
from workbench.formatting import count, counted, shape
from workbench.model.catalog import LAYER_TYPES
from workbench.model.shapes import analyse_model
from workbench.schema.config import LayerSpec, ModelConfig
from workbench.tui.code_probes import ask
from workbench.tui.screens.dialogs import Dialog
from workbench.tui.widgets.param_form import ParamForm
from workbench.tui.widgets.text_field import TextField
from workbench.usercode.probing import answers_on_hand


class LayerPicker(Dialog):
    """Layer types grouped as linear / convolution / ... / blocks; dismisses with a type name.

    Typing filters the list by name or help text (Dropout was 17 presses of down away): ``drop``
    leaves Dropout and Dropout2d, and enter adds the one highlighted."""

    DEFAULT_CSS = """
    LayerPicker OptionList { height: auto; max-height: 16; }
    """

    BINDINGS = [Binding("down", "move(1)", "Next", show=False), Binding("up", "move(-1)", "Previous", show=False)]

    def __init__(self, title: str = "Add a layer") -> None:
        super().__init__()
        self.title_text = title

    def compose_dialog(self) -> ComposeResult:
        yield Label(self.title_text, classes="title", markup=False)
        yield TextField(placeholder="type to filter, e.g. drop", id="filter")
        yield OptionList(id="types", markup=False)
        yield Static("type to filter · ↑↓ choose · enter add · escape cancel", classes="note", markup=False)

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, text: str) -> None:
        """The types whose name or help holds ``text``, under their group's heading."""
        wanted = text.strip().lower()
        options: list[Option] = []
        for group, names in layer_types_by_group().items():
            matching = [name for name in names if wanted in f"{name} {LAYER_TYPES[name].help}".lower()]
            if matching:
                options.append(Option(Text(f"── {group} ──", style="bold"), disabled=True))
                options.extend(Option(f"  {name:<18}{LAYER_TYPES[name].help}", id=name) for name in matching)
        types = self.query_one("#types", OptionList)
        types.clear_options()
        types.add_options(options)
        first = next((i for i, option in enumerate(options) if not option.disabled), None)
        types.highlighted = first

    def action_move(self, delta: int) -> None:
        types = self.query_one("#types", OptionList)
        if delta > 0:
            types.action_cursor_down()
        else:
            types.action_cursor_up()

    @on(Input.Submitted, "#filter")
    def _submit(self) -> None:
        option = self.query_one("#types", OptionList).highlighted_option
        if option is not None and option.id:
            self.dismiss(option.id)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class LayerEditor(Dialog):
    """Edit one layer; dismisses with the edited :class:`LayerSpec`, or None when cancelled."""

    DEFAULT_CSS = """
    LayerEditor VerticalScroll { height: auto; max-height: 12; }
    LayerEditor #preview { margin-top: 1; }
    LayerEditor #preview.error { color: $text-error; }
    LayerEditor #help { color: $text-muted; }
    """

    BINDINGS = [Binding("enter", "apply", "Apply"), Binding("ctrl+j", "apply", "Apply", show=False)]

    def __init__(self, draft: Draft, index: int) -> None:
        super().__init__()
        self.draft = draft
        self.index = index
        self.original = draft.config.model.layers[index]
        self.kind = LAYER_TYPES[self.original.type]

    def compose_dialog(self) -> ComposeResult:
        params = (LAYER_NAME, LAYER_GROUP, *self.kind.params)
        values: dict[str, Any] = {"name": self.original.name, "group": self.original.group, **self.original.params}
        yield Label(f"Layer {self.index}: {self.original.type} — {self.kind.help}", classes="title", markup=False)
        with VerticalScroll():
            yield ParamForm(params, values, where=f"model.layers.{self.index}", enter_moves_on=False, id="layer-form")
        yield Static(id="preview", markup=False)
        yield Static(id="help", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Cancel", id="cancel", compact=True)
            yield Button("Apply", id="apply", variant="primary", compact=True)

    def on_mount(self) -> None:
        self._preview()
        form = self.query_one(ParamForm)
        fields = [w for w in form.query("Input, Checkbox, Select") if w.focusable]
        if len(fields) > 2:
            fields[2].focus()  # the first catalog parameter; name and group are rarely what one edits
        elif fields:
            fields[0].focus()

    def edited(self) -> LayerSpec:
        values = dict(self.query_one(ParamForm).values)
        name = values.pop("name", "") or ""
        group = values.pop("group", "") or ""
        return LayerSpec(self.original.type, name, values, group)

    def on_param_form_changed(self, event: ParamForm.Changed) -> None:
        event.stop()
        self._preview()

    def on_param_form_refused(self, event: ParamForm.Refused) -> None:
        event.stop()
        self._preview()

    def on_param_form_field_focused(self, event: ParamForm.FieldFocused) -> None:
        event.stop()
        self.query_one("#help", Static).update(f"{event.param.name}: {event.param.help} ({event.param.allowed()})")

    def _preview(self) -> None:
        """Say what this layer will output with the values typed so far, or why it breaks."""
        preview = self.query_one("#preview", Static)
        info = self.draft.dataset_info
        errors = self.query_one(ParamForm).errors
        if errors:
            name, message = next(iter(errors.items()))
            preview.update(f"✗ {name}: {message}")
            preview.add_class("error")
            return
        if info is None:
            preview.update("(choose a valid dataset to see shapes)")
            preview.remove_class("error")
            return
        layers = list(self.draft.config.model.layers)
        layers[self.index] = self.edited()
        with answers_on_hand() as pending:  # a Code layer's class is run off the UI thread
            analysis = analyse_model(
                replace(self.draft.config.model, layers=layers), info.input_shape, info.num_outputs, vocab_size=info.vocab_size
            )
        if pending:
            preview.update(f"⋯ running {pending[0].label} once…")
            preview.remove_class("error")
            ask(self.app, pending, self.draft.probe_timeout_s, lambda: self.is_attached and self._preview(), replaces=False)
            return
        if len(analysis.layers) > self.index:
            layer = analysis.layers[self.index]
            text = f"→ output {shape(layer.output_shape)} · {count(layer.num_params)} params"
            broken = analysis.error is not None
            if broken:
                text += f"\n✗ further on: {analysis.error}"
            preview.update(text)
            preview.set_class(broken, "error")
        else:
            preview.update(f"✗ {analysis.error}")
            preview.add_class("error")

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        form = self.query_one(ParamForm)
        if form.errors:
            self.notify("Fix the flagged field first (or escape to cancel)", severity="warning")
            return
        try:
            layer = self.draft.checked_layer(self.index, self.edited())
        except ConfigError as error:
            form.set_error(error.field.rsplit(".", 1)[-1], str(error).removeprefix(f"{error.field}: "))
            self._preview()
            return
        self.dismiss(layer)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self) -> None:
        self.action_apply()


class GroupDialog(Dialog):
    """Ask for the group of the layers at ``indices`` (ascending, consecutive where it matters);
    dismisses with the name ("" = no group), or None when cancelled.

    It offers the first layer's group, or else the one of the layer above (extending a group
    down is the common case), and closes only on a name the draft can take
    (:meth:`Draft.group_problem`): why not is said under the field."""

    def __init__(self, draft: Draft, indices: list[int]) -> None:
        super().__init__()
        self.draft = draft
        self.indices = indices

    def compose_dialog(self) -> ComposeResult:
        layers = self.draft.config.model.layers
        first = self.indices[0]
        offered = layers[first].group or (layers[first - 1].group if first > 0 else "")
        many = f" ({len(self.indices)} layers)" if len(self.indices) > 1 else ""
        yield Label(f"Group of {self.draft.layers_label(self.indices)}{many}", classes="title", markup=False)
        yield TextField(offered, placeholder="e.g. conv or dense; empty = no group", id="group")
        yield Static(
            "Consecutive layers of one group become a named nn.Sequential (model.conv.conv1).", classes="note", markup=False
        )
        yield Static(id="note", markup=False)
        yield Static("enter set · escape cancel", classes="note", markup=False)

    def on_mount(self) -> None:
        self.query_one("#group", Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        group = event.value.strip()
        problem = self.draft.group_problem(self.indices, group)
        if problem:
            note = self.query_one("#note", Static)
            note.add_class("error")
            note.update(problem)
            return
        self.dismiss(group)


class PresetModelPicker(Dialog):
    """Start from the model of any preset; dismisses with its ModelConfig and name."""

    DEFAULT_CSS = """
    PresetModelPicker OptionList { height: auto; max-height: 16; }
    """

    def compose_dialog(self) -> ComposeResult:
        self._models: dict[str, ModelConfig] = {}
        options = []
        for entry in list_presets():
            try:
                model = read_experiment(entry.name).model
            except WorkbenchError:
                continue
            self._models[entry.name] = model
            types = " ".join(dict.fromkeys(layer.type for layer in model.layers))
            options.append(Option(f"{entry.name:<22}{counted(len(model.layers), 'layer'):>10}  {types}", id=entry.name))
        yield Label("Start from the model of a preset (ctrl+z undoes)", classes="title", markup=False)
        yield OptionList(*options, markup=False)
        yield Static("↑↓ choose · enter use · escape cancel", classes="note", markup=False)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        name = event.option.id or ""
        self.dismiss((name, self._models[name]))
