"""The Optimize screen: forms from the schemas, inline errors, and the live LR preview."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import Checkbox, Input, Select, Static

from workbench.errors import ConfigError
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.dialogs import ProblemsScreen
from workbench.tui.widgets.lr_chart import LRChart
from workbench.tui.widgets.param_form import ParamForm

from .helpers import SIZE, screen_text, wait_for


def _chart(app: WorkbenchApp) -> LRChart:
    return app.screen.query_one(LRChart)


async def test_changing_the_schedule_redraws_the_preview_with_new_data(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _chart(app).preview is not None)
        step = _chart(app).preview
        assert step.epochs == 6 and step.steps_per_epoch == app.draft.steps_per_epoch() == 41
        assert step.at_epoch_boundaries()[:5] == [0.1, 0.1, 0.05, 0.05, 0.025]  # step_size 2, gamma 0.5
        app.screen.query_one("#schedule-form #field-name", Select).value = "cosine"
        await wait_for(pilot, lambda: _chart(app).preview is not step)
        cosine = _chart(app).preview
        assert cosine.lrs != step.lrs
        assert cosine.final_lr < 1e-6 and cosine.lrs[0] == 0.1
        assert app.draft.config.schedule.name == "cosine"
        assert app.draft.config.schedule.params == {}  # step_size and gamma belong to step
        # the form now shows cosine's knob, not step's
        form = app.screen.query_one("#schedule-form", ParamForm)
        await wait_for(pilot, lambda: [p.name for p in form.params] == ["name", "warmup_epochs", "eta_min"])


async def test_warmup_and_epochs_reach_the_preview(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        # Once the devices are known the train form is rebuilt with a device choice: text typed
        # into the old form a moment before is lost with it (a loaded machine detects them late).
        await wait_for(pilot, lambda: _chart(app).preview is not None and app.devices)
        await pilot.pause()
        app.screen.query_one("#schedule-form #field-warmup_epochs", Input).value = "1"
        app.screen.query_one("#train-form #field-epochs", Input).value = "8"
        await wait_for(pilot, lambda: _chart(app).preview.epochs == 8)
        preview = _chart(app).preview
        assert preview.lrs[0] < 0.01  # warming up from 0
        assert "41 steps/epoch × 8 epochs" in str(app.screen.query_one("#lr-note", Static).render())


async def test_a_refused_value_is_flagged_on_its_row_and_the_draft_keeps_the_last_good_one(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        field = app.screen.query_one("#optimizer-form #field-lr", Input)
        field.focus()
        field.value = "-1"
        await pilot.pause()
        hint = str(app.screen.query_one("#optimizer-form #hint-lr", Static).render())
        assert "-1.0 is not allowed; expected a number > 0" in hint
        assert field.has_class("-refused")
        assert app.draft.config.optimizer.lr == 0.1
        field.value = "0.05"
        await pilot.pause()
        assert not field.has_class("-refused")
        assert app.draft.config.optimizer.lr == 0.05


async def test_a_problem_between_fields_is_marked_on_the_field_and_in_the_status_bar(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#optimizer-form #field-momentum", Input).value = "0"
        app.screen.query_one("#optimizer-form #field-nesterov", Checkbox).value = True
        row = app.screen.query_one("#optimizer-form #row-momentum")
        hint = app.screen.query_one("#optimizer-form #hint-momentum", Static)
        # The form marks the row once the draft's problems come back to it (a message later, on a loaded machine).
        await wait_for(pilot, lambda: row.has_class("problem"), what="the momentum row marked")
        await wait_for(pilot, lambda: "Nesterov momentum needs momentum > 0" in str(hint.render()), what="its hint")
        await wait_for(pilot, lambda: "✗ 1 problem (! shows it): optimizer.momentum" in screen_text(app), what="the status bar")
        await wait_for(pilot, lambda: "no LR preview" in str(app.screen.query_one("#lr-note", Static).render()))
        assert _chart(app).preview is None


async def test_picking_another_optimizer_swaps_its_rows(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        form = app.screen.query_one("#optimizer-form", ParamForm)
        assert "momentum" in [p.name for p in form.params]
        form.query_one("#field-name", Select).value = "adamw"
        await wait_for(pilot, lambda: "beta1" in [p.name for p in form.params])
        await pilot.pause()
        assert form.query_one("#field-weight_decay", Input).value == "0.01"  # adamw's own default
        assert not form.query("#field-momentum")


async def test_monitors_offer_the_metrics_of_the_task(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE):
        monitor = app.screen.query_one("#early-form #field-monitor", Select)
        options = [value for _label, value in monitor._options]
        assert "val_acc" in options and "val_r2" not in options


async def test_a_preview_arriving_while_the_app_closes_is_dropped(fixed_app: Callable[..., WorkbenchApp]) -> None:
    """A worker's preview can land after the app has begun removing widgets: it must not raise."""
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _chart(app).preview is not None)
        chart = _chart(app)
        drawn = chart.preview
        await chart.query_one("#legend").remove()
        chart.show_preview(drawn)  # raised NoMatches('#legend') from textual-plot's clear before
        chart.show_preview(None)


async def test_text_a_field_refuses_makes_the_experiment_invalid_everywhere_until_corrected(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    """Typing ``abc`` into lr must not leave "ready to train" on screen while ``s`` would train
    with the old value: the status, ``!`` and start all see the refusal."""
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        field = app.screen.query_one("#optimizer-form #field-lr", Input)
        field.focus()
        field.value = "abc"
        await wait_for(pilot, lambda: app.draft.problems)
        assert app.draft.problems[0].field == "optimizer.lr"
        await pilot.pause()
        assert "✗ 1 problem (! shows it): optimizer.lr" in screen_text(app)
        with pytest.raises(ConfigError, match="optimizer.lr"):
            app.draft.ready_to_train()
        await pilot.press("escape", "exclamation_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, ProblemsScreen))
        assert "optimizer.lr" in screen_text(app)
        await pilot.press("escape", "4", "s")
        await pilot.pause()
        assert not app.runs.shown_id  # start refused, saying why
        assert any("optimizer.lr" in n.message for n in app._notifications)
        # back to the very value it had: nothing to change in the draft, and the problem is gone
        await pilot.press("3")
        await pilot.pause()
        field.value = "0.1"
        await wait_for(pilot, lambda: not app.draft.problems)
        assert "✓ ready to train" in screen_text(app)


async def test_undo_puts_back_the_value_a_refused_field_had(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#train-form #field-epochs", Input).value = "9"
        await wait_for(pilot, lambda: app.draft.config.train.epochs == 9)
        lr = app.screen.query_one("#optimizer-form #field-lr", Input)
        lr.value = "abc"
        await wait_for(pilot, lambda: app.draft.problems)
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: not app.draft.problems)
        await wait_for(pilot, lambda: lr.value == "0.1" and not lr.has_class("-refused"), what="the field put back")
        assert app.draft.config.train.epochs == 6
