"""The training-memory estimate: what describe, the Model screen and the trainer's refusal show."""

from __future__ import annotations

import math

from workbench.experiment.presets import load_experiment
from workbench.experiment.validation import check_experiment
from workbench.model.memory import byte_size, memory_text, training_memory
from workbench.model.shapes import analyse
from workbench.schema.config import LayerSpec


def test_the_estimate_counts_weights_gradients_optimizer_copies_and_a_batch_of_outputs() -> None:
    checked = check_experiment(load_experiment("digits-mlp", ["data.batch_size=10"]))
    analysis = checked.analysis
    assert analysis is not None and analysis.ok
    estimate = training_memory(analysis, 10, "adam")
    assert estimate.weights == 2 * 4 * analysis.total_params
    assert estimate.optimizer == 2 * 4 * analysis.total_params  # Adam's two moments
    outputs = sum(math.prod(layer.output_shape) for layer in analysis.layers)
    assert estimate.activations == 2 * 4 * 10 * outputs
    assert training_memory(analysis, 10, "sgd").optimizer == 4 * analysis.total_params  # one momentum buffer
    assert memory_text(estimate).startswith(f"~{byte_size(estimate.total)} to train (weights and gradients ")


def test_byte_sizes_read_as_nvidia_smi_and_free_count_memory() -> None:
    assert [byte_size(n) for n in (0, 1023, 1536, 12_345_678, 99.6 * 2**20, 150_754_820_096, 3.2e12, 5e16)] == [
        "0 B",
        "1023 B",
        "1.5 KiB",
        "12 MiB",
        "100 MiB",  # 99.6 MiB: rounded as it reads, not "1e+02"
        "140 GiB",  # an H200 as torch.cuda.get_device_properties reports it
        "2.9 TiB",
        "44 PiB",
    ]


def test_a_backbone_frozen_for_the_whole_run_has_no_gradients_or_optimizer_state_in_the_estimate() -> None:
    """A frozen resnet18 with a 10-class head was said to need 85 MiB of Adam's state for its 5,130
    trainable parameters: only parameters that train get gradients and optimizer state."""
    frozen = analyse([LayerSpec("Backbone", params={"input_size": 32, "unfreeze_after": 0})], (3, 32, 32), 10)
    estimate = training_memory(frozen, 8, "adam")
    assert estimate.optimizer == 2 * 4 * 5_130  # the head's weight and bias, two moments each
    assert estimate.weights == 4 * (frozen.total_params + 5_130)  # every weight, the head's gradients
    later = analyse([LayerSpec("Backbone", params={"input_size": 32, "unfreeze_after": 2})], (3, 32, 32), 10)
    assert training_memory(later, 8, "adam").optimizer == 2 * 4 * later.total_params  # all of it trains from epoch 3
