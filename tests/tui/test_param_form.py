"""A form's refused text against the redraws around it: it stays until the draft has heard of
it and then dropped it (an undo), never because a redraw came first."""

from __future__ import annotations

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
