"""A user's own data set classes written as real files into a test's folder: the tutorials'
``MyDataset(file)`` over a text file of ``path label`` lines with small PNG pictures, a data
set of CSV rows, and broken ones. Shared by the data tests and the Data screen's pilot tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from PIL import Image

#: The tutorials' MyDataset: a text file of ``path label`` lines, pictures read with PIL.
MYDATA = """
    from pathlib import Path

    import numpy as np
    import torch
    from PIL import Image
    from torch.utils.data import Dataset


    class MyDataset(Dataset):
        classes = ["circle", "square", "cross"]

        def __init__(self, file, grey=False):
            folder = Path(file).parent
            self.grey = grey
            self.samples = []
            for line in Path(file).read_text().splitlines():
                if line.strip():
                    path, label = line.split()
                    self.samples.append((folder / path, int(label)))

        def __len__(self):
            return len(self.samples)

        def __getitem__(self, index):
            path, label = self.samples[index]
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("L" if self.grey else "RGB"))
            x = torch.from_numpy(pixels.copy())
            x = x.unsqueeze(0) if self.grey else x.permute(2, 0, 1)
            return x, label
"""

#: Rows of a CSV file as regression samples: every column a feature but the last, the target.
CSV_ROWS = """
    import csv

    import torch
    from torch.utils.data import Dataset


    class Rows(Dataset):
        def __init__(self, file):
            with open(file, newline="") as handle:
                rows = list(csv.reader(handle))[1:]
            self.rows = [[float(cell) for cell in row] for row in rows]

        def __len__(self):
            return len(self.rows)

        def __getitem__(self, index):
            row = self.rows[index]
            return torch.tensor(row[:-1]), torch.tensor(row[-1:])
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def write_pictures(folder: Path, count: int = 30, size: int = 8, classes: int = 3, file: str = "train.txt") -> Path:
    """``count`` PNG pictures under ``folder/pictures`` and ``folder/<file>`` listing them with
    their labels (every class in turn); the class ``MyDataset`` beside them in mydata.py."""
    pictures = folder / "pictures"
    pictures.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(count)
    lines = []
    for index in range(count):
        label = index % classes
        pixels = (rng.random((size, size, 3)) * 60 + label * 90).astype(np.uint8)
        name = f"pictures/{file.split('.')[0]}-{index}.png"
        Image.fromarray(pixels).save(folder / name)
        lines.append(f"{name} {label}")
    (folder / file).write_text("\n".join(lines) + "\n")
    write(folder, "mydata.py", MYDATA)
    return folder / file


def write_csv_rows(folder: Path, count: int = 40) -> Path:
    """A CSV of ``count`` rows (3 features, a target that is their sum) and the class ``Rows``."""
    rng = np.random.default_rng(1)
    features = rng.normal(size=(count, 3))
    lines = ["a,b,c,target"] + [",".join(f"{v:.5f}" for v in [*row, row.sum()]) for row in features]
    (folder / "rows.csv").write_text("\n".join(lines) + "\n")
    write(folder, "rows.py", CSV_ROWS)
    return folder / "rows.csv"


def broken_dataset(folder: Path, getitem: str, length: int = 20, extra: str = "") -> Path:
    """``broken.py`` with a ``Broken`` data set of ``length`` items whose ``__getitem__`` body is
    ``getitem`` (``index`` is the item's index)."""
    body = textwrap.indent(textwrap.dedent(getitem).strip(), " " * 8)
    text = (
        "import math\nimport torch\nfrom torch.utils.data import Dataset\n\n\n"
        f"class Broken(Dataset):\n{textwrap.indent(textwrap.dedent(extra), '    ')}\n"
        f"    def __len__(self):\n        return {length}\n\n"
        f"    def __getitem__(self, index):\n{body}\n"
    )
    path = folder / "broken.py"
    path.write_text(text)
    return path
