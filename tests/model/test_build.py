"""build_model: the layer list becomes a real, trainable nn.Sequential with readable names."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from workbench.errors import ConfigError
from workbench.model.blocks import ResidualBlock
from workbench.model.build import build_model
from workbench.model.shapes import layer_names
from workbench.schema.config import LayerSpec, ModelConfig

from .stacks import layer, lenet5, mlp, recurrent_stack, small_resnet


def test_modules_are_named_like_the_layer_table() -> None:
    model = build_model(ModelConfig(layers=lenet5()), (1, 28, 28), 10)
    assert isinstance(model, nn.Sequential)
    assert [name for name, _ in model.named_children()] == layer_names(lenet5())
    assert isinstance(model.conv1, nn.Conv2d) and model.conv1.in_channels == 1
    assert isinstance(model.fc1, nn.Linear) and model.fc1.in_features == 400
    assert model.fc3.out_features == 10


def test_state_dict_keys_are_readable() -> None:
    keys = list(build_model(ModelConfig(layers=small_resnet()), (3, 16, 16), 10).state_dict())
    assert "conv1.weight" in keys
    assert "res2.skip.0.weight" in keys  # the projection of the downsampling block
    assert "fc1.bias" in keys


def test_an_impossible_stack_raises_the_error_naming_the_layer() -> None:
    layers = lenet5()
    layers[7].params["in_features"] = 100
    with pytest.raises(ConfigError, match=r"^model\.layers\.7 \(fc1, Linear\): in_features=100") as caught:
        build_model(ModelConfig(layers=layers), (1, 28, 28), 10)
    assert caught.value.field == "model.layers.7"


def test_a_layer_named_like_a_module_attribute_is_refused_readably() -> None:
    layers = [layer("Flatten", name="eval"), layer("Linear")]
    with pytest.raises(ConfigError, match=r"^model\.layers\.0 \(eval, Flatten\): the name 'eval' is taken by nn\.Sequential"):
        build_model(ModelConfig(layers=layers), (4,), 2)


def test_residual_block_projects_the_skip_only_when_the_shape_changes() -> None:
    same = ResidualBlock(8, 8)
    assert isinstance(same.skip, nn.Identity)
    for block in (ResidualBlock(8, 16), ResidualBlock(8, 8, stride=2)):
        assert isinstance(block.skip, nn.Sequential)
        assert isinstance(block.skip[0], nn.Conv2d) and block.skip[0].kernel_size == (1, 1)
        assert isinstance(block.skip[1], nn.BatchNorm2d)


def test_residual_block_adds_its_input_back() -> None:
    block = ResidualBlock(4, 4).eval()
    for module in (block.conv1, block.conv2):
        nn.init.zeros_(module.weight)  # the residual branch now outputs only BN's shift, 0
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(block(x), torch.relu(x))


@pytest.mark.parametrize(("stack", "input_shape"), [(mlp, (2, 4, 4)), (small_resnet, (3, 8, 8))], ids=["mlp", "resnet"])
def test_built_models_learn(stack, input_shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(layers=stack(), init="kaiming_normal"), input_shape, 3)
    x = torch.randn(32, *input_shape)
    y = torch.randint(0, 3, (32,))
    losses = training_losses(model, x, y, lr=0.01, steps=30)
    assert losses[-1] < 0.5 * losses[0]


def test_named_groups_are_nested_sequentials_with_the_tutorials_state_dict_keys() -> None:
    layers = [
        *(spec_in("conv", spec) for spec in lenet5()[:6]),
        layer("Flatten"),
        *(spec_in("dense", spec) for spec in lenet5()[7:]),
    ]
    model = build_model(ModelConfig(layers=layers), (1, 28, 28), 10)
    assert [name for name, _ in model.named_children()] == ["conv", "flatten1", "dense"]
    assert isinstance(model.conv, nn.Sequential) and isinstance(model.conv.conv1, nn.Conv2d)
    keys = list(model.state_dict())
    assert keys[0] == "conv.conv1.weight" and keys[-1] == "dense.fc3.bias"
    flat = build_model(ModelConfig(layers=lenet5()), (1, 28, 28), 10)
    assert [key.split(".", 1)[1] for key in keys] == list(flat.state_dict())  # same layers, one level deeper
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_a_group_named_like_a_module_attribute_is_refused_readably() -> None:
    layers = [layer("Flatten", group="train"), layer("Linear")]
    with pytest.raises(ConfigError, match=r"^model\.layers\.0\.group \(flatten1, Flatten\): the group name 'train' is taken"):
        build_model(ModelConfig(layers=layers), (4,), 2)


def test_sequence_models_learn() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(layers=recurrent_stack()), (9,), 3, vocab_size=13)
    x = torch.randint(0, 13, (32, 9))
    y = x[:, 0] % 3  # the class is read off the first token: the model must carry it to the end
    losses = training_losses(model, x, y, lr=0.02, steps=40)
    assert losses[-1] < 0.5 * losses[0]


def spec_in(group: str, spec: LayerSpec) -> LayerSpec:
    return LayerSpec(spec.type, spec.name, spec.params, group=group)


def training_losses(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, lr: float, steps: int) -> list[float]:
    """The losses of ``steps`` Adam steps on one fixed batch: a model that can learn overfits it."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
