"""The network of PyTorch's "Training a classifier" tutorial, as a class of your own.

Workbench trains it with ``[model] code = "nets.py:Net"`` (the tutorial-net preset). The
tutorial's ``Net`` reads CIFAR-10's 3x32x32 pictures with 5x5 convolutions; the preset trains on
the bundled 8x8 digits, so ``conv1`` takes one channel and both convolutions are 3x3 with a
padding of 1. Each pooling halves the picture (8 -> 4 -> 2), which leaves 16 x 2 x 2 numbers
for ``fc1`` where the tutorial had 16 x 5 x 5. Everything else is the tutorial's.
"""

import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)  # the tutorial: nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 3, padding=1)  # the tutorial: nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 2 * 2, 120)  # the tutorial: nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except the batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
