"""A form's refused text against the redraws around it: it stays until the draft has heard of
it and then dropped it (an undo), never because a redraw came first."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult
from textual.widgets import Input

from workbench.errors import ConfigError
from workbench.schema.params import Param
from workbench.tui.widgets.param_form import ParamForm

LR = Param("lr", "float", 0.1, "base learning rate", min=0.0, min_exclusive=True)


class FormApp(App[None]):
    """One form whose refusals nobody hears yet (the screen's handler is what is raced)."""

    def __init__(self) -> None:
        super().__init__()
        self.refusals: list[ConfigError] = []

    def compose(self) -> ComposeResult:
        yield ParamForm((LR,), {"lr": 0.1}, where="optimizer")

    def on_param_form_refused(self, event: ParamForm.Refused) -> None:
        self.refusals.append(event.error)


async def test_refused_text_survives_a_redraw_that_has_not_heard_of_it_and_goes_with_an_undo() -> None:
    app = FormApp()
    async with app.run_test() as pilot:
        form = app.query_one(ParamForm)
        field = form.query_one("#field-lr", Input)
        field.value = "abc"
        await pilot.pause()
        assert app.refusals and app.refusals[0].field == "optimizer.lr"
        form.show_problems([])  # a redraw of the draft before it has the refusal (a device list arrived)
        assert field.value == "abc" and field.has_class("-refused")
        form.show_problems(app.refusals)  # the draft has it now
        assert field.value == "abc" and form.errors["lr"]
        form.show_problems([])  # and has dropped it: an undo, another experiment opened
        assert field.value == "0.1" and not field.has_class("-refused") and not form.errors


MOMENTUM = Param("momentum", "float", 0.0, "momentum")
DEVICE = Param("device", "choice", "auto", "where to train", choices=("auto", "cpu"))


async def test_two_rebuilds_at_once_leave_the_rows_of_the_last_and_raise_nothing() -> None:
    """The devices found and a schedule picked rebuilt the training form at once: the second
    rebuild moved a row the first was still replacing ("Horizontal(id='row-device') is not a
    child of ParamForm", the app ended with a traceback). Rebuilds now take turns."""
    app = FormApp()
    async with app.run_test() as pilot:
        form = app.query_one(ParamForm)
        values = {"lr": 0.1, "momentum": 0.9, "device": "cpu"}
        await asyncio.gather(
            form.set_schema((LR, DEVICE), values),
            form.set_schema((LR, MOMENTUM, DEVICE), values),
            form.set_schema((DEVICE, LR), values),
        )
        await pilot.pause()
        assert [row.id for row in form.query(".row")] == ["row-device", "row-lr"]
        assert form.params == (DEVICE, LR) and set(form.values) == {"device", "lr"}
