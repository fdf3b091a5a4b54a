"""Layer stacks shared by the model tests (fresh lists each call: specs are mutable)."""

from __future__ import annotations

from typing import Any

from workbench.schema.config import LayerSpec


def layer(type: str, name: str = "", group: str = "", **params: Any) -> LayerSpec:
    return LayerSpec(type=type, name=name, params=params, group=group)


def lenet5() -> list[LayerSpec]:
    """LeNet-5 for 28x28 MNIST (padding 2 stands in for the original 32x32 input)."""
    return [
        layer("Conv2d", out_channels=6, kernel_size=5, padding=2),
        layer("ReLU"),
        layer("MaxPool2d", kernel_size=2),
        layer("Conv2d", out_channels=16, kernel_size=5),
        layer("ReLU"),
        layer("MaxPool2d", kernel_size=2),
        layer("Flatten"),
        layer("Linear", out_features=120),
        layer("ReLU"),
        layer("Linear", out_features=84),
        layer("ReLU"),
        layer("Linear", out_features="auto"),
    ]


def cifar_tutorial() -> list[LayerSpec]:
    """The net of PyTorch's "Training a classifier" CIFAR-10 tutorial."""
    return [
        layer("Conv2d", out_channels=6, kernel_size=5),
        layer("ReLU"),
        layer("MaxPool2d", kernel_size=2, stride=2),
        layer("Conv2d", out_channels=16, kernel_size=5),
        layer("ReLU"),
        layer("MaxPool2d", kernel_size=2, stride=2),
        layer("Flatten"),
        layer("Linear", out_features=120),
        layer("ReLU"),
        layer("Linear", out_features=84),
        layer("ReLU"),
        layer("Linear", out_features=10),
    ]


def small_resnet() -> list[LayerSpec]:
    return [
        layer("Conv2d", out_channels=8, kernel_size=3, padding=1, bias=False),
        layer("BatchNorm2d"),
        layer("ReLU"),
        layer("ResidualBlock", out_channels=8),
        layer("ResidualBlock", out_channels=16, stride=2),
        layer("AdaptiveAvgPool2d", output_size=1),
        layer("Flatten"),
        layer("Linear"),
    ]


def mlp() -> list[LayerSpec]:
    return [
        layer("Flatten"),
        layer("Linear", out_features=32),
        layer("BatchNorm1d"),
        layer("GELU", approximate="tanh"),
        layer("Dropout", p=0.25),
        layer("Linear", out_features=16, bias=False),
        layer("LeakyReLU", negative_slope=0.1),
        layer("Linear", out_features="auto"),
    ]


def attention_stack() -> list[LayerSpec]:
    """A transformer-like block on (steps, features): attention and a feed-forward, each normalised."""
    return [
        layer("SelfAttention", num_heads=2),
        layer("LayerNorm"),
        layer("Linear", out_features=16),
        layer("GELU"),
        layer("Linear", out_features=8),
        layer("LayerNorm"),
        layer("Flatten"),
        layer("Linear"),
    ]


def text_cnn() -> list[LayerSpec]:
    """Embedded tokens convolved along the steps, in the tutorial's named blocks."""
    return [
        layer("Embedding", embedding_dim=6),
        layer("Transpose"),
        layer("Conv1d", group="features", out_channels=8, kernel_size=3, padding=1),
        layer("GroupNorm", group="features", num_groups=2),
        layer("SiLU", group="features"),
        layer("MaxPool1d", group="features", kernel_size=2),
        layer("AdaptiveAvgPool1d", group="features", output_size=1),
        layer("Flatten", group="classifier"),
        layer("Linear", group="classifier"),
    ]


def recurrent_stack() -> list[LayerSpec]:
    """Embedded tokens read by an LSTM then a GRU, in named blocks."""
    return [
        layer("Embedding", group="encoder", embedding_dim=6),
        layer("LSTM", group="encoder", hidden_size=5, steps="all"),
        layer("GRU", group="encoder", hidden_size=7, bidirectional=True),
        layer("LeakyReLU", group="head"),
        layer("Linear", group="head"),
    ]
