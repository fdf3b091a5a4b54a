"""A few samples of a dataset for the app's Data screen, before any training.

Samples come from the fixed test split: it is the same whatever the seed, and for downloaded
sets it is the smaller file to read. Classification previews visit the classes in turn, so a
handful of samples already shows every class. Nothing here fetches from the network, and
offline sets need no torch at all, so the screen can show them while torch is still loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.data.download import download, missing_message
from workbench.data.picking import pick_samples
from workbench.data.raw import RawSplit
from workbench.data.reading import read_raw
from workbench.data.registry import DatasetInfo, dataset_options, describe, is_cached
from workbench.data.sources import first_marker
from workbench.data.sources.code_dataset import code_facts, picture
from workbench.data.sources.csv_table import read_table
from workbench.data.sources.image_folder import decode_images, scan_image_folder
from workbench.data.sources.torchvision_sets import read_split
from workbench.errors import DataError
from workbench.schema.config import DataConfig


@dataclass(frozen=True)
class Sample:
    image: np.ndarray | None  # uint8 (H, W, C) as stored, for image datasets
    features: tuple[float, ...] | None  # the raw values, for tabular data and points
    label: str  # class name, or the regression target as written in the data
    text: str = ""  # token sequences as read (``··A····C··``); their ids say little to a person
    #: The feature columns' names and the target column's, where the data names them (a CSV's
    #: header: ``alcohol``, ``hue``, ... and ``class``); a preview labels its columns with them.
    names: tuple[str, ...] = ()
    target: str = ""


def preview_samples(data: DataConfig, count: int = 16) -> list[Sample]:
    info = describe(data)
    options = dataset_options(data)
    if info.name == "code":
        return _code_samples(options, count)
    split = _preview_split(info, options, count)
    names, target_name = _column_names(info, options)
    samples = []
    for inputs, target in zip(split.inputs, split.targets, strict=True):
        image = inputs.transpose(1, 2, 0) if info.kind == "image" else None
        # str() of a float32 is its shortest text (23.4, not 23.399999618530273).
        features = None if image is not None else tuple(float(str(v)) for v in inputs)
        label = info.class_names[int(target)] if info.task == "classification" else f"{float(target[0]):.6g}"
        text = first_marker.token_text(inputs, len(info.class_names)) if info.kind == "tokens" else ""
        samples.append(Sample(image, features, label, text, names, target_name))
    return samples


def _code_samples(options: dict[str, Any], count: int) -> list[Sample]:
    """A code data set's samples: those the probe's child sent back (the app never imports the
    user's class), pictures small enough to draw."""
    samples = []
    for sample in code_facts(options).samples[:count]:
        features = tuple(sample["features"]) if "features" in sample else None
        samples.append(Sample(picture(sample), features, str(sample["label"])))
    return samples


def _column_names(info: DatasetInfo, options: dict[str, Any]) -> tuple[tuple[str, ...], str]:
    """A CSV's feature and target column names (from its header, already parsed and cached)."""
    if info.name != "csv":
        return (), ""
    table = read_table(options)
    return table.feature_names, table.target_name


def _preview_split(info: DatasetInfo, options: dict[str, Any], count: int) -> RawSplit:
    """The shown samples of the test split, reading no more than needed."""
    classification = info.task == "classification"
    if info.name == "image-folder":  # decode only the images shown
        scan = scan_image_folder(options)
        picked = pick_samples(scan.test_labels, count, classification)
        files = tuple(scan.test_files[i] for i in picked)
        return RawSplit(decode_images(files, options["size"], options["workers"]), scan.test_labels[picked])
    if not info.offline:
        if not is_cached(info.name):
            raise DataError(missing_message(info.name, f"not downloaded yet ({info.download_mb} MB)"))
        download(info.name)  # at most unpacks the archives already in the cache
        split = read_split(info.name, train=False)
    else:
        split = read_raw(info.name, options).test
    return split.take(pick_samples(split.targets, count, classification))
