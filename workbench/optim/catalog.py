"""The losses, optimizers and learning-rate schedules a run can use, as plain data.

Each entry is a :class:`Choice`: its name (the TOML ``name``), its knobs as
:class:`~workbench.schema.params.Param` records carrying torch's own parameter names and defaults, and
one line of help. The app draws its forms from these and the config validates against them
before torch has loaded, so this module must not import torch; ``build.py`` turns a checked
choice into the real torch object.

The ``check_*`` functions return every problem of a section, each naming its field
(``optimizer.momentum``), including rules between fields that torch would otherwise raise
about mid-run with a message the user cannot act on (Nesterov without momentum, say).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigError
from workbench.schema.config import LossConfig, OptimizerConfig, ScheduleConfig
from workbench.schema.params import Param, coerce_all

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Choice:
    """One loss, optimizer or schedule: its knobs, what it fits and how it is stepped."""

    name: str
    params: tuple[Param, ...]
    help: str
    #: Losses: the dataset tasks whose targets they accept.
    tasks: tuple[str, ...] = TASKS
    #: Schedules: stepped after every batch (True) or after every epoch (False).
    per_step: bool = False


# ----------------------------------------------------------------------------- losses

LOSSES: dict[str, Choice] = {
    c.name: c
    for c in (
        Choice(
            "cross_entropy",
            (Param("label_smoothing", "float", 0.0, "share of each target spread over the other classes", min=0.0, max=1.0),),
            "softmax cross-entropy on class indices: the usual classification loss",
            tasks=("classification",),
        ),
        Choice(
            "bce_with_logits",
            (),
            "sigmoid + binary cross-entropy per output; class indices are one-hot encoded",
            tasks=("classification",),
        ),
        Choice("mse", (), "mean squared error: the usual regression loss", tasks=("regression",)),
        Choice("l1", (), "mean absolute error: less swayed by outliers than mse", tasks=("regression",)),
        Choice(
            "smooth_l1",
            (Param("beta", "float", 1.0, "errors below beta are squared, larger ones count linearly (0 = l1)", min=0.0),),
            "Huber-like: squared for small errors, absolute for large ones",
            tasks=("regression",),
        ),
    )
}

# ----------------------------------------------------------------------------- optimizers

_WEIGHT_DECAY = Param("weight_decay", "float", 0.0, "L2 penalty added to the gradient (0 = off)", min=0.0)
_EPS = Param("eps", "float", 1e-8, "added to the denominator for numerical stability", min=0.0, min_exclusive=True)
_BETAS = (
    Param("beta1", "float", 0.9, "decay of the running mean of gradients (momentum); must be < 1", min=0.0, max=1.0),
    Param("beta2", "float", 0.999, "decay of the running mean of squared gradients; must be < 1", min=0.0, max=1.0),
)
_MOMENTUM = Param("momentum", "float", 0.0, "momentum factor (0 = plain gradient descent; 0.9 is usual)", min=0.0, max=1.0)

OPTIMIZERS: dict[str, Choice] = {
    c.name: c
    for c in (
        Choice(
            "sgd",
            (
                _MOMENTUM,
                Param("dampening", "float", 0.0, "share of each new gradient held back from the momentum", min=0.0, max=1.0),
                Param("nesterov", "bool", False, "Nesterov momentum (needs momentum > 0 and dampening 0)"),
                _WEIGHT_DECAY,
            ),
            "stochastic gradient descent, optionally with (Nesterov) momentum",
        ),
        Choice(
            "adam",
            (*_BETAS, _EPS, _WEIGHT_DECAY, Param("amsgrad", "bool", False, "use the AMSGrad variant")),
            "Adam: per-parameter steps from running gradient moments",
        ),
        Choice(
            "adamw",
            (
                *_BETAS,
                _EPS,
                Param("weight_decay", "float", 0.01, "decoupled weight decay (shrinks weights directly)", min=0.0),
                Param("amsgrad", "bool", False, "use the AMSGrad variant"),
            ),
            "AdamW: Adam with decoupled weight decay",
        ),
        Choice(
            "rmsprop",
            (
                Param(
                    "alpha",
                    "float",
                    0.99,
                    "decay of the running mean of squared gradients; must be < 1 (at 1 it never learns them)",
                    min=0.0,
                    max=1.0,
                ),
                _EPS,
                _WEIGHT_DECAY,
                _MOMENTUM,
                Param("centered", "bool", False, "normalise by the gradient's estimated variance"),
            ),
            "RMSprop: steps scaled by a running mean of squared gradients",
        ),
        Choice(
            "adagrad",
            (
                Param("lr_decay", "float", 0.0, "learning-rate decay per step", min=0.0),
                _WEIGHT_DECAY,
                Param("eps", "float", 1e-10, "added to the denominator for numerical stability", min=0.0, min_exclusive=True),
            ),
            "Adagrad: steps shrink with each parameter's accumulated squared gradients",
        ),
        Choice(
            "adadelta",
            (
                Param("rho", "float", 0.9, "decay of the running means", min=0.0, max=1.0),
                Param("eps", "float", 1e-6, "added to the denominator for numerical stability", min=0.0, min_exclusive=True),
                _WEIGHT_DECAY,
            ),
            "Adadelta: Adagrad without the shrinking step (lr = 1.0 is usual)",
        ),
    )
}

# ----------------------------------------------------------------------------- schedules

_GAMMA = "multiply the learning rate by this"

SCHEDULES: dict[str, Choice] = {
    c.name: c
    for c in (
        Choice("constant", (), "keep the learning rate fixed"),
        Choice(
            "step",
            (
                Param("step_size", "int", 5, "epochs between decays", min=1),
                Param("gamma", "float", 0.1, _GAMMA + " every step_size epochs", min=0.0, max=1.0, min_exclusive=True),
            ),
            "decay by gamma every step_size epochs (x0.1 every 5 epochs)",
        ),
        Choice(
            "multistep",
            (
                Param("milestones", "str", "5,8", 'epochs after which to decay, increasing, e.g. "30,60"'),
                Param("gamma", "float", 0.1, _GAMMA + " at each milestone", min=0.0, max=1.0, min_exclusive=True),
            ),
            "decay by gamma after each listed epoch",
        ),
        Choice(
            "exponential",
            (Param("gamma", "float", 0.9, _GAMMA + " after every epoch", min=0.0, max=1.0, min_exclusive=True),),
            "decay by gamma after every epoch",
        ),
        Choice(
            "cosine",
            (Param("eta_min", "float", 0.0, "learning rate reached at the end of the run", min=0.0),),
            "cosine annealing from lr down to eta_min over the run, per step",
            per_step=True,
        ),
        Choice(
            "onecycle",
            (
                Param("pct_start", "float", 0.3, "share of the run spent rising to the peak (lr); must be < 1", min=0.0, max=1.0),
                Param("div_factor", "float", 25.0, "start at lr / div_factor", min=1.0),
                Param("final_div_factor", "float", 1e4, "end at the start value / final_div_factor", min=1.0),
                Param("anneal_strategy", "choice", "cos", "shape of the rise and fall", choices=("cos", "linear")),
            ),
            "1cycle: rise to lr, then anneal far below the start, per step (momentum is left as set)",
            per_step=True,
        ),
        Choice(
            "plateau",
            (
                Param("monitor", "str", "val_loss", "metric to watch (val_loss, val_acc, ...); direction follows the metric"),
                Param(
                    "factor",
                    "float",
                    0.1,
                    "multiply the learning rate by this on a plateau; must be < 1",
                    min=0.0,
                    max=1.0,
                    min_exclusive=True,
                ),
                Param("patience", "int", 5, "epochs without improvement before decaying", min=0),
                Param("threshold", "float", 1e-4, "relative change that counts as an improvement", min=0.0),
                Param("min_lr", "float", 0.0, "never decay below this learning rate", min=0.0),
            ),
            "decay by factor when the monitored metric stops improving, per epoch",
        ),
        Choice(
            "polynomial",
            (Param("power", "float", 1.0, "1 = straight line to 0; larger = faster early decay", min=0.0, min_exclusive=True),),
            "polynomial decay from lr to 0 over the run, per step",
            per_step=True,
        ),
    )
}

# ----------------------------------------------------------------------------- lookups and checks


def choice(table: Mapping[str, Choice], name: str, where: str, what: str) -> Choice:
    """The entry ``name`` of ``table``, or a ConfigError at ``where`` listing the allowed names."""
    found = table.get(name) if isinstance(name, str) else None
    if found is not None:
        return found
    close = difflib.get_close_matches(str(name), list(table), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(f"{where}: unknown {what} {name!r}{hint}; allowed: {', '.join(table)}", field=where)


def check_loss(loss: LossConfig, task: str | None = None, where: str = "loss") -> list[ConfigError]:
    """Every problem of the loss section; with ``task`` given, also whether the loss fits it."""
    entry, _, found = _review(LOSSES, {}, "loss", loss.name, loss.params, where)
    if entry is not None and task is not None and task not in entry.tasks:
        fitting = ", ".join(name for name, c in LOSSES.items() if task in c.tasks)
        found.append(
            ConfigError(f"{where}.name: {entry.name} does not fit a {task} dataset; use one of {fitting}", field=f"{where}.name")
        )
    return found


def check_optimizer(opt: OptimizerConfig, where: str = "optimizer") -> list[ConfigError]:
    """Every problem of the optimizer's name and parameters, including rules between parameters.

    The plain ``lr`` field is checked with the rest of the config.
    """
    return _review(OPTIMIZERS, _OPTIMIZER_RULES, "optimizer", opt.name, opt.params, where)[2]


def check_schedule(schedule: ScheduleConfig, epochs: int | None = None, where: str = "schedule") -> list[ConfigError]:
    """Every problem of the schedule's name and parameters, including rules between them; with
    ``epochs``, also that the warmup ends before the run does."""
    return _review_schedule(schedule, epochs, where)[2]


def loss_settings(loss: LossConfig, where: str = "loss") -> tuple[Choice, dict[str, Any]]:
    """The loss's catalog entry and all its parameters (defaults filled in); raises the first problem."""
    return _settled(_review(LOSSES, {}, "loss", loss.name, loss.params, where))


def optimizer_settings(opt: OptimizerConfig, where: str = "optimizer") -> tuple[Choice, dict[str, Any]]:
    """The optimizer's catalog entry and all its parameters; raises the first problem."""
    return _settled(_review(OPTIMIZERS, _OPTIMIZER_RULES, "optimizer", opt.name, opt.params, where))


def schedule_settings(schedule: ScheduleConfig, epochs: int, where: str = "schedule") -> tuple[Choice, dict[str, Any]]:
    """The schedule's catalog entry and all its parameters; raises the first problem."""
    return _settled(_review_schedule(schedule, epochs, where))


def parse_milestones(text: str, where: str = "schedule.milestones") -> list[int]:
    """``"30,60"`` -> ``[30, 60]``: increasing whole epochs > 0, or a ConfigError at ``where``.

    Milestones are text so that one value works as a TOML string, a ``--set`` value and a form
    field, all typed by the same :class:`Param`.
    """
    parts = [part.strip() for part in text.split(",")]
    numbers = [int(part) for part in parts if part.isascii() and part.isdigit()]
    if len(numbers) != len(parts) or numbers[0] < 1 or numbers != sorted(set(numbers)):
        raise ConfigError(
            f'{where}: {text!r} is not allowed; expected increasing epochs > 0 separated by commas, e.g. "30,60"', field=where
        )
    return numbers


# ----------------------------------------------------------------------------- rules between fields

Rule = Callable[[dict[str, Any], str], list[ConfigError]]


def _below_one(*names: str) -> Rule:
    """Values that must stay below 1: at 1 torch refuses them (betas, plateau factor), divides by
    zero (onecycle pct_start) or never learns (rmsprop alpha). A Param's max is inclusive, so the
    strict bound is a rule."""

    def rule(values: dict[str, Any], where: str) -> list[ConfigError]:
        return [
            ConfigError(f"{where}.{name}: {values[name]} is not allowed; expected a number >= 0 and < 1", field=f"{where}.{name}")
            for name in names
            if values[name] >= 1.0
        ]

    return rule


def _nesterov(values: dict[str, Any], where: str) -> list[ConfigError]:
    if not values["nesterov"]:
        return []
    found = []
    if values["momentum"] <= 0:
        found.append(
            ConfigError(
                f"{where}.momentum: Nesterov momentum needs momentum > 0 (it is {values['momentum']:g}); "
                "set momentum (e.g. 0.9) or nesterov = false",
                field=f"{where}.momentum",
            )
        )
    if values["dampening"] != 0:
        found.append(
            ConfigError(
                f"{where}.dampening: Nesterov momentum needs dampening = 0 (it is {values['dampening']:g}); "
                "set dampening = 0 or nesterov = false",
                field=f"{where}.dampening",
            )
        )
    return found


def _milestones(values: dict[str, Any], where: str) -> list[ConfigError]:
    try:
        parse_milestones(values["milestones"], f"{where}.milestones")
    except ConfigError as error:
        return [error]
    return []


_OPTIMIZER_RULES: dict[str, tuple[Rule, ...]] = {
    "sgd": (_nesterov,),
    "adam": (_below_one("beta1", "beta2"),),
    "adamw": (_below_one("beta1", "beta2"),),
    "rmsprop": (_below_one("alpha"),),
}

_SCHEDULE_RULES: dict[str, tuple[Rule, ...]] = {
    "multistep": (_milestones,),
    "onecycle": (_below_one("pct_start"),),
    "plateau": (_below_one("factor"),),
}

Review = tuple[Choice | None, dict[str, Any], list[ConfigError]]


def _review(
    table: Mapping[str, Choice], rules: Mapping[str, tuple[Rule, ...]], what: str, name: str, params: dict[str, Any], where: str
) -> Review:
    """Look ``name`` up, coerce each parameter, then apply the entry's rules between fields.

    Returns the entry (None if unknown), the resolved parameters and every problem found.
    The rules run only when every parameter is valid, so they never report on a default that
    stands in for a rejected value.
    """
    try:
        entry = choice(table, name, f"{where}.name", what)
    except ConfigError as error:
        return None, {}, [error]
    values = {p.name: p.default for p in entry.params}
    found: list[ConfigError] = []
    for key, value in params.items():
        try:
            values[key] = coerce_all(entry.params, {key: value}, where, what=f"{what} {entry.name}")[key]
        except ConfigError as error:
            found.append(error)
    if not found:
        for rule in rules.get(entry.name, ()):
            found.extend(rule(values, where))
    return entry, values, found


def _review_schedule(schedule: ScheduleConfig, epochs: int | None, where: str) -> Review:
    entry, values, found = _review(SCHEDULES, _SCHEDULE_RULES, "schedule", schedule.name, schedule.params, where)
    if epochs is not None and schedule.warmup_epochs >= epochs:
        found.append(
            ConfigError(
                f"{where}.warmup_epochs: {schedule.warmup_epochs} is not allowed; the warmup must end before "
                f"the run does (train.epochs = {epochs})",
                field=f"{where}.warmup_epochs",
            )
        )
    return entry, values, found


def _settled(review: Review) -> tuple[Choice, dict[str, Any]]:
    entry, values, found = review
    if found:
        raise found[0]
    assert entry is not None  # an unknown name is always among the problems
    return entry, values
