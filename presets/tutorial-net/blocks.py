"""The tutorial's network again, its layers in two named blocks: ``self.conv`` and ``self.dense``
are ``nn.Sequential(OrderedDict(...))``, so every layer keeps the name given here and Workbench
shows them as ``conv.conv1``, ``dense.dense2`` (the tutorial-net-blocks preset).

Sized for the bundled 8x8 digits as in nets.py (3x3 convolutions with a padding of 1, two
poolings: 16 x 2 x 2 numbers into the dense block); ``hidden`` is the width of the first dense
layer, a keyword argument set from the experiment file (``[model.args] hidden = 120``) or swept
(``--sweep model.args.hidden=64,120``).
"""

from collections import OrderedDict

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, hidden: int = 120, num_classes: int = 10) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            OrderedDict(
                [
                    ("conv1", nn.Conv2d(1, 6, 3, padding=1)),
                    ("relu1", nn.ReLU()),
                    ("pool1", nn.MaxPool2d(2)),
                    ("conv2", nn.Conv2d(6, 16, 3, padding=1)),
                    ("relu2", nn.ReLU()),
                    ("pool2", nn.MaxPool2d(2)),
                ]
            )
        )
        self.dense = nn.Sequential(
            OrderedDict(
                [
                    ("dense1", nn.Linear(16 * 2 * 2, hidden)),
                    ("relu1", nn.ReLU()),
                    ("dense2", nn.Linear(hidden, 84)),
                    ("relu2", nn.ReLU()),
                    ("dense3", nn.Linear(84, num_classes)),
                ]
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        x = x.view(x.size(0), -1)
        return self.dense(x)
