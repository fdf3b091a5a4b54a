"""A person's own files as samples of a run's dataset, stored as the dataset stores its own.

``workbench predict`` turns each file into what the dataset's loader would have produced for
it, before normalisation: uint8 (C, H, W) pixels for images, float32 feature values for rows.
The normalisation, the model and the class names are the engine's business.

Images. A user's image folder is read by the very function that read the training images
(``decode_image``: any mode to RGB, resized to the option's size), so a file is prepared exactly
like the samples the model learned from. The fixed-size sets (digits, MNIST, CIFAR, ...) are
different: their samples came prepared (MNIST's digits centred in 20x20 boxes of a 28x28 frame,
digits' 8x8 averages of 32x32 bitmaps), so an image of another size, resized here, would be a
picture the model never saw the like of, and it would still answer confidently. Such a file is
refused with its size and the dataset's, unless ``resize`` asks for it anyway. Colour and grey
convert into each other as torchvision does (ITU-R 601 luma; grey copied into R, G and B); an
image with transparent pixels is refused (which background was meant is unknown), and so is one
of more than 8 bits per channel (PIL would clip its values, not scale them).

Rows. A CSV file with a header; its columns must include every feature of the dataset, by
name, in any order. The target column may be there (its value is shown as the true answer);
any other column is refused, since a misnamed feature would otherwise be silently missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.data.registry import DatasetInfo, dataset_options
from workbench.data.sources import bundled, spirals
from workbench.data.sources.csv_table import numeric_cells, read_rows, read_table
from workbench.data.sources.image_folder import IMAGE_EXTENSIONS, decode_image
from workbench.errors import DataError
from workbench.schema.config import DataConfig

#: PIL modes of more than 8 bits per channel (or floats): converting them clips, not scales.
_WIDE_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")


class ImageSizeError(DataError):
    """An image whose size is not a fixed-size dataset's: refused unless resizing is asked for
    (``reason`` says why without naming the command line's way of asking)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason}; pass --resize to resize anyway")
        self.reason = reason


@dataclass(frozen=True)
class Sample:
    source: str  # the file, and for rows the line: "rows.csv line 3"
    values: np.ndarray  # as the dataset stores a sample: uint8 (C, H, W) or float32 (F,)
    label: str | None = None  # a row's target column, as written


def read_samples(files: list[Path], data: DataConfig, info: DatasetInfo, *, resize: bool = False) -> list[Sample]:
    """Every sample in ``files``, prepared for the dataset of ``data``; one line for any that cannot be."""
    samples: list[Sample] = []
    for path in files:
        if not path.is_file():
            raise DataError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
        if info.kind == "image":
            samples.append(Sample(str(path), _image(path, data, info, resize)))
        else:
            samples.extend(_rows(path, data, info))
    return samples


def feature_names(data: DataConfig) -> tuple[tuple[str, ...], str]:
    """The names of a tabular dataset's feature columns, in the model's order, and of its target."""
    if data.dataset == "csv":
        table = read_table(dataset_options(data))
        return table.feature_names, table.target_name
    if data.dataset == "diabetes":
        return bundled.DIABETES_FEATURE_NAMES, "target"
    if data.dataset == "spirals":
        return spirals.FEATURE_NAMES, "class"
    raise DataError(f"dataset {data.dataset}: has no named feature columns to read rows by")


# ----------------------------------------------------------------------------- images


def _image(path: Path, data: DataConfig, info: DatasetInfo, resize: bool) -> np.ndarray:
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        raise DataError(f"{path}: not an image file ({', '.join(IMAGE_EXTENSIONS)}); the run's dataset {info.name} is images")
    if data.dataset == "image-folder":  # prepared by the function that prepared the training images
        return decode_image(str(path), dataset_options(data)["size"])
    return _fixed_size_image(path, info, resize)


def _fixed_size_image(path: Path, info: DatasetInfo, resize: bool) -> np.ndarray:
    from PIL import Image

    channels, height, width = info.input_shape
    try:
        with Image.open(path) as image:
            image.load()
            _refuse_wide_or_transparent(path, image)
            if image.size != (width, height) and not resize:
                raise ImageSizeError(
                    f"{path}: {image.width}x{image.height} pixels, but {info.name} images are {width}x{height}; "
                    "resizing changes what the model sees (stroke width, margins), so its answer could mislead"
                )
            pixels = image.convert("L" if channels == 1 else "RGB")
            if pixels.size != (width, height):
                pixels = pixels.resize((width, height), Image.Resampling.BILINEAR)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise DataError(f"{path}: not a readable image ({error})") from None
    array = np.asarray(pixels, dtype=np.uint8)
    return np.ascontiguousarray(array[None] if channels == 1 else array.transpose(2, 0, 1))


def _refuse_wide_or_transparent(path: Path, image: Any) -> None:
    if image.mode in _WIDE_MODES:
        raise DataError(f"{path}: a {image.mode} image (more than 8 bits per channel); save it with 8 bits per channel")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        lowest_alpha, _ = image.convert("RGBA").getchannel("A").getextrema()
        if lowest_alpha < 255:
            raise DataError(
                f"{path}: has transparent pixels, and which background was meant is unknown; "
                "flatten it onto the background its subject should have"
            )


# ----------------------------------------------------------------------------- rows


def _rows(path: Path, data: DataConfig, info: DatasetInfo) -> list[Sample]:
    if path.suffix.lower() != ".csv":
        raise DataError(f"{path}: not a .csv file; the run's dataset ({info.name}) takes rows of numbers")
    features, target = feature_names(data)
    dataset = f"the run's CSV file {dataset_options(data)['path']}" if data.dataset == "csv" else info.name
    header, lines, rows = read_rows(path)
    unknown = [name for name in header if name not in features and name != target]
    if unknown:
        raise DataError(f"{path}: column {unknown[0]!r} is not a feature of {dataset}; its features: {', '.join(features)}")
    missing = [name for name in features if name not in header]
    if missing:
        raise DataError(f"{path}: no column {missing[0]!r}; the features of {dataset} are {', '.join(features)}")
    if not rows:
        raise DataError(f"{path}: no rows under the header")
    cells = np.array(rows, dtype=str).reshape(len(rows), len(header))
    values = numeric_cells(cells[:, [header.index(name) for name in features]], lines, list(features), str(path))
    labels = cells[:, header.index(target)] if target in header else [None] * len(rows)
    return [
        Sample(f"{path} line {line}", row, None if label is None else str(label).strip())
        for line, row, label in zip(lines, values, labels, strict=True)
    ]
