"""Composite layers that torch.nn does not ship, so a small ResNet can be written as a layer list.

The code view copies these classes verbatim into the generated source, so they must stay plain,
self-contained PyTorch (``torch`` and ``nn`` only).
"""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """ResNet basic block: conv-BN-ReLU-conv-BN plus the input, then ReLU.

    The skip path is the identity, or a 1x1 conv + BN projection when the stride or the
    channel count changes (the input must be reshaped to be added).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.skip: nn.Module = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )
        else:
            self.skip = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.skip(x))


# ----------------------------------------------------------------------------- sequences
#
# torch's recurrent layers return (output, state) tuples and attention returns (output,
# weights), so they cannot sit in an nn.Sequential as they are. These subclasses keep torch's
# own parameters (and state_dict keys: gru1.weight_ih_l0) and return one tensor.


class Transpose(nn.Module):
    """Swap the two axes of a sequence: (batch, steps, features) <-> (batch, channels, length)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2)


def recurrent_steps(output: torch.Tensor, steps: str, bidirectional: bool) -> torch.Tensor:
    """Every step's output, or the last one: for a bidirectional layer the backward direction
    has read the whole sequence at step 0, so its half is taken there."""
    if steps == "all":
        return output
    if not bidirectional:
        return output[:, -1]
    forward, backward = output.chunk(2, dim=-1)
    return torch.cat([forward[:, -1], backward[:, 0]], dim=-1)


class SequenceGRU(nn.GRU):
    """nn.GRU on (batch, steps, features), returning the last step's output or every step's."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        steps: str = "last",
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias=bias, batch_first=True, dropout=dropout, bidirectional=bidirectional
        )
        self.steps = steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return recurrent_steps(super().forward(x)[0], self.steps, self.bidirectional)


class SequenceLSTM(nn.LSTM):
    """nn.LSTM on (batch, steps, features), returning the last step's output or every step's."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        steps: str = "last",
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias=bias, batch_first=True, dropout=dropout, bidirectional=bidirectional
        )
        self.steps = steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return recurrent_steps(super().forward(x)[0], self.steps, self.bidirectional)


class SelfAttention(nn.MultiheadAttention):
    """Multi-head self-attention over the steps of (batch, steps, features), plus its input."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__(embed_dim, num_heads, dropout=dropout, bias=bias, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return x + super().forward(x, x, x, need_weights=False)[0]
