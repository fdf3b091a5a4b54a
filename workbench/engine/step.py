"""One optimizer step on one batch, as the tutorials write it: the trainer's loop and the LR
finder's ramp share it, so the finder measures the loss exactly as training would see it (same
autocast, loss scaling and gradient clipping)."""

from __future__ import annotations

import torch
from torch.optim import Optimizer

from workbench.engine.setup import Parts


def train_step(
    parts: Parts,
    optimizer: Optimizer,
    scaler: torch.amp.GradScaler,
    grad_clip: float,
    inputs: torch.Tensor,
    targets: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """zero_grad, forward, loss, backward, (clip), step; returns the batch's outputs and loss,
    left on the device (nothing here waits for it, but an enabled grad scaler's step)."""
    prepared = parts.prepared
    inputs = prepared.inputs(inputs)
    with parts.precision.autocast():
        outputs = prepared.model(inputs)
        loss = parts.loss_fn(outputs, targets)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if grad_clip > 0:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(prepared.module.parameters(), grad_clip)
    scaler.step(optimizer)  # sync: an enabled grad scaler reads whether the gradients are finite
    scaler.update()
    return outputs, loss
