"""A data set of your own, as the PyTorch tutorials write one: ``MyDataset(file)``, a subclass
of ``Dataset`` that reads a text file of ``path label`` lines and gives ``(picture, label)``.

Workbench trains it with ``data.dataset = "code"``, ``options.code = "mydata.py:MyDataset"``
and ``options.args = {file = "train.txt"}`` (the my-dataset preset). A picture's path is read
from the text file's folder, so the file and its pictures travel together. The shipped
pictures are 8x8 grey digits (scripts/make_my_dataset.py writes them from the bundled digits).
"""

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset


class MyDataset(Dataset):
    #: The names Workbench shows for the labels 0..9.
    classes = [str(digit) for digit in range(10)]

    def __init__(self, file: str) -> None:
        folder = Path(file).parent
        self.samples = []
        for line in Path(file).read_text().splitlines():
            if line.strip():
                path, label = line.split()
                self.samples.append((folder / path, int(label)))

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("L"))  # (8, 8) grey levels 0..255
        return torch.from_numpy(pixels.copy()).unsqueeze(0), label  # (1, 8, 8): one channel
