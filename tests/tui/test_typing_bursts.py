"""A field ends with exactly what was typed, however fast the keys (or a paste) arrive.

A terminal hands the app every key it has read at once: fast typing, a paste, keys batched
over SSH. ``burst`` posts keys the same way, all before the app handles the first (the pilot's
``press`` waits for the app between keys, which is typing slowly). Each case then checks that
the field, the draft and the status bar agree with what was typed, on every screen and dialog
and for every kind of field: numbers, text, choices and yes/no boxes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from textual import events
from textual.widget import Widget
from textual.widgets import Input, Static

from workbench.experiment.draft import Draft
from workbench.schema.config import LayerSpec
from workbench.tui.app import WorkbenchApp
from workbench.tui.setup.layer_dialogs import LayerEditor
from workbench.tui.widgets.bars import StatusBar, problems_summary
from workbench.tui.widgets.param_form import ParamForm

from ..marks import slow_unless
from .helpers import SIZE, fixed_experiment, wait_for

Key = str | events.Paste


def burst(app: WorkbenchApp, *keys: Key) -> None:
    """Post ``keys`` (key names, or a Paste) to the app as a terminal driver does: all at once."""
    for key in keys:
        if isinstance(key, events.Paste):
            app.post_message(key)
        else:
            app.post_message(events.Key(key, key if len(key) == 1 else None))


@dataclass(frozen=True)
class Case:
    """Keys typed into one field, and what the field and the draft must end with."""

    screen: str
    field: str  # the form's id and the field's name: "train-form #field-epochs"
    path: str  # the draft's path of the field
    start: Any  # the draft's value before the typing
    keys: tuple[Key, ...]
    shown: Any  # the field's content after it
    value: Any  # the draft's value after it (``start`` when the typed text is refused)
    refused: str = ""  # the refusal the status bar shows, when what was typed is not a value


CASES = [
    Case(
        "optimize", "train-form #field-epochs", "train.epochs", 20, ("end", "backspace", "backspace", "3", "0", "0"), "300", 300
    ),
    Case("optimize", "train-form #field-epochs", "train.epochs", 12, ("end", *["backspace"] * 3, "2", "0"), "20", 20),
    Case("optimize", "train-form #field-epochs", "train.epochs", 20, ("end", *["backspace"] * 2, *"0300"), "0300", 300),
    Case("optimize", "train-form #field-seed", "train.seed", 0, ("end", "backspace", *"12345"), "12345", 12345),
    Case("optimize", "train-form #field-epochs", "train.epochs", 20, (events.Paste("0300"),), "0300", 300),
    Case(
        "optimize",
        "optimizer-form #field-lr",
        "optimizer.lr",
        0.1,
        ("end", "backspace", events.Paste("05"), "left", "left", "0"),
        "0.005",
        0.005,
    ),
    Case(
        "optimize",
        "train-form #field-epochs",
        "train.epochs",
        20,
        ("end", "backspace", "backspace", "0"),
        "0",
        20,
        refused="train.epochs: 0 is not allowed",
    ),
    Case("optimize", "schedule-form #field-name", "schedule.name", "step", ("enter", "down", "enter"), "multistep", "multistep"),
    Case("optimize", "train-form #field-compile", "train.compile", False, ("space", "space", "space"), True, True),
    Case("data", "data-form #field-batch_size", "data.batch_size", 32, ("end", "backspace", "backspace", *"128"), "128", 128),
    Case(
        "model", "model-form #field-init", "model.init", "default", ("enter", "down", "enter"), "kaiming_normal", "kaiming_normal"
    ),
]


def _start(case: Case) -> WorkbenchApp:
    config = fixed_experiment()
    section, _, name = case.path.rpartition(".")
    node: Any = config
    for part in section.split("."):
        node = getattr(node, part)
    setattr(node, name, case.start)
    return WorkbenchApp(Draft(config, source="test"), start=case.screen)


def _status(app: WorkbenchApp) -> str:
    return str(app.screen.query_one(StatusBar).query_one("#problems", Static).render())


def _content(widget: Widget) -> Any:
    return getattr(widget, "value", None)


async def _settled(pilot: Any, done: Callable[[], bool], what: str) -> None:
    """Wait until ``done()``, then let every message still on its way arrive (a stale redraw
    would come now) before the test looks."""
    await wait_for(pilot, done, timeout=30, what=what)
    for _ in range(3):
        await pilot.pause()


#: Cases whose kind of field and key another quick case covers: in the slow suite.
SLOW_CASES = {0, 1, 2, 3, 4, 7, 9}


@pytest.mark.parametrize(
    "case", slow_unless(CASES, lambda case: CASES.index(case) not in SLOW_CASES), ids=lambda c: f"{c.screen}-{c.path}-{c.shown}"
)
async def test_a_burst_of_keys_leaves_the_field_the_draft_and_the_status_bar_with_what_was_typed(case: Case) -> None:
    app = _start(case)
    async with app.run_test(size=SIZE) as pilot:
        # The Optimize screen rebuilds its training form once the devices are known.
        await wait_for(pilot, lambda: bool(app.devices), what="devices detected")
        await pilot.pause()
        field = app.screen.query_one(f"#{case.field}")
        field.focus()
        await pilot.pause()
        burst(app, *case.keys)
        await _settled(
            pilot,
            lambda: _content(field) == case.shown and app.draft.value_at(case.path) == case.value,
            f"for {case.path} to show {case.shown!r}",
        )
        assert _content(field) == case.shown
        assert app.draft.value_at(case.path) == case.value and type(app.draft.value_at(case.path)) is type(case.value)
        form = field.parent.parent if field.parent else None  # the row's form
        assert isinstance(form, ParamForm)
        assert form.values[case.path.rpartition(".")[2]] == case.value or case.refused
        status = _status(app)
        assert status == problems_summary(app.draft.problems, app.draft.dataset_info).plain
        if case.refused:
            assert case.refused in status and f"'{case.shown}'" not in status.replace(case.refused, "")
            assert field.has_class("-refused")
        else:
            assert case.path not in status and "ready to train" in status


@pytest.mark.parametrize(
    ("field", "keys", "shown", "value"),
    [
        ("p", ("end", "backspace", "3"), "0.3", 0.3),
        ("name", (*"drop", "backspace", "backspace", *"opout"), "dropout", "dropout"),
        # a paste, and a paste then keys: the Optimize screen's quick case pastes into a field
        pytest.param("p", (events.Paste("0.25"),), "0.25", 0.25, marks=pytest.mark.slow),
        pytest.param("group", (events.Paste("head"), "home", *"the_"), "the_head", "the_head", marks=pytest.mark.slow),
    ],
)
async def test_a_burst_of_keys_into_the_layer_editor_is_what_the_layer_gets(
    field: str, keys: tuple[Key, ...], shown: str, value: Any
) -> None:
    config = fixed_experiment()
    config.model.layers.insert(4, LayerSpec("Dropout", params={"p": 0.5}))
    app = WorkbenchApp(Draft(config, source="test"), start="model")
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(LayerEditor(app.draft, 4), lambda layer: app.draft.replace_layer(4, layer) if layer else None)
        await wait_for(pilot, lambda: isinstance(app.screen, LayerEditor) and app.screen.query(ParamForm), what="editor open")
        editor = app.screen
        widget = editor.query_one(f"#field-{field}", Input)
        widget.focus()
        await pilot.pause()
        burst(app, *keys)
        form = editor.query_one(ParamForm)
        await _settled(pilot, lambda: widget.value == shown and form.values[field] == value, f"for {field} to show {shown!r}")
        assert widget.value == shown and form.values[field] == value and not form.errors
        assert not editor.query_one("#preview", Static).has_class("error")
        await pilot.press("enter")  # apply
        await wait_for(pilot, lambda: not isinstance(app.screen, LayerEditor), what="layer editor closed")
        layer = app.draft.config.model.layers[4]
        assert (layer.params.get("p"), layer.name, layer.group)[["p", "name", "group"].index(field)] == value
        assert _status(app) == problems_summary(app.draft.problems, app.draft.dataset_info).plain


async def test_keys_typed_after_one_that_moves_on_go_to_the_next_field() -> None:
    app = WorkbenchApp(Draft(fixed_experiment(), source="test"), start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.devices), what="devices detected")
        epochs = app.screen.query_one("#train-form #field-epochs", Input)
        seed = app.screen.query_one("#train-form #field-seed", Input)
        epochs.focus()
        await pilot.pause()
        burst(app, "end", "backspace", "3", "0", "down", "end", "backspace", "7")
        await _settled(pilot, lambda: app.draft.config.train.seed == 7, "for the seed to be 7")
        assert (epochs.value, seed.value) == ("30", "7")
        assert (app.draft.config.train.epochs, app.draft.config.train.seed) == (30, 7)


@pytest.mark.parametrize(
    ("screen", "opens", "field", "keys", "shown"),
    [
        ("data", ("ctrl+s",), "#name", ("end", *["backspace"] * 3, *"its"), "fixed-digits"),
        ("data", ("ctrl+o",), "#filter", (*"cnx", "backspace", "n"), "cnn"),
        ("model", ("g",), "#group", (*"den", "backspace", *"se"), "dese"),
        ("runs", ("slash",), "#filter", (*"fin", "backspace", "n", events.Paste("ished")), "finished"),
    ],
    ids=["save-name", "open-filter", "group", "runs-filter"],
)
async def test_a_burst_of_keys_into_a_dialogs_field_is_what_it_holds(
    screen: str, opens: tuple[str, ...], field: str, keys: tuple[Key, ...], shown: str
) -> None:
    """The dialogs' and the Runs filter's text fields, as the forms': keys in the order typed."""
    app = WorkbenchApp(Draft(fixed_experiment(), source="test"), start=screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*opens)
        await wait_for(pilot, lambda: bool(app.screen.query(field)) and app.screen.query_one(field).has_focus, what=field)
        widget = app.screen.query_one(field, Input)
        burst(app, *keys)
        await _settled(pilot, lambda: widget.value == shown, f"for {field} to show {shown!r}")
        assert widget.value == shown
