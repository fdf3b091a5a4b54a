"""The Model screen: the layer table, its totals, edits, and the code view.

The table is the draft's layer list with what shape inference (``model.shapes.analyse``,
torch-free) says about each layer. The first layer that breaks the stack is highlighted and the
reason is shown in one line under the totals; layers after it show ``?``. A model with named
groups of layers gets a group column: ``m`` (or space) marks layers, ``g`` puts the marked ones
(or the highlighted one) into a group with one dialog. Every edit is one draft step, so ctrl+z
undoes it from any screen, a whole grouping included. The code view shows exactly what
``model.codegen.model_source`` produces.

A model of the user's own class (``model.code``, set with ``f``) shows instead the tree of its
named modules, from one run of the class in a child process that the app starts off its UI
thread (:mod:`workbench.tui.code_probes`; meanwhile a line says it is running); the layer keys
rest, ``c`` shows the user's file and ``v`` opens it in their editor (:mod:`.model_code`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import JustifyMethod
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer, Vertical
from textual.widgets import DataTable, Static

from workbench.errors import ConfigError
from workbench.formatting import count, counted, shape
from workbench.model.backbones import trainable_count
from workbench.model.catalog import LAYER_TYPES
from workbench.model.codegen import model_source
from workbench.model.memory import byte_size, memory_text, training_memory
from workbench.model.shapes import layer_names
from workbench.schema.config import LayerSpec, ModelConfig, layer_index, section_params
from workbench.tui.code_probes import start_ahead
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.setup.layer_dialogs import GroupDialog, LayerEditor, LayerPicker, PresetModelPicker
from workbench.tui.setup.model_code import CodeModelDialog, class_label, code_file, open_in_editor, read_shown, tree_rows
from workbench.tui.widgets.bars import HelpLine
from workbench.tui.widgets.param_form import ParamForm
from workbench.usercode.probing import forget_failures

#: Short labels for the key parameters in the table's "parameters" column.
SHORT_NAMES = {
    "in_channels": "in",
    "out_channels": "out",
    "in_features": "in",
    "out_features": "out",
    "kernel_size": "k",
    "stride": "s",
    "padding": "p",
    "num_features": "n",
    "output_size": "size",
    "negative_slope": "slope",
    "input_size": "in",
    "hidden_size": "hidden",
    "num_embeddings": "vocab",
    "embedding_dim": "dim",
    "embed_dim": "dim",
    "num_heads": "heads",
    "normalized_shape": "n",
    "num_groups": "groups",
    "num_channels": "n",
}

COLUMNS = ("#", "name", "type", "parameters", "output", "params")
#: The columns of a model of the user's own class: its named modules as a tree.
TREE_COLUMNS = ("name", "type", "output", "params")
#: The columns of a model with named groups: the group comes first (flat models keep their width).
GROUPED_COLUMNS = ("#", "group", "name", "type", "parameters", "output", "params")
RIGHT_ALIGNED = ("#", "params")
#: The form under the table: the init schemes (the class is chosen with ``f``, not typed there).
MODEL_FIELDS = tuple(p for p in section_params(ModelConfig) if p.name != "code")
#: Problems the table's own line shows (the stack's, the class's), not the form under it.
SHOWN_ABOVE = ("model.layers", "model.code", "model.args")
#: The keys that act on a layer list; a model of the user's class has none.
LAYER_ACTIONS = ("add", "edit", "delete", "move", "group", "mark", "mark_all")
#: The ``●`` of a marked layer: cyan reads on the selected row's navy, in 256 and 16 colours (theme.py).
MARK_STYLE = "bold cyan"


class CodeView(ScrollableContainer):
    """The model's PyTorch code, scrolled with the arrows; escape (or ``c``) goes back to the layers."""

    BINDINGS = [Binding("escape", "screen.toggle_code", "Layers", tooltip="Back to the layer table")]


class ModelScreen(WorkbenchScreen):
    MODE = "model"
    MAIN_WIDGET = "#layers, #code"
    HINT = "Shapes and counts follow every edit. m marks, g groups; f: your own nn.Module."
    #: The hint for a model of the user's own class.
    CLASS_HINT = "Your class's modules, from one run of it. f: another class or layers. v edits."

    _MOVE = Binding.Group("Move", compact=True)
    BINDINGS = [
        Binding("a", "add", "Add", tooltip="Add a layer after the cursor"),
        Binding("e", "edit", "Edit", tooltip="Edit the layer under the cursor (or enter)"),
        Binding("d,delete", "delete", "Delete", tooltip="Delete the layer under the cursor"),
        Binding("K,shift+up", "move(-1)", "Move up", group=_MOVE, tooltip="Move the layer up"),
        Binding("J,shift+down", "move(1)", "Move down", group=_MOVE, tooltip="Move the layer down"),
        Binding("g", "group", "Group", tooltip="Put the marked layers (or the highlighted one) in a named group (e.g. conv)"),
        # In ? and the hint line: the footer has no room left at 80 columns.
        Binding(
            "m,space", "mark", "Mark", show=False, tooltip="Mark or unmark the layer and move to the next (g groups the marked)"
        ),
        Binding("M", "mark_all", "Mark all", show=False, tooltip="Mark every layer, or unmark all"),
        Binding("p", "from_preset", "Preset", tooltip="Start from the model of a preset"),
        Binding("c", "toggle_code", "Code", tooltip="Show or hide the model's PyTorch code (your file, for your own class)"),
        Binding(
            "f",
            "choose_class",
            "Class",
            show=False,
            tooltip="The model: a class from your own Python file (FILE.py:CLASS), or layers again",
        ),
        Binding(
            "v", "edit_file", "Edit file", tooltip="Open your class's file in $VISUAL / $EDITOR; it is run again when you leave"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: The marked layers' indices, for ``g``; kept while the layer list keeps its types in order.
        self.marked: set[int] = set()
        self._marked_in: tuple[str, ...] = ()

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            table: DataTable[Any] = DataTable(cursor_type="row", zebra_stripes=False, id="layers")
            table.add_columns(*COLUMNS)
            yield table
            with CodeView(id="code", classes="hidden"):
                yield Static(id="source", markup=False)
            yield Static(id="totals", markup=False)
            yield Static(id="stack-error", markup=False)
            yield ParamForm(MODEL_FIELDS, {}, where="model", id="model-form")

    def on_mount(self) -> None:
        self.query_one("#layers", DataTable).focus()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#layers", DataTable)

    @property
    def cursor(self) -> int:
        return self.table.cursor_row if self.draft.config.model.layers else -1

    # ------------------------------------------------------------------ redraw

    def draft_changed(self) -> None:
        config = self.draft.config
        if self.marked and self._layer_types() != self._marked_in:  # layers added, deleted or moved: marks would point elsewhere
            self.marked = set()
            self.set_hint("")
        if config.model.code:
            self._show_tree()
        else:
            self._show_layers()
        hint = self.CLASS_HINT if config.model.code else self.HINT
        help_line = self.query_one(HelpLine)
        if help_line.hint != hint:
            help_line.hint = hint
            help_line.show("")
        self._show_totals()
        form = self.query_one("#model-form", ParamForm)
        form.set_values({p.name: getattr(config.model, p.name) for p in MODEL_FIELDS})
        form.show_problems([p for p in self.draft.problems_under("model") if not p.field.startswith(SHOWN_ABOVE)])
        if not self.query_one("#code").has_class("hidden"):
            self._show_code()
        self.refresh_bindings()

    def _show_layers(self) -> None:
        """Fill the table: one row per layer, ``●`` before the index of a marked one."""
        config = self.draft.config
        analysis = self.draft.analysis
        broken = None if self._class_being_run() else self.draft.layer_error_index()  # a Code layer still running is no fault
        table = self.table
        row = table.cursor_row
        grouped = any(layer.group for layer in config.model.layers)
        columns = GROUPED_COLUMNS if grouped else COLUMNS
        if len(table.columns) != len(columns):
            table.clear(columns=True)
            table.add_columns(*columns)
        table.clear()
        justify: list[JustifyMethod] = ["right" if column in RIGHT_ALIGNED else "left" for column in columns]
        names = layer_names(config.model.layers)
        digits = len(str(len(config.model.layers) - 1))
        for index, layer in enumerate(config.model.layers):
            info = analysis.layers[index] if analysis is not None and index < len(analysis.layers) else None
            style = "bold red" if index == broken else ("dim" if info is None else "")
            cells = (
                f"{index:>{digits}}",
                *([layer.group] if grouped else []),
                names[index],
                layer.type,
                _key_params(layer, info.params if info else None),
                shape(info.output_shape) if info else "?",
                count(info.num_params) if info else "?",
            )
            row_cells = [Text(cell, style=style, justify=justify[i]) for i, cell in enumerate(cells)]
            row_cells[0] = Text.assemble(("●" if index in self.marked else " ", MARK_STYLE), row_cells[0], justify="right")
            table.add_row(*row_cells)
        if config.model.layers:
            table.move_cursor(row=min(row, len(config.model.layers) - 1), animate=False)

    def _show_tree(self) -> None:
        """Fill the table with the named modules of the user's class, indented by depth."""
        table = self.table
        row = table.cursor_row
        if len(table.columns) != len(TREE_COLUMNS):
            table.clear(columns=True)
            table.add_columns(*TREE_COLUMNS)
        table.clear()
        analysis = self.draft.analysis
        for item in tree_rows(analysis.layers if analysis is not None else ()):
            style = "" if item.type else "bold"
            table.add_row(
                Text("  " * item.depth + item.name, style=style),
                Text(item.type),
                Text(item.output),
                Text(item.params, style=style, justify="right"),
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1), animate=False)

    def _class_being_run(self) -> str | None:
        """``nets.py:Net`` while the model's class (or a Code layer's) is being run once to learn its shapes."""
        return next((probe.label for probe in self.draft.pending_probes if probe.request.get("kind") == "model"), None)

    def _show_totals(self) -> None:
        analysis = self.draft.analysis
        totals = self.query_one("#totals", Static)
        error_line = self.query_one("#stack-error", Static)
        model = self.draft.config.model
        layers = class_label(model.code, model.args) if model.code else counted(len(model.layers), "layer")
        running = self._class_being_run()
        if running is not None:
            totals.update(f"{layers} · shapes once it has run")
            error_line.update(f"⋯ running {running} once…")
            error_line.display = True
            return
        if analysis is None:
            info_problem = next(iter(self.draft.problems_under("data")), None)
            totals.update(f"{layers} · shapes need a valid dataset")
            error_line.update(f"✗ {info_problem}" if info_problem else "")
            error_line.display = info_problem is not None
            return
        if analysis.error is None:
            config = self.draft.config
            memory = training_memory(analysis, config.data.batch_size, config.optimizer.name)
            trainable = trainable_count(analysis.layers)
            tokens = " token ids" if analysis.vocab_size else ""
            sizes = f"input {shape(analysis.input_shape)}{tokens} → output {shape(analysis.output_shape)}"
            if trainable == analysis.total_params:
                totals.update(f"{layers} · {count(analysis.total_params)} params · {sizes} · ~{byte_size(memory.total)} to train")
            else:  # a frozen backbone; the estimate cannot see the activations inside it, so it is left out
                totals.update(f"{layers} · {count(trainable)} of {count(analysis.total_params)} params train · {sizes}")
            totals.tooltip = memory_text(memory)
        elif model.code:  # the class ran (rows) and returns what the task cannot take, or it failed
            ran = (
                f"{count(analysis.total_params)} params · returns {shape(analysis.output_shape)}"
                if analysis.layers
                else "no shapes"
            )
            totals.update(f"{layers} · {ran}")
        else:
            known = len(analysis.layers)
            totals.update(f"{layers} · {count(analysis.total_params)} params in the {known} before the problem")
        error_line.update(f"✗ {analysis.error}" if analysis.error else "")
        error_line.display = analysis.error is not None

    def _show_code(self) -> None:
        source = self.query_one("#source", Static)
        analysis = self.draft.analysis
        model = self.draft.config.model
        path = code_file(model.code) if model.code else None
        if path is not None:  # the user's own file, as it is now
            try:
                text = f"# {path}\n{read_shown(path)}"
            except ConfigError as error:
                source.update(Text.styled(str(error), "red"))
                return
            source.update(Syntax(text, "python", theme="ansi_dark", word_wrap=False, background_color="default"))
            return
        try:
            if analysis is None:
                raise ConfigError("the dataset is not valid, so the model's sizes are unknown")
            text = model_source(analysis, model.init, model.bias_init, normalize=self.draft.config.data.normalize)
        except ConfigError as error:
            source.update(Text.styled(f"No code while the model is invalid:\n{error}", "red"))
            return
        source.update(Syntax(text, "python", theme="ansi_dark", word_wrap=False, background_color="default"))

    def focus_field(self, path: str) -> None:
        index = layer_index(path)
        if index is not None:
            self.table.move_cursor(row=index)
            self.table.focus()
        elif path in ("model.init", "model.bias_init"):
            self.query_one(f"#model-form #field-{path.removeprefix('model.')}").focus()
        else:
            self.table.focus()

    # ------------------------------------------------------------------ actions

    def action_add(self) -> None:
        after = self.cursor

        def add(type_name: str | None) -> None:
            if type_name is None:
                return
            index = self.draft.add_layer(after, type_name)
            self.table.move_cursor(row=index)
            if LAYER_TYPES[type_name].params:
                self._edit(index, cancel=self._cancel_add)

        self.app.push_screen(LayerPicker(), add)

    def _cancel_add(self) -> None:
        """Escape from the editor of a layer just added: the layer was never wanted."""
        self.draft.take_back()
        self.table.move_cursor(row=max(0, self.cursor - 1))

    def action_edit(self) -> None:
        if self.cursor >= 0:
            self._edit(self.cursor)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "layers":
            self._edit(event.cursor_row)

    def _edit(self, index: int, cancel: Callable[[], None] | None = None) -> None:
        def apply(layer: LayerSpec | None) -> None:
            if layer is not None:
                self.draft.replace_layer(index, layer)
            elif cancel is not None:
                cancel()

        self.app.push_screen(LayerEditor(self.draft, index), apply)

    def action_delete(self) -> None:
        index = self.cursor
        if index < 0:
            return
        name = self._label(index)
        self.draft.delete_layer(index)
        self.notify(f"Deleted {name} (ctrl+z brings it back)", timeout=3)

    def action_move(self, delta: int) -> None:
        index = self.cursor
        if index >= 0:
            self.table.move_cursor(row=self.draft.move_layer(index, delta))

    def action_mark(self) -> None:
        """Mark or unmark the highlighted layer and move on to the next: a group's layers are
        consecutive, so ``m m m`` marks three in a row (as a file manager's Insert does)."""
        index = self.cursor
        if index < 0:
            return
        self._set_marks(self.marked ^ {index})
        self.table.move_cursor(row=min(index + 1, len(self.draft.config.model.layers) - 1))

    def action_mark_all(self) -> None:
        """Mark every layer, or unmark all when every one is marked (``M``, as on the Runs screen)."""
        every = set(range(len(self.draft.config.model.layers)))
        self._set_marks(set() if self.marked == every else every)

    def _set_marks(self, marked: set[int]) -> None:
        """Mark exactly ``marked``; the table and the hint line show it."""
        if marked == self.marked:
            return
        self.marked = marked
        self._marked_in = self._layer_types()
        self._show_layers()
        self.set_hint(f"{counted(len(marked), 'layer')} marked · g puts them in a group · m unmarks one, M all" if marked else "")

    def _layer_types(self) -> tuple[str, ...]:
        return tuple(layer.type for layer in self.draft.config.model.layers)

    def action_group(self) -> None:
        """One dialog puts the marked layers (or the highlighted one) into a group, as one undo step."""
        indices = sorted(self.marked) or ([self.cursor] if self.cursor >= 0 else [])
        if not indices:
            return
        apart = self.draft.layers_apart(indices)
        if apart:  # no name could make them one block: say so before asking for one
            self.notify(apart, title="The marked layers cannot form a group", severity="warning", timeout=8)
            return

        def apply(chosen: str | None) -> None:
            if chosen is not None:
                self.draft.group_layers(indices, chosen)
                self._set_marks(set())

        self.app.push_screen(GroupDialog(self.draft, indices), apply)

    def action_from_preset(self) -> None:
        def use(choice: tuple[str, ModelConfig] | None) -> None:
            if choice is not None:
                name, model = choice
                self.draft.replace_model(model, f"model from {name}")
                self.notify(f"Model of {name} loaded (ctrl+z undoes)", timeout=3)

        self.app.push_screen(PresetModelPicker(), use)

    def action_choose_class(self) -> None:
        """Ask for the model's class and its arguments (an empty class: layers again)."""

        def use(chosen: tuple[str, dict[str, Any]] | None) -> None:
            if chosen is not None:
                code, args = chosen
                if self.draft.use_code(code, args):
                    self.notify(
                        f"The model is now {class_label(code, args) if code else 'a layer list'} (ctrl+z undoes)", timeout=4
                    )

        start_ahead(self.app)
        self.app.push_screen(CodeModelDialog(self.draft), use)

    def action_edit_file(self) -> None:
        """Open the class's file in the user's editor; run it again once the editor exits."""
        path = code_file(self.draft.config.model.code)
        if path is None:
            return
        problem = open_in_editor(self.app, path)
        if problem:
            self.notify(problem, severity="warning", timeout=8)
        forget_failures()  # a time-out before may have been a busy machine: run it again
        self.draft.recheck()

    def action_toggle_code(self) -> None:
        code = self.query_one("#code")
        showing = code.has_class("hidden")
        code.set_class(not showing, "hidden")
        self.table.set_class(showing, "hidden")
        if showing:
            self._show_code()
            code.focus()
        else:
            self.table.focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Layer keys act on the table; while the code view is up, only the toggle works. A model
        of the user's class has no layers to act on (its keys are hidden), and only it has a
        file to edit."""
        if action == "edit_file":
            return bool(self.draft.config.model.code)
        if action not in (*LAYER_ACTIONS, "from_preset", "choose_class"):
            return super().check_action(action, parameters)
        if self.table.has_class("hidden"):
            return False
        if action in LAYER_ACTIONS and self.draft.config.model.code:
            return False
        if action in ("edit", "delete", "move", "group", "mark", "mark_all") and not self.draft.config.model.layers:
            return None  # shown, but greyed out: there is no layer to act on
        return True

    def _label(self, index: int) -> str:
        return layer_names(self.draft.config.model.layers)[index]


def _key_params(layer: LayerSpec, resolved: dict[str, Any] | None) -> str:
    """``in=1 out=32 k=3 s=1 p=1``: the layer type's key parameters, resolved where known."""
    kind = LAYER_TYPES.get(layer.type)
    if kind is None:
        return ""
    defaults = {p.name: p.default for p in kind.params}
    parts = []
    for name in kind.key_params:
        value = resolved[name] if resolved and name in resolved else layer.params.get(name, defaults[name])
        parts.append(f"{SHORT_NAMES.get(name, name)}={value}")
    return " ".join(parts)
