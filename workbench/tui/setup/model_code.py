"""The Model screen's parts for a model of the user's own class (``model.code = "nets.py:Net"``).

The tree: the rows shape analysis made of the module (:func:`workbench.model.shapes.analyse_model`,
from one run of the class in a child process: the app never imports the user's code), with the
blocks that hold them (``conv`` above ``conv.conv1``) put back in, indented by depth. The
dialog: which class, from which file, with which keyword arguments (TOML values), checked
when entered, one line per problem. The editor: ``$VISUAL`` or ``$EDITOR`` takes over the terminal
(the app suspended) and the screen reads the file again when it exits.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.widgets import Input, Label, Static

from workbench.errors import ConfigError
from workbench.experiment.draft import Draft
from workbench.formatting import count, shape
from workbench.model.shapes import LayerInfo
from workbench.schema.config import RunConfig, anchor_code_paths
from workbench.tui.screens.dialogs import Dialog
from workbench.tui.widgets.text_field import TextField
from workbench.usercode.arguments import args_text, parse_args_text
from workbench.usercode.reference import check_code_ref, parse_code_ref

#: The code view shows at most this much of the user's file (a module that big is not a model).
SHOWN_BYTES = 200_000


@dataclass(frozen=True)
class TreeRow:
    """One row of a code model's tree: a module the user named, or a block holding some."""

    name: str  # dotted, as the user named it: conv.conv1
    depth: int
    type: str  # the module's class; "" for a block the analysis has no row of
    output: str
    params: str


def tree_rows(layers: tuple[LayerInfo, ...]) -> list[TreeRow]:
    """The analysis rows in the module's order, each block before its first row (``conv``
    before ``conv.conv1``) with the parameters of everything under it."""
    under: dict[str, int] = {}
    for layer in layers:
        parts = layer.name.split(".")
        for depth in range(1, len(parts)):
            block = ".".join(parts[:depth])
            under[block] = under.get(block, 0) + layer.num_params
    rows: list[TreeRow] = []
    shown = {layer.name for layer in layers}  # a block with a row of its own (parameters of its own) keeps it
    for layer in layers:
        parts = layer.name.split(".")
        for depth in range(1, len(parts)):
            block = ".".join(parts[:depth])
            if block not in shown:
                shown.add(block)
                rows.append(TreeRow(block, depth - 1, "", "", count(under[block])))
        output = shape(layer.output_shape) if layer.output_shape else "not called"
        rows.append(TreeRow(layer.name, len(parts) - 1, layer.type, output, count(layer.num_params)))
    return rows


def class_label(code: str, args: dict[str, Any]) -> str:
    """``nets.py:Net(hidden=64)``: the class as the screen names it."""
    file, _, name = code.rpartition(":")
    given = ", ".join(f"{key}={value!r}" for key, value in args.items())
    return f"{Path(file).name}:{name}({given})"


def code_file(code: str) -> Path | None:
    """The user's file that ``model.code`` names, or None while it names none."""
    try:
        return parse_code_ref(code, "model.code").path
    except ConfigError:
        return None


def read_shown(path: Path) -> str:
    """The file's text for the code view (one line saying why not, when it cannot be read)."""
    try:
        with path.open("rb") as file:
            data = file.read(SHOWN_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"model.code: {path}: {error.strerror or error}", field="model.code") from None
    text = data[:SHOWN_BYTES].decode("utf-8", "replace")
    return text + ("\n# … (the rest of the file is not shown)" if len(data) > SHOWN_BYTES else "")


def relative_base(draft: Draft) -> tuple[Path, str]:
    """Where a relative ``nets.py`` is looked for, and how the dialog says it: the experiment
    file's folder when the draft came from a file of the user's, else the folder the app was
    started in (a preset's own folder is Workbench's, not theirs)."""
    source = Path(draft.source).expanduser()
    if draft.source.endswith(".toml") and source.is_file():
        return source.resolve().parent, "the experiment file's folder"
    return Path.cwd(), "the folder the app was started in"


def chosen_class(text: str, args_typed: str, base: Path) -> tuple[str, dict[str, Any]]:
    """The dialog's two fields as ``model.code`` and ``model.args``: the file found from
    ``base`` when relative (string arguments that name a file there too, as when an
    experiment file is read), the file there and the class named. Empty: no class."""
    args = parse_args_text(args_typed, "model.args")
    if not text.strip():
        return "", {}
    ref = parse_code_ref(text, "model.code")
    anchored = RunConfig()
    anchored.model.code, anchored.model.args = f"{ref.path}:{ref.name}", args
    anchor_code_paths(anchored, base)
    check_code_ref(parse_code_ref(anchored.model.code, "model.code"))
    return anchored.model.code, anchored.model.args


class CodeModelDialog(Dialog):
    """Ask for the model's class (``nets.py:Net``) and its keyword arguments; dismisses with
    ``(code, args)`` (code "" = back to a layer list), or None when cancelled. It closes only on
    what the draft can take; why not is said under the field."""

    def __init__(self, draft: Draft) -> None:
        super().__init__()
        self.draft = draft
        self.base, self.base_words = relative_base(draft)

    def compose_dialog(self) -> ComposeResult:
        model = self.draft.config.model
        yield Label("The model: a class from your own Python file", classes="title", markup=False)
        yield TextField(model.code, placeholder="FILE.py:CLASS, e.g. nets.py:Net; empty = layers", id="class-field")
        yield Static(f"A relative path is read from {self.base_words}: {self.base}", id="base", classes="note", markup=False)
        yield TextField(
            args_text(model.args), placeholder='its keyword arguments: hidden = 64, file = "train.txt"', id="args-field"
        )
        yield Static(id="problem", classes="error", markup=False)
        yield Static("enter use · tab next field · escape cancel · ctrl+z undoes", classes="note", markup=False)

    def on_mount(self) -> None:
        self.query_one("#class-field", Input).focus()

    @on(Input.Submitted)
    def _submit(self) -> None:
        try:
            chosen = chosen_class(
                self.query_one("#class-field", Input).value, self.query_one("#args-field", Input).value, self.base
            )
        except ConfigError as error:
            self.query_one("#problem", Static).update(str(error))
            return
        self.dismiss(chosen)


def open_in_editor(app: App[object], path: Path) -> str | None:
    """Let ``$VISUAL`` (else ``$EDITOR``) edit ``path`` with the terminal handed over, the app
    suspended until it exits. Returns what went wrong in one line, or None."""
    editor = os.environ.get("VISUAL", "").strip() or os.environ.get("EDITOR", "").strip()
    if not editor:
        return f"Neither $VISUAL nor $EDITOR is set: set one (e.g. export EDITOR=nano) or edit {path} yourself"
    try:
        command = [*shlex.split(editor), str(path)]
    except ValueError as error:
        return f"The editor command {editor!r} cannot be read: {error}"
    try:
        if app.is_headless:  # no terminal to hand over (tests): the editor runs as it is
            done = subprocess.run(command, check=False)
        else:
            with app.suspend():
                done = subprocess.run(command, check=False)
    except SuspendNotSupported:
        return f"This terminal cannot be handed to an editor; edit {path} yourself"
    except OSError as error:
        return f"The editor {command[0]!r} could not start: {error.strerror or error}"
    if done.returncode != 0:
        return f"The editor {command[0]!r} ended with exit status {done.returncode}"
    return None
