"""The code view: generated source is real PyTorch that builds the very model Workbench trains."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from workbench.errors import ConfigError
from workbench.model.build import build_model
from workbench.model.codegen import model_source
from workbench.model.shapes import analyse
from workbench.schema.config import LayerSpec, ModelConfig

from .stacks import attention_stack, layer, lenet5, mlp, recurrent_stack, small_resnet, text_cnn

STACKS: dict[str, tuple[Callable[[], list[LayerSpec]], tuple[int, ...]]] = {
    "lenet5": (lenet5, (1, 28, 28)),
    "small-resnet": (small_resnet, (3, 16, 16)),
    "mlp": (mlp, (2, 4, 4)),
    "attention": (attention_stack, (7, 8)),
    "text-cnn-with-groups": (text_cnn, (9,)),
    "recurrent-with-groups": (recurrent_stack, (9,)),
}
#: Token ids of the stacks that start with an Embedding are below this.
VOCAB = 13


def run_source(source: str) -> nn.Module:
    namespace: dict = {}
    exec(compile(source, "<model source>", "exec"), namespace)  # noqa: S102 - the point of the test
    return namespace["model"]


def vocab_of(layers: list[LayerSpec]) -> int:
    return VOCAB if layers[0].type == "Embedding" else 0


def source_of(layers: list[LayerSpec], input_shape: tuple[int, ...], init: str = "default", bias_init: str = "default") -> str:
    return model_source(analyse(layers, input_shape, 10, vocab_size=vocab_of(layers)), init, bias_init)


@pytest.mark.parametrize("stack", STACKS)
def test_executing_the_source_builds_the_same_modules_and_state_dict(stack: str) -> None:
    layers, input_shape = STACKS[stack]
    generated = run_source(source_of(layers(), input_shape))
    built = build_model(ModelConfig(layers=layers()), input_shape, 10, vocab_size=vocab_of(layers()))
    assert {k: v.shape for k, v in generated.state_dict().items()} == {k: v.shape for k, v in built.state_dict().items()}
    assert list(generated.state_dict()) == list(built.state_dict())
    assert repr(generated) == repr(built)  # every hyperparameter, eps and momentum included


@pytest.mark.parametrize(
    ("init", "bias_init"), [("kaiming_normal", "default"), ("orthogonal", "zeros"), ("default", "zeros"), ("default", "default")]
)
def test_source_spells_out_the_initialisation_so_the_same_seed_gives_the_same_weights(init: str, bias_init: str) -> None:
    torch.manual_seed(3)
    generated = run_source(source_of(small_resnet(), (3, 16, 16), init, bias_init))
    torch.manual_seed(3)
    built = build_model(ModelConfig(layers=small_resnet(), init=init, bias_init=bias_init), (3, 16, 16), 10)
    for key, value in built.state_dict().items():
        assert torch.equal(generated.state_dict()[key], value), key


def test_source_has_imports_explicit_sizes_and_no_init_code_by_default() -> None:
    source = source_of(lenet5(), (1, 28, 28))
    assert "from collections import OrderedDict\n\nimport torch\nfrom torch import nn\n" in source
    assert '("conv1", nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5, stride=1, padding=2)),  # -> (6, 28, 28)' in source
    assert '("pool1", nn.MaxPool2d(kernel_size=2, stride=2)),' in source
    assert '("fc1", nn.Linear(in_features=400, out_features=120)),  # -> (120,)' in source
    assert '("fc3", nn.Linear(in_features=84, out_features=10)),' in source
    assert "Parameters: 61,706." in source
    assert "nn.init" not in source
    assert "class ResidualBlock" not in source


def test_source_shows_parameters_that_differ_from_their_defaults_only() -> None:
    source = source_of(mlp(), (2, 4, 4))
    assert 'nn.GELU(approximate="tanh")' in source
    assert "nn.Linear(in_features=32, out_features=16, bias=False)" in source
    assert "nn.BatchNorm1d(num_features=32)" in source  # eps, momentum, affine at their defaults


def test_source_includes_the_residual_block_class_when_used() -> None:
    source = source_of(small_resnet(), (3, 16, 16))
    assert source.count("class ResidualBlock(nn.Module):") == 1
    assert '("res2", ResidualBlock(in_channels=8, out_channels=16, stride=2)),  # -> (16, 8, 8)' in source


def test_source_of_non_default_init_is_readable_code() -> None:
    source = source_of(lenet5(), (1, 28, 28), "kaiming_uniform", "zeros")
    assert (
        "for layer in model.modules():\n"
        "    if isinstance(layer, (nn.Linear, nn.Conv2d, nn.Conv1d)):\n"
        '        nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")\n'
        "        if layer.bias is not None:\n"
        "            nn.init.zeros_(layer.bias)\n"
    ) in source


def test_source_of_a_broken_stack_raises_its_error() -> None:
    with pytest.raises(ConfigError, match=r"^model\.layers\.0 \(fc1, Linear\): expects flat features"):
        source_of([layer("Linear")], (1, 28, 28))


def test_named_groups_become_nested_sequentials_in_the_source() -> None:
    source = source_of(text_cnn(), (9,))
    assert (
        '    ("transpose1", Transpose()),  # -> (6, 9)\n'
        '    ("features", nn.Sequential(OrderedDict([\n'
        '        ("conv1", nn.Conv1d(in_channels=6, out_channels=8, kernel_size=3, stride=1, padding=1)),  # -> (8, 9)\n'
    ) in source
    assert '    ("classifier", nn.Sequential(OrderedDict([\n        ("flatten1", nn.Flatten()),' in source
    assert "model(torch.zeros(1, 9, dtype=torch.long)).shape -> torch.Size([1, 10])" in source


def test_source_copies_the_helpers_a_block_uses_once() -> None:
    source = source_of(recurrent_stack(), (9,))
    assert source.count("def recurrent_steps(") == 1
    assert source.count("class SequenceGRU(nn.GRU):") == 1 and source.count("class SequenceLSTM(nn.LSTM):") == 1
    assert source.index("def recurrent_steps(") < source.index("class SequenceGRU(")
    assert "class ResidualBlock" not in source and "class SelfAttention" not in source
