"""shapes.py is pure arithmetic; these tests hold it to the real torch modules build.py makes.

Every catalog layer type (with its interesting parameter combinations) and several whole stacks
are built and run on a dummy batch: each layer's output shape and parameter count must equal
what shape inference predicted.
"""

from __future__ import annotations

import pytest
import torch

from workbench.model.build import build_model
from workbench.model.catalog import CODE, LAYER_TYPES
from workbench.model.shapes import analyse
from workbench.schema.config import LayerSpec, ModelConfig

from .stacks import attention_stack, cifar_tutorial, layer, lenet5, mlp, recurrent_stack, small_resnet, text_cnn

# (input shape per sample, layers under test). Non-square images catch height/width mix-ups.
LAYER_CASES: dict[str, tuple[tuple[int, ...], list[LayerSpec]]] = {
    "Linear": ((20,), [layer("Linear", out_features=7)]),
    "Linear-no-bias": ((20,), [layer("Linear", out_features=7, bias=False)]),
    "Conv2d": ((3, 9, 7), [layer("Conv2d", out_channels=5, kernel_size=3)]),
    "Conv2d-stride-padding-no-bias": (
        (3, 9, 7),
        [layer("Conv2d", out_channels=4, kernel_size=4, stride=2, padding=1, bias=False)],
    ),
    "MaxPool2d": ((2, 9, 7), [layer("MaxPool2d", kernel_size=2)]),
    "MaxPool2d-stride-padding": ((2, 9, 7), [layer("MaxPool2d", kernel_size=3, stride=2, padding=1)]),
    "AvgPool2d": ((2, 9, 7), [layer("AvgPool2d", kernel_size=3, stride=1, padding=1)]),
    "AdaptiveAvgPool2d": ((2, 9, 7), [layer("AdaptiveAvgPool2d", output_size=3)]),
    "BatchNorm1d-features": ((6,), [layer("BatchNorm1d")]),
    "BatchNorm1d-channels-length": ((6, 5), [layer("BatchNorm1d", num_features=6)]),
    "BatchNorm1d-no-affine": ((6,), [layer("BatchNorm1d", affine=False)]),
    "BatchNorm2d": ((4, 5, 3), [layer("BatchNorm2d", eps=1e-3, momentum=0.2)]),
    "Dropout": ((10,), [layer("Dropout", p=0.3)]),
    "Flatten": ((2, 3, 4), [layer("Flatten")]),
    "ReLU": ((3, 4, 4), [layer("ReLU")]),
    "LeakyReLU": ((3, 4, 4), [layer("LeakyReLU", negative_slope=0.2)]),
    "GELU": ((3, 4, 4), [layer("GELU", approximate="tanh")]),
    "SiLU": ((3, 4, 4), [layer("SiLU")]),
    "Sigmoid": ((5,), [layer("Sigmoid")]),
    "Tanh": ((5,), [layer("Tanh")]),
    "ResidualBlock-identity-skip": ((4, 8, 6), [layer("ResidualBlock", out_channels=4)]),
    "ResidualBlock-stride-2": ((4, 9, 7), [layer("ResidualBlock", out_channels=4, stride=2)]),
    "ResidualBlock-more-channels": ((4, 8, 6), [layer("ResidualBlock", out_channels=6)]),
    # Sequences: (steps, features) for recurrent layers and attention, (channels, length) for Conv1d.
    "Conv1d": ((3, 11), [layer("Conv1d", out_channels=5, kernel_size=3)]),
    "Conv1d-stride-padding-no-bias": ((3, 11), [layer("Conv1d", out_channels=4, kernel_size=4, stride=2, padding=1, bias=False)]),
    "MaxPool1d": ((2, 11), [layer("MaxPool1d", kernel_size=2)]),
    "AvgPool1d-stride-padding": ((2, 11), [layer("AvgPool1d", kernel_size=3, stride=2, padding=1)]),
    "AdaptiveAvgPool1d": ((2, 11), [layer("AdaptiveAvgPool1d", output_size=3)]),
    "LayerNorm-sequence": ((5, 6), [layer("LayerNorm")]),
    "LayerNorm-image-no-bias": ((3, 4, 5), [layer("LayerNorm", normalized_shape=5, bias=False)]),
    "LayerNorm-no-affine": ((6,), [layer("LayerNorm", elementwise_affine=False)]),
    "GroupNorm-image": ((6, 4, 5), [layer("GroupNorm", num_groups=3)]),
    "GroupNorm-sequence-no-affine": ((8, 5), [layer("GroupNorm", num_groups=2, affine=False)]),
    "Transpose": ((5, 3), [layer("Transpose")]),
    "GRU-last": ((7, 5), [layer("GRU", hidden_size=6)]),
    "GRU-all-two-layers-bidirectional": (
        (7, 5),
        [layer("GRU", hidden_size=6, num_layers=2, dropout=0.1, bidirectional=True, steps="all")],
    ),
    "LSTM-last-bidirectional-no-bias": ((7, 5), [layer("LSTM", hidden_size=6, bidirectional=True, bias=False)]),
    "LSTM-all-three-layers": ((7, 5), [layer("LSTM", hidden_size=4, num_layers=3, steps="all")]),
    "SelfAttention": ((7, 8), [layer("SelfAttention", num_heads=2)]),
    "SelfAttention-no-bias": ((7, 6), [layer("SelfAttention", num_heads=3, bias=False, dropout=0.1)]),
    # Every backbone is checked in test_backbones.py; grey 8x8 images are resized to 3x32x32.
    "Backbone": (
        (1, 8, 8),
        [layer("Backbone", model="mobilenet_v3_small", weights="none", freeze="none", out_features=8, input_size=32)],
    ),
}

#: Cases whose inputs are token ids below this vocabulary size (a text dataset), not numbers.
VOCAB = 13
TOKEN_CASES: dict[str, tuple[tuple[int, ...], list[LayerSpec]]] = {
    "Embedding": ((9,), [layer("Embedding", embedding_dim=4)]),
    "Embedding-larger-vocabulary": ((9,), [layer("Embedding", num_embeddings=20, embedding_dim=4)]),
}

STACKS = {
    "lenet5-mnist": ((1, 28, 28), lenet5(), 10),
    "cifar-tutorial": ((3, 32, 32), cifar_tutorial(), 10),
    "small-resnet": ((3, 16, 16), small_resnet(), 10),
    "mlp-with-batchnorm": ((2, 4, 4), mlp(), 3),
    "tiny-transformer-on-steps": ((7, 8), attention_stack(), 3),
    "text-cnn-with-groups": ((9,), text_cnn(), 4),
    "recurrent-with-groups": ((9,), recurrent_stack(), 4),
}


def assert_matches_torch(layers: list[LayerSpec], input_shape: tuple[int, ...], num_outputs: int, vocab_size: int = 0) -> None:
    analysis = analyse(layers, input_shape, num_outputs, vocab_size=vocab_size)
    assert analysis.ok, analysis.error
    model = build_model(ModelConfig(layers=layers), input_shape, num_outputs, vocab_size=vocab_size).eval()
    # A backbone's input is resized before the model: the analysis's input shape is what it gets.
    x = torch.randint(0, vocab_size, (2, *input_shape)) if vocab_size else torch.randn(2, *analysis.input_shape)
    modules = dict(model.named_modules())
    for info in analysis.layers:
        module = modules[f"{info.group}.{info.name}" if info.group else info.name]
        x = module(x)
        assert tuple(x.shape[1:]) == info.output_shape, f"{info.name}: output shape"
        assert sum(p.numel() for p in module.parameters()) == info.num_params, f"{info.name}: parameter count"
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params


@pytest.mark.parametrize("case", LAYER_CASES)
def test_each_layer_type_predicts_torchs_output_shape_and_parameter_count(case: str) -> None:
    input_shape, layers = LAYER_CASES[case]
    # A Flatten + Linear head makes any stack a complete model for a 3-output task.
    assert_matches_torch([*layers, layer("Flatten"), layer("Linear")], input_shape, 3)


@pytest.mark.parametrize("case", TOKEN_CASES)
def test_layers_reading_token_ids_predict_torchs_output_shape_and_parameter_count(case: str) -> None:
    input_shape, layers = TOKEN_CASES[case]
    assert_matches_torch([*layers, layer("Flatten"), layer("Linear")], input_shape, 3, vocab_size=VOCAB)


@pytest.mark.parametrize("stack", STACKS)
def test_whole_stacks_predict_torchs_shapes_and_parameter_counts(stack: str) -> None:
    input_shape, layers, num_outputs = STACKS[stack]
    tokens = layers[0].type == "Embedding"
    assert_matches_torch(layers, input_shape, num_outputs, vocab_size=VOCAB if tokens else 0)


def test_every_catalog_layer_type_is_checked_against_torch() -> None:
    covered = {spec.type for _, layers in (*LAYER_CASES.values(), *TOKEN_CASES.values()) for spec in layers}
    assert covered == set(LAYER_TYPES) - {CODE}  # the user's class: built and counted in test_code_model.py
