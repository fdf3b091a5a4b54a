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
