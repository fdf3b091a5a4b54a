"""Initialisation schemes reach every Linear/Conv2d weight (inside blocks too) and nothing else."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from workbench.errors import ConfigError
from workbench.model.build import build_model
from workbench.model.catalog import BIAS_INITS, WEIGHT_INITS
from workbench.model.init import init_parameters
from workbench.schema.config import ModelConfig, section_params

from .stacks import layer, lenet5, small_resnet

FAN_IN, FAN_OUT = 400, 300


def wide_linear(init: str = "default", bias_init: str = "default") -> nn.Linear:
    torch.manual_seed(0)
    model = build_model(ModelConfig(layers=[layer("Linear")], init=init, bias_init=bias_init), (FAN_IN,), FAN_OUT)
    return model.fc1


# Expected standard deviation of a 300x400 weight, and whether it is drawn uniformly (bounded).
SPREAD = {
    "default": (1 / math.sqrt(3 * FAN_IN), True),  # PyTorch's kaiming_uniform(a=sqrt(5))
    "kaiming_normal": (math.sqrt(2 / FAN_IN), False),
    "kaiming_uniform": (math.sqrt(2 / FAN_IN), True),
    "xavier_normal": (math.sqrt(2 / (FAN_IN + FAN_OUT)), False),
    "xavier_uniform": (math.sqrt(2 / (FAN_IN + FAN_OUT)), True),
    "orthogonal": (math.sqrt(1 / FAN_IN), False),  # 300 orthonormal rows of length 400
}


def test_every_scheme_is_tested_and_offered_by_the_config() -> None:
    assert set(SPREAD) == set(WEIGHT_INITS)
    choices = {p.name: p.choices for p in section_params(ModelConfig)}
    assert choices["init"] == tuple(WEIGHT_INITS)
    assert choices["bias_init"] == tuple(BIAS_INITS)


@pytest.mark.parametrize("scheme", SPREAD)
def test_weight_schemes_give_their_textbook_spread(scheme: str) -> None:
    weight = wide_linear(scheme).weight.detach()
    std, uniform = SPREAD[scheme]
    assert weight.std().item() == pytest.approx(std, rel=0.03)
    # A uniform draw never leaves sqrt(3) std; 120,000 normal draws always do.
    assert (weight.abs().max().item() <= math.sqrt(3) * std * 1.001) == uniform


def test_orthogonal_square_layer_has_orthonormal_rows() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(layers=[layer("Linear", out_features=64), layer("Linear")], init="orthogonal"), (64,), 3)
    weight = model.fc1.weight.detach()
    assert torch.allclose(weight @ weight.T, torch.eye(64), atol=1e-5)


def test_zeros_bias_empties_every_bias_and_keeps_default_weights() -> None:
    plain, zeroed = wide_linear(), wide_linear(bias_init="zeros")
    assert torch.equal(zeroed.bias, torch.zeros(FAN_OUT))
    assert plain.bias.abs().sum() > 0
    assert torch.equal(zeroed.weight, plain.weight)


def test_default_scheme_leaves_pytorchs_initialisation_alone() -> None:
    torch.manual_seed(1)
    built = build_model(ModelConfig(layers=lenet5()), (1, 28, 28), 10)
    torch.manual_seed(1)
    reference = build_model(ModelConfig(layers=lenet5()), (1, 28, 28), 10)
    init_parameters(reference, "default", "default")
    for key, value in built.state_dict().items():
        assert torch.equal(value, reference.state_dict()[key])


def test_schemes_reach_convs_inside_blocks_but_not_batchnorm() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(layers=small_resnet(), init="orthogonal", bias_init="zeros"), (3, 16, 16), 10)
    block = model.res2
    for conv in (block.conv1, block.conv2, block.skip[0]):
        matrix = conv.weight.detach().flatten(1)
        if matrix.shape[0] > matrix.shape[1]:  # more rows than columns: the columns are orthonormal
            matrix = matrix.T
        assert torch.allclose(matrix @ matrix.T, torch.eye(matrix.shape[0]), atol=1e-5)
    for norm in (model.bn1, block.bn1, block.bn2, block.skip[1]):
        assert torch.equal(norm.weight, torch.ones_like(norm.weight))
        assert torch.equal(norm.bias, torch.zeros_like(norm.bias))


@pytest.mark.parametrize(
    ("scheme", "bias", "field"), [("lecun", "default", "model.init"), ("default", "ones", "model.bias_init")]
)
def test_unknown_scheme_is_a_config_error_naming_the_field(scheme: str, bias: str, field: str) -> None:
    with pytest.raises(ConfigError, match="unknown scheme") as caught:
        init_parameters(nn.Linear(2, 2), scheme, bias)
    assert caught.value.field == field
