"""How much memory training an experiment needs, estimated from its shapes before anything is
allocated: a typo of 10^6 features would otherwise be found by the allocator, after minutes of
loading data, or by a machine that starts to swap.

The estimate counts what training keeps for a whole step at 32-bit precision: the weights, the
gradients and the optimizer's copies of those that train (a backbone frozen for the whole run
has neither: 5,130 trainable parameters of a frozen resnet18 were once said to need 85 MiB of
optimizer state), and one batch of every layer's output with its gradient. It leaves out the
framework's own workspace, so a real run needs somewhat more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from workbench.model.backbones import backbone_activations, ever_trained_count
from workbench.model.shapes import ModelAnalysis

BYTES_PER_VALUE = 4
#: Copies of the weights each optimizer keeps beside them (SGD's momentum buffer, Adam's two moments).
OPTIMIZER_COPIES = {"sgd": 1, "adam": 2, "adamw": 2, "rmsprop": 2}


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes training needs, by what they hold."""

    weights: int  # the parameters and their gradients
    optimizer: int
    activations: int  # one batch of layer outputs and their gradients
    batch_size: int

    @property
    def total(self) -> int:
        return self.weights + self.optimizer + self.activations


def training_memory(analysis: ModelAnalysis, batch_size: int, optimizer: str) -> MemoryEstimate:
    parameters = analysis.total_params * BYTES_PER_VALUE
    # A code model's probe counted what trains (its own requires_grad=False left out).
    trained = (analysis.trainable if analysis.trainable is not None else ever_trained_count(analysis.layers)) * BYTES_PER_VALUE
    outputs = sum(math.prod(layer.output_shape) + backbone_activations(layer) for layer in analysis.layers)
    return MemoryEstimate(
        weights=parameters + trained,
        optimizer=OPTIMIZER_COPIES.get(optimizer, 2) * trained,
        activations=2 * outputs * batch_size * BYTES_PER_VALUE,
        batch_size=batch_size,
    )


def memory_text(estimate: MemoryEstimate) -> str:
    """``~12 MB to train (weights and gradients 0.4 MB, optimizer 0.4 MB, activations 11 MB at batch 64)``."""
    return (
        f"~{byte_size(estimate.total)} to train (weights and gradients {byte_size(estimate.weights)}, "
        f"optimizer {byte_size(estimate.optimizer)}, activations {byte_size(estimate.activations)} "
        f"at batch {estimate.batch_size})"
    )


def byte_size(count: float) -> str:
    """``1536`` -> ``1.5 KiB``; ``150e9`` -> ``140 GiB``: binary units, as ``nvidia-smi``, ``free``
    and PyTorch's memory summary count memory, so that a card's size reads the same here as there
    (an H200 is "140 GiB", not the "150 GB" its bytes make in decimal units)."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if value >= 99.5 or unit == "B" else f"{value:.2g} {unit}"
        value /= 1024
    return f"{value:,.0f} PiB"
