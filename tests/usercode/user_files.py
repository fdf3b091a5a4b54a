"""A user's own code written as real files into a test's folder, for the tests of what a run
keeps of it and how its failures read: a small ``Points`` data set (four features, two
classes) and a ``Net`` whose forward or ``__getitem__`` can be told to fail, and an experiment
file naming them as a user writes it (paths relative to the file's folder)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

#: ``fail_when``: a file whose existence makes every item fail to read (a test makes it between epochs).
POINTS = """
    import os

    import torch
    from torch.utils.data import Dataset


    class Points(Dataset):
        classes = ["low", "high"]

        def __init__(self, n=64, fail_when=""):
            generator = torch.Generator().manual_seed(0)
            self.x = torch.randn(n, 4, generator=generator)
            self.y = (self.x.sum(1) > 0).long()
            self.fail_when = fail_when

        def __len__(self):
            return len(self.x)

        def __getitem__(self, index):
            if self.fail_when and os.path.exists(self.fail_when):
                raise ValueError(f"row {index} cannot be read")
            return self.x[index], int(self.y[index])
"""

#: ``fail_call``: the training forward call (counted from 1) that fails, by ``how``.
NETS = """
    import sys

    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self, hidden=8, fail_call=-1, how="raise"):
            super().__init__()
            self.fc1 = nn.Linear(4, hidden)
            self.fc2 = nn.Linear(hidden, 2)
            self.calls = 0
            self.fail_call, self.how = fail_call, how

        def forward(self, x):
            if self.training:
                self.calls += 1
                if self.calls == self.fail_call:
                    if self.how == "exit":
                        sys.exit(3)
                    raise ValueError(f"call {self.calls} went wrong")
            return self.fc2(torch.relu(self.fc1(x)))
"""

#: The line of NETS's ``raise``, and of its ``sys.exit``, as the user's editor numbers them.
NETS_RAISE_LINE = 21
NETS_EXIT_LINE = 20
#: The line of POINTS's ``raise``.
POINTS_RAISE_LINE = 21


def write_user_code(folder: Path, net_args: str = "", data_args: str = "n = 64", extra: str = "") -> Path:
    """nets.py, points.py and ``experiment.toml`` naming them in ``folder``; returns the experiment file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nets.py").write_text(textwrap.dedent(NETS).lstrip())
    (folder / "points.py").write_text(textwrap.dedent(POINTS).lstrip())
    experiment = folder / "experiment.toml"
    experiment.write_text(
        textwrap.dedent(
            f"""\
            name = "mine"
            [data]
            dataset = "code"
            batch_size = 16
            [data.options]
            code = "points.py:Points"
            args = {{{data_args}}}
            [model]
            code = "nets.py:Net"
            args = {{{net_args}}}
            [train]
            epochs = 2
            {extra}
            """
        )
    )
    return experiment


def forget_user_modules(root: Path) -> None:
    """Take the modules whose file lies under ``root`` (a test's folders of user code) out of
    ``sys.modules``: a later test in this process, which may check that the app imported none
    of its own user code, or import a module of the same name, does not meet them."""
    root = root.resolve()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and Path(file).resolve().is_relative_to(root):
            del sys.modules[name]
