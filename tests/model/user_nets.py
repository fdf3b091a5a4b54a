"""The user's files the code-model tests write: the tutorial's ``Net`` (conv1, a shared pool,
conv2, fc1-fc3) and its blocks ``Net`` (``Sequential(OrderedDict(...))``), sized for the
bundled digits (1x8x8, 10 classes)."""

from __future__ import annotations

import textwrap
from pathlib import Path

TUTORIAL_NET = """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self, hidden=32):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 3, padding=1)
            self.fc1 = nn.Linear(16 * 2 * 2, hidden)
            self.fc2 = nn.Linear(hidden, 24)
            self.fc3 = nn.Linear(24, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)
"""

BLOCKS_NET = """
    from collections import OrderedDict

    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Sequential(OrderedDict([
                ("conv1", nn.Conv2d(1, 8, 3, padding=1)),
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),
            ]))
            self.dense = nn.Sequential(OrderedDict([
                ("dense1", nn.Linear(8 * 4 * 4, 32)),
                ("relu2", nn.ReLU()),
                ("dense2", nn.Linear(32, 10)),
            ]))

        def forward(self, x):
            return self.dense(self.conv(x).view(x.size(0), -1))
"""


def write(folder: Path, name: str, text: str) -> Path:
    """``text`` (indented as in a test) as the user's file ``folder/name``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path
