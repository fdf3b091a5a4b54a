"""The Optimize screen: loss, optimizer, schedule and training options, with a live LR chart.

Every form is a :class:`ParamForm` over the schemas the config validates against: the plain
fields of each section (``section_params``) plus the parameters of the chosen catalog entry.
Picking another optimizer or schedule swaps the form's rows. The chart shows
``optim.preview.lr_preview`` for the whole run; it is recomputed in a thread worker (the
preview drives real torch schedulers) a moment after the last change, never on the UI thread.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from workbench.errors import ConfigError, describe_error
from workbench.experiment.draft import CATALOGS, value_at
from workbench.formatting import short_number
from workbench.schema.config import (
    CheckpointConfig,
    EarlyStoppingConfig,
    LossConfig,
    OptimizerConfig,
    RunConfig,
    ScheduleConfig,
    TrainConfig,
    section_params,
)
from workbench.schema.monitor import monitor_choices
from workbench.schema.params import Param
from workbench.tui.messages import LRPreviewComputed, SweepStarted
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.setup.sweep_dialog import NUMERIC_KINDS, SweepAxisScreen, SweepPlan
from workbench.tui.widgets.lr_chart import LRChart
from workbench.tui.widgets.param_form import ParamForm

#: Seconds to wait after a change before recomputing the LR preview (typing "0.05" is one change).
PREVIEW_DELAY = 0.25

#: (form id, section path, title) of the forms, top to bottom.
FORMS = (
    ("loss-form", "loss", "Loss"),
    ("optimizer-form", "optimizer", "Optimizer"),
    ("schedule-form", "schedule", "Schedule"),
    ("train-form", "train", "Training"),
    ("early-form", "train.early_stopping", "Early stopping"),
    ("checkpoint-form", "train.checkpoint", "Checkpoints"),
)

_SECTIONS: dict[str, type] = {
    "loss": LossConfig,
    "optimizer": OptimizerConfig,
    "schedule": ScheduleConfig,
    "train": TrainConfig,
    "train.early_stopping": EarlyStoppingConfig,
    "train.checkpoint": CheckpointConfig,
}


class OptimizeScreen(WorkbenchScreen):
    MODE = "optimize"
    MAIN_WIDGET = "#forms"
    HINT = "How the model learns. tab/↑↓ move between fields; f finds an LR; w sweeps the field last in focus."
    WORKER_FAILURES = {"sweep-start": "The sweep could not start"}

    BINDINGS = [
        Binding(
            "f", "find_lr", "Find LR", tooltip="Find a learning rate: a short LR ramp on the model and data, then a suggestion"
        ),
        Binding(
            "w",
            "sweep",
            "Sweep",
            tooltip="Make the numeric field last in focus a sweep axis (values or a range), or start the sweep",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._preview_key: tuple[Any, ...] | None = None
        self._preview_timer: Timer | None = None
        #: The field that last had the focus (``w`` sweeps it) and the sweep built so far.
        self._field: tuple[str, Param] | None = None
        self.sweep_plan = SweepPlan()

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            yield LRChart(id="lr-chart")
            yield Static(id="lr-note", markup=False)
            yield Static(id="sweep-note", classes="hidden", markup=False)
            with VerticalScroll(id="forms"):
                for form_id, where, title in FORMS:
                    yield ParamForm(self._schema(where), self._values(where), where=where, title=title, id=form_id)
                    if where == "train":
                        yield Static("devices: detecting…", id="devices", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "devices", self._show_devices)
        first = self.query("#forms Input, #forms Select, #forms Checkbox").first()
        first.focus()

    # ------------------------------------------------------------------ forms

    def _schema(self, where: str) -> tuple[Param, ...]:
        """The rows of one form: the section's plain fields (names as choices) + its catalog params."""
        draft = self.draft
        plain = tuple(draft.param_at(f"{where}.{p.name}") for p in section_params(_SECTIONS[where]))
        if where in CATALOGS:
            entry = CATALOGS[where].get(getattr(draft.config, where).name)
            catalog = tuple(self._with_choices(f"{where}.{p.name}", p) for p in entry.params) if entry else ()
            return plain + catalog
        return tuple(self._with_choices(f"{where}.{p.name}", p) for p in plain)

    def _with_choices(self, path: str, param: Param) -> Param:
        """Offer the metrics this task has for monitors, and the detected devices for the device."""
        info = self.draft.dataset_info
        if param.name == "monitor" and info is not None:
            classes = info.num_outputs if info.task == "classification" else 0
            return dataclasses.replace(param, kind="choice", choices=monitor_choices(info.task, classes))
        if path == "train.device" and self.app.devices:
            names = [name for name, _ in self.app.devices]
            if any(name.startswith("cuda:") for name in names):
                names.insert(1, "cuda")
            return dataclasses.replace(param, kind="choice", choices=("auto", *names))
        return param

    def _values(self, where: str) -> dict[str, Any]:
        return {p.name: value_at(self.draft.config, f"{where}.{p.name}") for p in self._schema(where)}

    def draft_changed(self) -> None:
        for form_id, where, _title in FORMS:
            form = self.query_one(f"#{form_id}", ParamForm)
            schema, values = self._schema(where), self._values(where)
            if schema != form.params:
                self.call_next(self._rebuild, form, schema, values, where)
            else:
                form.set_values(values)
                form.show_problems(self._problems(where))
        self._schedule_preview()

    async def _rebuild(self, form: ParamForm, schema: tuple[Param, ...], values: dict[str, Any], where: str) -> None:
        await form.set_schema(schema, values)
        form.show_problems(self._problems(where))

    def _problems(self, where: str) -> list:
        """Problems of this form's own fields (the nested sections have their own forms)."""
        nested = [w for _f, w, _t in FORMS if w != where and w.startswith(where + ".")]
        return [p for p in self.draft.problems_under(where) if not any(p.field.startswith(n) for n in nested)]

    def focus_field(self, path: str) -> None:
        section, _, name = path.rpartition(".")
        for form_id, where, _title in FORMS:
            if where == section:
                for widget in self.query(f"#{form_id} #field-{name}"):
                    widget.focus()
                    return

    # ------------------------------------------------------------------ LR preview

    def _schedule_preview(self) -> None:
        """Recompute the chart a moment after the last change to what it depends on."""
        config = self.draft.config
        steps = self.draft.steps_per_epoch()
        key = (repr(config.optimizer), repr(config.schedule), config.train.epochs, steps)
        if key == self._preview_key:
            return
        self._preview_key = key
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY, self._start_preview)

    def _start_preview(self) -> None:
        config = self.draft.config
        steps = self.draft.steps_per_epoch()
        problems = self.draft.problems_under("optimizer") + self.draft.problems_under("schedule")
        problems += [p for p in self.draft.problems_under("train") if p.field == "train.epochs"]
        if steps is None:
            self._show_preview_problem("the data settings are not valid yet (see the Data screen)")
        elif problems:
            self._show_preview_problem(str(problems[0]))
        else:
            self.query_one("#lr-note", Static).update("computing the LR preview…")
            self._compute_preview(self._preview_key, config.optimizer, config.schedule, config.train.epochs, steps)

    @work(thread=True, exclusive=True, group="lr-preview", exit_on_error=False)
    def _compute_preview(self, key: Any, optimizer: OptimizerConfig, schedule: ScheduleConfig, epochs: int, steps: int) -> None:
        from workbench.optim.preview import lr_preview  # imports torch: only ever in this worker

        self.post_message(LRPreviewComputed(key, lr_preview(optimizer, schedule, epochs, steps)))

    @on(LRPreviewComputed)
    def _preview_computed(self, message: LRPreviewComputed) -> None:
        if message.key == self._preview_key:  # else the settings changed meanwhile: a newer one comes
            self._show_preview(message.preview)

    def worker_failed(self, group: str, error: BaseException) -> None:
        if group == "lr-preview":
            self._show_preview_problem(describe_error(error))
        else:
            super().worker_failed(group, error)

    def _show_preview(self, preview: Any) -> None:
        self.query_one(LRChart).show_preview(preview)
        text = (
            f"x: epoch · lr {preview.lrs[0]:.3g} → {preview.final_lr:.3g}, peak {max(preview.lrs):.3g} · "
            f"{preview.steps_per_epoch} steps/epoch × {preview.epochs} epochs"
        )
        self.query_one("#lr-note", Static).update(preview.note or text)

    def _show_preview_problem(self, message: str) -> None:
        self.query_one(LRChart).show_preview(None)
        self.query_one("#lr-note", Static).update(f"no LR preview: {message}")

    # ------------------------------------------------------------------ LR finder

    def action_find_lr(self) -> None:
        """Open the LR finder on a copy of the experiment; what it suggests is taken only with its ``u``."""
        from workbench.tui.setup.lr_find_dialog import LRFindScreen

        try:
            config = self.draft.ready_to_train()
        except ConfigError as error:
            self.notify(f"The LR finder needs an experiment that can train: {error}", severity="error", timeout=6)
            return
        self.app.push_screen(LRFindScreen(config), self._take_lr)

    def _take_lr(self, lr: float | None) -> None:
        if lr is not None:
            self.draft.set_value("optimizer.lr", lr, label=f"take the LR finder's {short_number(lr)}")
            self.notify(f"optimizer.lr is now {short_number(lr)} (ctrl+z undoes it)", timeout=4)

    # ------------------------------------------------------------------ sweeps

    def on_param_form_field_focused(self, event: ParamForm.FieldFocused) -> None:
        super().on_param_form_field_focused(event)
        self._field = (event.path, event.param)

    def action_sweep(self) -> None:
        """Open the sweep dialog for the numeric field that last had the focus."""
        if self._field is None or self._field[1].kind not in NUMERIC_KINDS:
            self.notify(
                "Move to a numeric field (tab), press escape, then w makes it a sweep axis", severity="warning", timeout=6
            )
            return
        path, param = self._field
        self.app.push_screen(SweepAxisScreen(path, param, value_at(self.draft.config, path), self.sweep_plan), self._plan_chosen)

    def _plan_chosen(self, plan: SweepPlan | None) -> None:
        if plan is None:
            return
        self.sweep_plan = dataclasses.replace(plan, start=False)
        note = self.query_one("#sweep-note", Static)
        note.update(self.sweep_plan.text() + (" · w changes or starts it" if plan.axes else ""))
        note.set_class(not plan.axes, "hidden")
        if plan.start:
            try:
                config = self.draft.ready_to_train()
            except ConfigError as error:
                self.notify(f"The sweep needs an experiment that can train: {error}", severity="error", timeout=6)
                return
            self.notify(f"Checking every point of the {self.sweep_plan.text()}…", timeout=3)
            self._start_sweep(config, plan)

    @work(thread=True, group="sweep-start", exit_on_error=False)
    def _start_sweep(self, config: RunConfig, plan: SweepPlan) -> None:
        from workbench.scheduling.sweep import start_sweep

        sweep, points = start_sweep(config, plan.spec())
        self.post_message(SweepStarted(sweep.id, len(points) or plan.samples))

    @on(SweepStarted)
    def _sweep_started(self, message: SweepStarted) -> None:
        from workbench.tui.runs.screen import RunsScreen

        self.notify(
            f"Sweep {message.sweep_id}: {message.points} points queued; the Runs screen lists them (S: its table)", timeout=8
        )
        self.app.switch_mode("runs")

        def list_the_sweep() -> None:
            if isinstance(self.app.screen, RunsScreen):
                self.app.screen.show_sweep(message.sweep_id)

        self.app.call_after_refresh(list_the_sweep)

    # ------------------------------------------------------------------ devices

    def _show_devices(self, devices: tuple[tuple[str, str], ...]) -> None:
        if not devices:
            return  # still detecting
        self.query_one("#devices", Static).update("devices: " + " · ".join(f"{name} ({about})" for name, about in devices))
        self.draft_changed()
