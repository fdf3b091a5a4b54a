"""Write the my-dataset preset's example data (presets/my-dataset/) from the bundled digits:
small grey PNG pictures and the two text files of ``path label`` lines that ``MyDataset`` reads.

    python -m scripts.make_my_dataset

The pictures are the first digits of each class in the bundled set (its 0..16 levels scaled to
0..255, as Workbench stores them), :data:`TRAIN_PER_CLASS` of each for ``train.txt`` and the
next :data:`TEST_PER_CLASS` for ``test.txt``: tens of files of about a hundred bytes, so the
package stays small. Running it again writes the same bytes (PNG without a time stamp).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from workbench.data.sources.bundled import bundled_file

FOLDER = Path(__file__).resolve().parent.parent / "presets" / "my-dataset"
TRAIN_PER_CLASS = 6
TEST_PER_CLASS = 2


def digit_pictures() -> tuple[np.ndarray, np.ndarray]:
    """The bundled digits as stored by Workbench: uint8 (N, 8, 8) 0..255 and their labels."""
    with np.load(bundled_file("digits"), allow_pickle=False) as arrays:
        pixels, labels = arrays["images"], arrays["target"]
    return np.rint(pixels * (255 / 16)).astype(np.uint8), labels.astype(np.int64)


def png_bytes(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def write(folder: Path = FOLDER, train_per_class: int = TRAIN_PER_CLASS, test_per_class: int = TEST_PER_CLASS) -> list[Path]:
    """Write the pictures and train.txt / test.txt into ``folder``; returns the files written.
    (benchmarks/code_dataset_speed.py writes a larger set the same way: every digit there is.)"""
    pictures, labels = digit_pictures()
    (folder / "images").mkdir(parents=True, exist_ok=True)
    lines: dict[str, list[str]] = {"train.txt": [], "test.txt": []}
    written = []
    for digit in range(10):
        taken = np.flatnonzero(labels == digit)[: train_per_class + test_per_class]
        for rank, index in enumerate(taken):
            name = f"images/{digit}-{rank:02d}.png"
            (folder / name).write_bytes(png_bytes(pictures[index]))
            written.append(folder / name)
            lines["train.txt" if rank < train_per_class else "test.txt"].append(f"{name} {digit}")
    for file, entries in lines.items():
        (folder / file).write_text("\n".join(entries) + "\n")
        written.append(folder / file)
    return written


def main() -> None:
    files = write()
    print(f"wrote {len(files)} files to {FOLDER} ({sum(f.stat().st_size for f in files):,} bytes)")


if __name__ == "__main__":
    main()
