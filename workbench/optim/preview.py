"""The learning rate at every step of a run, before it starts, for the schedule chart.

The preview builds the real optimizer and :class:`~workbench.optim.build.Schedule` on a dummy
parameter and drives them exactly as the trainer does, so what the chart shows is what training
will do. Only the plateau schedule cannot be known ahead: it depends on validation results and
is drawn flat, with a note saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.optim.build import build_optimizer, build_schedule
from workbench.schema.config import OptimizerConfig, ScheduleConfig


@dataclass(frozen=True)
class LRPreview:
    #: The learning rate of every optimizer step, epoch after epoch (epochs x steps_per_epoch).
    lrs: tuple[float, ...]
    steps_per_epoch: int
    epochs: int
    #: One line to show with the chart ("" when the curve is exact).
    note: str
    #: The learning rate after the last step and epoch, where the schedule ends.
    final_lr: float

    def at_epoch_boundaries(self) -> list[float]:
        """The learning rate at the start of each epoch, then after the last one."""
        return [*self.lrs[:: self.steps_per_epoch], self.final_lr]


def lr_preview(optimizer: OptimizerConfig, schedule: ScheduleConfig, epochs: int, steps_per_epoch: int) -> LRPreview:
    """Drive the run's schedule through ``epochs`` x ``steps_per_epoch`` steps and record the LR.

    Raises the ConfigError of a bad optimizer or schedule section. About 0.5 s per 100k steps.
    """
    dummy = torch.zeros(1, requires_grad=True)
    opt = build_optimizer(optimizer, [dummy])
    run = build_schedule(schedule, opt, epochs, steps_per_epoch)
    opt.step()  # no gradient, so nothing moves; it tells torch the steps come in the training order
    group = opt.param_groups[0]
    after_step = run.after_step
    lrs: list[float] = []
    for _ in range(epochs):
        for _ in range(steps_per_epoch):
            lrs.append(group["lr"])
            after_step()
        run.after_epoch(None)
    note = ""
    if run.monitor is not None:
        note = f"{schedule.name}: drawn flat; the learning rate drops when {run.monitor} stops improving, which depends on validation"
    return LRPreview(tuple(float(lr) for lr in lrs), steps_per_epoch, epochs, note, run.lr())
