"""The Data screen's dialog for a data set of the user's own class (``data.dataset = "code"``):
which class, from which file, with which keyword arguments for the training items and, if the
test set is a file of its own, for the test items. Checked as far as can be without running
the class (the file is there, the arguments are TOML); what the class gives is learnt by the
probe's child, off the UI thread, once the draft has the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from workbench.data.sources.code_dataset import code_options
from workbench.errors import ConfigError
from workbench.experiment.draft import Draft
from workbench.schema.config import RunConfig, anchor_code_paths
from workbench.tui.screens.dialogs import Dialog
from workbench.tui.setup.model_code import relative_base
from workbench.tui.widgets.text_field import TextField
from workbench.usercode.arguments import args_text, parse_args_text


def chosen_options(code: str, args: str, test_args: str, kept: dict[str, Any], base: Path) -> dict[str, Any]:
    """The dialog's fields as ``data.options``: relative paths (the file, and string arguments
    that name a file there) read from ``base``, as when an experiment file is read; the other
    options (``kept``: storage, workers) as they were. One ConfigError line when a field is wrong."""
    options = {name: value for name, value in kept.items() if name not in ("code", "args", "test_args")}
    options |= {"code": code.strip(), "args": parse_args_text(args, "data.options.args")}
    if test_args.strip():
        options["test_args"] = parse_args_text(test_args, "data.options.test_args")
    anchored = RunConfig()
    anchored.data.dataset, anchored.data.options = "code", options
    anchor_code_paths(anchored, base)
    code_options(anchored.data.options)  # the file is there, the tables are tables
    return anchored.data.options


class CodeDatasetDialog(Dialog):
    """Ask for the data set's class and its arguments; dismisses with the new ``data.options``,
    or None when cancelled. It closes only on settings the draft can take; why not is said
    under the fields."""

    def __init__(self, draft: Draft) -> None:
        super().__init__()
        self.draft = draft
        self.base, self.base_words = relative_base(draft)
        data = draft.config.data
        self.kept = dict(data.options) if data.dataset == "code" else {}

    def compose_dialog(self) -> ComposeResult:
        yield Label("The data: a Dataset class from your own Python file", classes="title", markup=False)
        yield TextField(str(self.kept.get("code", "")), placeholder="FILE.py:CLASS, e.g. mydata.py:MyDataset", id="class-file")
        yield Static(f"A relative path is read from {self.base_words}: {self.base}", classes="note", markup=False)
        yield TextField(
            args_text(self.kept.get("args")), placeholder='its keyword arguments: file = "train.txt"', id="class-args"
        )
        yield TextField(
            args_text(self.kept.get("test_args")),
            placeholder='the test set\'s: file = "test.txt" (empty: 20% of the items held out)',
            id="class-test-args",
        )
        yield Static(id="problem", classes="error", markup=False)
        yield Static("enter use · tab next field · escape cancel · ctrl+z undoes", classes="note", markup=False)

    def on_mount(self) -> None:
        self.query_one("#class-file", Input).focus()

    @on(Input.Submitted)
    def _submit(self) -> None:
        fields = (self.query_one(f"#{name}", Input).value for name in ("class-file", "class-args", "class-test-args"))
        try:
            options = chosen_options(*fields, kept=self.kept, base=self.base)
        except ConfigError as error:
            self.query_one("#problem", Static).update(str(error))
            return
        self.dismiss(options)
