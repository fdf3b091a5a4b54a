"""The sweep dialog of the Optimize screen: turn a numeric field into a sweep axis, then start the sweep.

``w`` on the Optimize screen opens it for the field that last had the focus. The axis is typed
as ``--sweep`` takes it (values ``0.01,0.03,0.1`` or a range ``log-uniform:1e-4:1e-1``); the
sampler (the grid or random points, or Optuna's TPE, CMA-ES, GP) and the pruner (none,
successive halving, Hyperband, median) are chosen below it, as ``--sampler`` and ``--pruner``.
The dialog lists every axis so far with the number of points, and says in one line what is
wrong with the typed one. It dismisses with a :class:`SweepPlan`: the axes to keep, and whether to
start the sweep now (the screen validates every point and queues them: see
:func:`workbench.scheduling.sweep.start_sweep`). Nothing in the draft changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Select, Static

from workbench.errors import ConfigError
from workbench.experiment.sweep_points import point_count
from workbench.formatting import counted
from workbench.schema.params import Param, format_value
from workbench.schema.sweep import PRUNERS, Axis, SweepSpec, axis_from_value, checked_spec
from workbench.tui.screens.dialogs import Dialog
from workbench.tui.widgets.text_field import TextField

NUMERIC_KINDS = ("int", "float", "auto_int")
#: The sampler's choices: "" draws the grid, or random points when samples > 0.
SAMPLER_CHOICES = (("grid/random", ""), ("TPE", "tpe"), ("CMA-ES", "cmaes"), ("GP", "gp"))
PRUNER_CHOICES = (("none", ""), *((name, name) for name in PRUNERS))


@dataclass(frozen=True)
class SweepPlan:
    """The axes the Optimize screen keeps, the samples (0: the grid), the sampler and pruner
    ("": the grid or random points; none), and whether to start."""

    axes: tuple[Axis, ...] = ()
    samples: int = 0
    start: bool = False
    sampler: str = ""
    pruner: str = ""

    def spec(self) -> SweepSpec:
        return SweepSpec(self.axes, samples=self.samples, sampler=self.sampler, pruner=self.pruner)

    def text(self) -> str:
        """``sweep: optimizer.lr=0.01,0.1 · data.batch_size=32,64 (4 points)``, or ""."""
        if not self.axes:
            return ""
        how = counted(self.samples, "sample") if self.samples else counted(point_count(self.spec()), "point")
        how += f", {self.sampler}" if self.sampler else ""
        how += f", {self.pruner} pruner" if self.pruner else ""
        return "sweep: " + " · ".join(axis.text() for axis in self.axes) + f" ({how})"


def suggested_values(value: object, param: Param) -> str:
    """A first axis for a field: a third, the value, three times (whole numbers: half, double)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    if param.kind in ("int", "auto_int"):
        return ",".join(str(v) for v in sorted({max(1, int(value) // 2), int(value), int(value) * 2}))
    return ",".join(format_value(float(f"{v:.3g}")) for v in (value / 3, value, value * 3))


class SweepAxisScreen(Dialog):
    """Set, change or remove the axis of one field; start the sweep."""

    BINDINGS = [Binding("ctrl+r", "remove", "Remove axis"), Binding("ctrl+g", "start", "Start sweep")]

    DEFAULT_CSS = """
    SweepAxisScreen #axes { height: auto; max-height: 6; }
    SweepAxisScreen Horizontal.field { height: 1; }
    SweepAxisScreen Horizontal.field Static { width: 10; }
    SweepAxisScreen Horizontal.field Input { width: 1fr; }
    SweepAxisScreen Horizontal.field Select { width: 1fr; }
    """

    def __init__(self, path: str, param: Param, value: object, plan: SweepPlan) -> None:
        super().__init__()
        self.path = path
        self.param = param
        self.value = value
        self.plan = plan

    def compose_dialog(self) -> ComposeResult:
        current = next((a for a in self.plan.axes if a.setting == self.path), None)
        yield Static(f"Sweep {self.path} (now {format_value(self.value)})", classes="title", markup=False)
        with Horizontal(classes="field"):
            yield Static("values", markup=False)
            yield TextField(
                current.value_text() if current else suggested_values(self.value, self.param), compact=True, id="values"
            )
        with Horizontal(classes="field"):
            yield Static("samples", markup=False)
            yield TextField(str(self.plan.samples), type="integer", compact=True, id="samples")
        with Horizontal(classes="field"):
            yield Static("sampler", markup=False)
            yield Select(SAMPLER_CHOICES, value=self.plan.sampler, allow_blank=False, compact=True, id="sampler")
            yield Static(" pruner", markup=False)
            yield Select(PRUNER_CHOICES, value=self.plan.pruner, allow_blank=False, compact=True, id="pruner")
        yield Static(
            "values 0.01,0.03,0.1 (a grid with the other axes) or a range log-uniform:1e-4:1e-1, uniform:A:B "
            "(random points, or TPE, CMA-ES, GP learning from those that ended: samples > 0)",
            classes="note",
            markup=False,
        )
        yield Static(id="axes", markup=False)
        yield Static(id="note", classes="note", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Remove (ctrl+r)", id="remove", compact=True)
            yield Button("Set axis (enter)", id="set", compact=True)
            yield Button("Start sweep (ctrl+g)", id="start", variant="success", compact=True)

    def on_mount(self) -> None:
        self.query_one("#values", Input).focus()
        self._show(self._typed(quiet=True) or self.plan)

    def _typed(self, *, quiet: bool = False) -> SweepPlan | None:
        """The plan with the typed axis and samples; None (the reason shown) when they cannot be read."""
        try:
            axis = axis_from_value(self.path, self.query_one("#values", Input).value.strip(), self.path)
            samples_text = self.query_one("#samples", Input).value.strip() or "0"
            samples = int(samples_text)
            if samples < 0:
                raise ConfigError(f"samples: {samples} is not allowed; 0 (the grid) or more")
            sampler, pruner = (str(self.query_one(f"#{name}", Select).value) for name in ("sampler", "pruner"))
            axes = tuple(a for a in self.plan.axes if a.setting != self.path) + (axis,)
            plan = SweepPlan(axes, samples, sampler=sampler, pruner=pruner)
            checked_spec(plan.spec(), "sweep")
        except (ConfigError, ValueError) as error:
            if not quiet:
                self._say(str(error), error=True)
            return None
        return plan

    def _show(self, plan: SweepPlan) -> None:
        self.query_one("#axes", Static).update(plan.text() or "no axes yet")
        ranges = [a for a in plan.axes if a.kind != "values"]
        if ranges and not plan.samples:
            self._say(f"{ranges[0].setting} is a range: set samples to draw random points", error=True)
        else:
            self._say("")

    def _say(self, text: str, *, error: bool = False) -> None:
        note = self.query_one("#note", Static)
        note.set_class(error, "error")
        note.update(text)

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        plan = self._typed()
        if plan is not None:
            self._show(plan)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._set()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        {"remove": self.action_remove, "set": self._set, "start": self.action_start}[event.button.id or "set"]()

    def _set(self) -> None:
        plan = self._typed()
        if plan is not None:
            self.dismiss(plan)

    def action_remove(self) -> None:
        self.dismiss(replace(self.plan, axes=tuple(a for a in self.plan.axes if a.setting != self.path), start=False))

    def action_start(self) -> None:
        plan = self._typed()
        if plan is not None:
            self.dismiss(replace(plan, start=True))
