"""Checked catalog choices -> the real torch loss, optimizer and learning-rate scheduler.

Every builder checks its section first (``catalog.check_*``), so a bad value is refused with a
message naming its field instead of a torch error mid-run. The :class:`Schedule` wraps torch's
own scheduler classes; the trainer and the LR preview drive it the same way, so the preview
cannot disagree with training.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

from workbench.errors import CheckpointError, ConfigError
from workbench.optim.catalog import loss_settings, optimizer_settings, parse_milestones, schedule_settings
from workbench.schema.config import LossConfig, OptimizerConfig, ScheduleConfig
from workbench.schema.monitor import higher_is_better

# ----------------------------------------------------------------------------- losses


class OneHotBCEWithLogitsLoss(nn.BCEWithLogitsLoss):
    """``BCEWithLogitsLoss`` that also takes class indices, so it trains on classification data.

    Integer targets of shape ``(N,)`` are one-hot encoded to floats with as many columns as the
    model has outputs; float targets (already one-hot or multi-label) pass through unchanged.
    """

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if not target.is_floating_point():
            target = nn.functional.one_hot(target, num_classes=input.shape[-1]).to(input.dtype)
        return super().forward(input, target)


_LOSSES: dict[str, Callable[[dict[str, Any]], nn.Module]] = {
    "cross_entropy": lambda p: nn.CrossEntropyLoss(label_smoothing=p["label_smoothing"]),
    "bce_with_logits": lambda p: OneHotBCEWithLogitsLoss(),
    "mse": lambda p: nn.MSELoss(),
    "l1": lambda p: nn.L1Loss(),
    "smooth_l1": lambda p: nn.SmoothL1Loss(beta=p["beta"]),
}


def build_loss(loss: LossConfig) -> nn.Module:
    """The loss module of a checked loss section (ConfigError naming the field otherwise)."""
    entry, params = loss_settings(loss)
    return _LOSSES[entry.name](params)


# ----------------------------------------------------------------------------- optimizers

_OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
    "adadelta": torch.optim.Adadelta,
}


def build_optimizer(opt: OptimizerConfig, parameters: Iterable[Any]) -> Optimizer:
    """The torch optimizer over ``parameters`` (tensors or param-group dicts), one group per
    group given, all at ``opt.lr``. The catalog's ``beta1``/``beta2`` become torch's ``betas``.

    The first optimizer a process builds imports torch._dynamo (about 900 modules, 1.3-2 s on
    2 cores), compiled or not: torch wraps Optimizer.add_param_group, zero_grad, state_dict and
    load_state_dict in torch._disable_dynamo, which imports it on first call, and every step()
    imports it too (_use_grad_for_differentiable); no setting skips that (TORCH_COMPILE_DISABLE
    acts once it is imported). Avoiding it would take optimizers of our own or stubs in torch's
    internals, so it is paid, once per process (the app pays it in its background warm-up)."""
    entry, params = optimizer_settings(opt)
    if "beta1" in params:
        params["betas"] = (params.pop("beta1"), params.pop("beta2"))
    return _OPTIMIZERS[entry.name](parameters, lr=opt.lr, **params)


# ----------------------------------------------------------------------------- schedules


class Schedule:
    """The learning-rate schedule of a run: torch scheduler(s) plus an optional linear warmup.

    The trainer calls :meth:`after_step` after every ``optimizer.step()`` and
    :meth:`after_epoch` after validating; each torch scheduler is stepped at the rate it is
    built for. Per-step schedules (cosine, onecycle, polynomial) run after the warmup over the
    rest of the run (torch's ``SequentialLR``) and stop stepping when the run's steps are
    done. Per-epoch schedules keep the run's epoch clock (``step_size = 5`` decays after epoch 5
    with or without a warmup) and the warmup scales the learning rate during its first steps.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        name: str,
        *,
        per_step: LRScheduler | None,
        per_step_count: int,
        per_epoch: LRScheduler | ReduceLROnPlateau | None = None,
        monitor: str | None = None,
    ) -> None:
        self.optimizer = optimizer
        self.name = name
        #: The metric :meth:`after_epoch` needs (``val_loss``...), or None when it reads none.
        self.monitor = monitor
        self._per_step = per_step
        self._per_step_count = per_step_count
        self._per_epoch = per_epoch
        self._steps = 0

    def after_step(self) -> None:
        """Advance one training step (call it after ``optimizer.step()``)."""
        if self._per_step is not None and self._steps < self._per_step_count:
            self._per_step.step()
        self._steps += 1

    def after_epoch(self, monitored: float | None) -> None:
        """Advance one epoch. ``monitored`` is the value of :attr:`monitor` this epoch; the
        plateau schedule leaves the learning rate alone when it is None (nothing measured)."""
        if isinstance(self._per_epoch, ReduceLROnPlateau):
            if monitored is not None:
                self._per_epoch.step(monitored)
        elif self._per_epoch is not None:
            self._per_epoch.step()

    def lr(self) -> float:
        """The learning rate the next optimizer step will use."""
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict[str, Any]:
        """A snapshot of plain data (loadable with ``torch.load(weights_only=True)``) to resume
        exactly, together with the optimizer's state, which holds the current learning rates."""
        return copy.deepcopy(
            {
                "name": self.name,
                "steps": self._steps,
                "per_step": None if self._per_step is None else self._per_step.state_dict(),
                "per_epoch": None if self._per_epoch is None else self._per_epoch.state_dict(),
            }
        )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict` (of a schedule built from the same config)."""
        try:
            matches = (
                state["name"] == self.name
                and (state["per_step"] is None) == (self._per_step is None)
                and (state["per_epoch"] is None) == (self._per_epoch is None)
            )
        except (KeyError, TypeError):
            matches = False
        if not matches:
            raise CheckpointError(f"the saved schedule state does not belong to this run's {self.name!r} schedule")
        state = copy.deepcopy(state)
        if self._per_step is not None:
            self._per_step.load_state_dict(state["per_step"])
        if self._per_epoch is not None:
            self._per_epoch.load_state_dict(state["per_epoch"])
        self._steps = state["steps"]


def build_schedule(schedule: ScheduleConfig, optimizer: Optimizer, epochs: int, steps_per_epoch: int) -> Schedule:
    """The schedule for a run of ``epochs`` x ``steps_per_epoch`` steps.

    To resume, build it on a freshly built optimizer, then load the optimizer's state and this
    schedule's (in either order): torch schedulers set the optimizer's learning rates when they
    are created, and onecycle takes its peak from the learning rate it finds.
    """
    if epochs < 1 or steps_per_epoch < 1:
        raise ValueError(f"a run needs at least one epoch and one step, got {epochs} x {steps_per_epoch}")
    entry, params = schedule_settings(schedule, epochs)
    total = epochs * steps_per_epoch
    warmup = _warmup_steps(schedule.warmup_epochs, steps_per_epoch, total)
    if entry.per_step:
        main = _PER_STEP[entry.name](optimizer, total - warmup, params)
        per_step = main if not warmup else SequentialLR(optimizer, [_linear_warmup(optimizer, warmup), main], [warmup])
        return Schedule(optimizer, entry.name, per_step=per_step, per_step_count=total)
    per_epoch = _PER_EPOCH[entry.name](optimizer, params)
    return Schedule(
        optimizer,
        entry.name,
        per_step=_linear_warmup(optimizer, warmup) if warmup else None,
        per_step_count=warmup,
        per_epoch=per_epoch,
        monitor=params.get("monitor"),
    )


def _warmup_steps(warmup_epochs: float, steps_per_epoch: int, total: int) -> int:
    """Steps of linear warmup: at least one when a warmup is asked for, and never the whole run."""
    if warmup_epochs <= 0:
        return 0
    return min(total - 1, max(1, round(warmup_epochs * steps_per_epoch)))


def _linear_warmup(optimizer: Optimizer, steps: int) -> LinearLR:
    """Step ``i`` of the warmup runs at ``(i + 1) / (steps + 1)`` of the learning rate the main
    schedule starts at; the step after it runs at the full value. Built after the main
    scheduler, because torch's LinearLR scales whatever learning rate it finds."""
    return LinearLR(optimizer, start_factor=1.0 / (steps + 1), end_factor=1.0, total_iters=steps)


def _onecycle(optimizer: Optimizer, steps: int, p: dict[str, Any]) -> OneCycleLR:
    """OneCycleLR peaking at the optimizer's lr. It reaches its final value on the step after its
    last, so it gets one step more than the run: it lands there as the run ends, like cosine and
    polynomial, and never steps past its end (where torch raises)."""
    cycle = steps + 1
    if float(p["pct_start"] * cycle) - 1 == 0:  # torch's phase length would be 0: division by zero
        raise ConfigError(
            f"schedule.pct_start: {p['pct_start']} makes the rise exactly one step long over {steps} steps, "
            "which OneCycleLR cannot compute; choose a slightly different pct_start",
            field="schedule.pct_start",
        )
    return OneCycleLR(
        optimizer,
        max_lr=optimizer.param_groups[0]["lr"],
        total_steps=cycle,
        pct_start=p["pct_start"],
        anneal_strategy=p["anneal_strategy"],
        div_factor=p["div_factor"],
        final_div_factor=p["final_div_factor"],
        cycle_momentum=False,
    )


_PER_STEP: dict[str, Callable[[Optimizer, int, dict[str, Any]], LRScheduler]] = {
    "cosine": lambda o, n, p: CosineAnnealingLR(o, T_max=n, eta_min=p["eta_min"]),
    "onecycle": _onecycle,
    "polynomial": lambda o, n, p: PolynomialLR(o, total_iters=n, power=p["power"]),
}

_PER_EPOCH: dict[str, Callable[[Optimizer, dict[str, Any]], LRScheduler | ReduceLROnPlateau | None]] = {
    "constant": lambda o, p: None,
    "step": lambda o, p: StepLR(o, step_size=p["step_size"], gamma=p["gamma"]),
    "multistep": lambda o, p: MultiStepLR(o, milestones=parse_milestones(p["milestones"]), gamma=p["gamma"]),
    "exponential": lambda o, p: ExponentialLR(o, gamma=p["gamma"]),
    "plateau": lambda o, p: ReduceLROnPlateau(
        o,
        mode="max" if higher_is_better(p["monitor"]) else "min",
        factor=p["factor"],
        patience=p["patience"],
        threshold=p["threshold"],
        min_lr=p["min_lr"],
    ),
}
