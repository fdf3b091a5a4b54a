"""Every dataset Workbench knows, described without loading it (and without torch).

The registry says what a dataset is (task, input shape, classes, sizes, source, licence,
whether it works offline, how big the download is) and which options it takes, as Param
schemas. The app's Data screen, config validation and the shape inference of the model editor
use it before torch has loaded. Facts that depend on options or on the user's files (spiral
arms, a CSV's columns, an image folder's classes) are read by :func:`describe`, cheaply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import paths
from workbench.data.sources import bundled, code_dataset, first_marker, spirals
from workbench.data.splitting import fixed_split_sizes, validation_size
from workbench.errors import ConfigError
from workbench.schema.config import DataConfig
from workbench.schema.params import Param, coerce_all

TASKS = ("classification", "regression")

#: Presets that train without a network; named whenever a download is missing.
OFFLINE_PRESETS = ("digits-cnn", "digits-mlp", "spirals-mlp", "diabetes-regression", "first-marker-gru")


@dataclass(frozen=True)
class DownloadFiles:
    """How a downloadable dataset lies in its cache folder, ``paths.datasets_dir() / name``."""

    folder: str  # where the files go, relative to the dataset's cache folder ("" = that folder)
    files: tuple[str, ...]  # what torchvision reads, relative to ``folder``
    archives: tuple[str, ...]  # what is downloaded (same place); enough to load offline
    url: str  # where a person can fetch the archives by hand
    total_bytes: int  # size of the archives, for download progress

    def ready(self, root: Path) -> bool:
        """The files torchvision reads are all there (existence only: checksums cost seconds)."""
        return all((root / self.folder / f).is_file() for f in self.files)

    def available(self, root: Path) -> bool:
        """Ready, or the archives are there for torchvision to unpack without a network."""
        return self.ready(root) or all((root / self.folder / f).is_file() for f in self.archives)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    task: str  # "classification" | "regression" (csv: the default of its `task` option)
    kind: str  # "image" | "tabular" | "points" | "tokens"
    source: str
    licence: str
    offline: bool
    download_mb: float | None
    options: tuple[Param, ...]
    help: str
    # Fixed facts of sets whose shape does not depend on options or files (else empty / 0).
    input_shape: tuple[int, ...] = ()
    class_names: tuple[str, ...] = ()
    train_size: int = 0
    test_size: int = 0
    download: DownloadFiles | None = None


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    task: str
    kind: str
    input_shape: tuple[int, ...]  # one sample, without the batch dimension
    num_outputs: int  # classes, or regression targets
    class_names: tuple[str, ...]  # empty for regression
    # The whole training split, before validation is carved from it. For a download not yet
    # loaded, the official sizes; Splits.info carries the sizes of the files actually read.
    train_size: int
    test_size: int
    source: str
    licence: str
    offline: bool
    cached: bool  # offline sets always; downloadable ones when their files are in the cache
    download_mb: float | None
    vocab_size: int = 0  # "tokens" sets: samples are token ids below it (only an Embedding reads them)


@dataclass(frozen=True)
class SplitSizes:
    """Samples in each split a run would use (after validation and subset)."""

    train: int
    val: int
    test: int


# ----------------------------------------------------------------------------- the catalogue

_TASK_OPTION = Param(
    "task", "choice", "classification", "classification (target holds labels) or regression (numbers)", choices=TASKS
)

_SPIRALS_OPTIONS = (
    Param("classes", "int", 3, "number of spiral arms, one class each", min=2, max=8),
    Param("samples_per_class", "int", 400, "points per arm", min=10, max=10000),
    Param(
        "noise",
        "float",
        0.02,
        "standard deviation of the jitter added to each point (the spiral's radius is 1)",
        min=0.0,
        max=0.5,
    ),
    Param("data_seed", "int", 0, "seed of the generated points; the same seed always gives the same points", min=0),
)

_FIRST_MARKER_OPTIONS = (
    Param("classes", "int", 4, "number of marker tokens, one class each", min=2, max=len(first_marker.MARKERS)),
    Param("length", "int", 24, "tokens per sequence", min=4, max=1024),
    Param("filler_tokens", "int", 12, "kinds of filler token between the markers", min=1, max=10000),
    Param("samples_per_class", "int", 500, "sequences per class", min=10, max=100000),
    Param("data_seed", "int", 0, "seed of the generated sequences; the same seed always gives the same ones", min=0),
)

_CSV_OPTIONS = (
    Param("path", "str", "", "CSV file whose first row names the columns"),
    Param("target", "str", "", "name of the column to predict (empty = the last column)"),
    _TASK_OPTION,
)

_IMAGE_FOLDER_OPTIONS = (
    Param("path", "str", "", "folder with a sub-folder of images per class, or train/ and test/ folders laid out so"),
    Param("size", "int", 32, "every image is resized to size x size RGB", min=8, max=512),
    Param(
        "storage",
        "choice",
        "auto",
        "memory: decode every image once; stream: decode per batch in worker processes; auto: memory if it fits in 1 GiB",
        choices=("auto", "memory", "stream"),
    ),
    Param("workers", "int", 2, "worker processes (threads when decoding into memory) that read images", min=0, max=64),
)

_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_CIFAR_LICENCE = "no formal licence; cite Krizhevsky (2009)"
_CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_CIFAR100_CLASSES = tuple(
    """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can
    castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin
    elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster
    man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck
    pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk
    skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger
    tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split()
)


def _mnist_like(folder: str, url: str, total_bytes: int) -> DownloadFiles:
    return DownloadFiles(folder, _MNIST_FILES, tuple(f + ".gz" for f in _MNIST_FILES), url, total_bytes)


def _cifar(base: str, batches: tuple[str, ...], archive: str, total_bytes: int) -> DownloadFiles:
    files = tuple(f"{base}/{name}" for name in batches)
    return DownloadFiles("", files, (archive,), f"https://www.cs.toronto.edu/~kriz/{archive}", total_bytes)


def _downloadable(
    name: str,
    title: str,
    source: str,
    licence: str,
    help: str,
    shape: tuple[int, ...],
    classes: tuple[str, ...],
    sizes: tuple[int, int],
    download: DownloadFiles,
) -> DatasetSpec:
    return DatasetSpec(
        name,
        title,
        "classification",
        "image",
        source,
        licence,
        offline=False,
        download_mb=round(download.total_bytes / 1e6, 1),
        options=(),
        help=help,
        input_shape=shape,
        class_names=classes,
        train_size=sizes[0],
        test_size=sizes[1],
        download=download,
    )


_SPECS = (
    DatasetSpec(
        "digits",
        "Handwritten digits 8x8",
        "classification",
        "image",
        "scikit-learn load_digits (UCI optical recognition of handwritten digits)",
        "CC BY 4.0 (UCI ML Repository)",
        offline=True,
        download_mb=None,
        options=(),
        help="1,797 tiny grey digits 0-9 shipped with Workbench; trains in seconds, offline",
        input_shape=(1, 8, 8),
        class_names=bundled.DIGIT_NAMES,
        train_size=fixed_split_sizes(bundled.DIGITS_SAMPLES, "digits")[0],
        test_size=fixed_split_sizes(bundled.DIGITS_SAMPLES, "digits")[1],
    ),
    DatasetSpec(
        "diabetes",
        "Diabetes progression",
        "regression",
        "tabular",
        "scikit-learn load_diabetes (Efron et al. 2004, Least Angle Regression)",
        "distributed with scikit-learn (BSD-3-Clause)",
        offline=True,
        download_mb=None,
        options=(),
        help="442 patients, 10 measurements; predict disease progression a year later (standardised)",
        input_shape=(bundled.DIABETES_FEATURES,),
        class_names=(),
        train_size=fixed_split_sizes(bundled.DIABETES_SAMPLES, "diabetes")[0],
        test_size=fixed_split_sizes(bundled.DIABETES_SAMPLES, "diabetes")[1],
    ),
    DatasetSpec(
        "spirals",
        "Spirals",
        "classification",
        "points",
        "generated by Workbench (as in TensorFlow Playground)",
        "synthetic, no restrictions",
        offline=True,
        download_mb=None,
        options=_SPIRALS_OPTIONS,
        help="2-D points on interleaved spiral arms, one class per arm; needs a non-linear boundary",
    ),
    DatasetSpec(
        "first-marker",
        "First marker (token sequences)",
        "classification",
        "tokens",
        "generated by Workbench",
        "synthetic, no restrictions",
        offline=True,
        download_mb=None,
        options=_FIRST_MARKER_OPTIONS,
        help="filler tokens with two markers each; the class is the marker that comes first, so order matters",
    ),
    _downloadable(
        "mnist",
        "MNIST handwritten digits",
        "torchvision.datasets.MNIST (LeCun, Cortes & Burges)",
        "CC BY-SA 3.0",
        "70,000 grey 28x28 digits 0-9",
        (1, 28, 28),
        bundled.DIGIT_NAMES,
        (60000, 10000),
        _mnist_like("MNIST/raw", "https://ossci-datasets.s3.amazonaws.com/mnist/", 11_594_722),
    ),
    _downloadable(
        "fashion-mnist",
        "Fashion-MNIST",
        "torchvision.datasets.FashionMNIST (Zalando Research)",
        "MIT",
        "70,000 grey 28x28 photos of clothes in 10 classes",
        (1, 28, 28),
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        (60000, 10000),
        _mnist_like("FashionMNIST/raw", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", 30_878_645),
    ),
    _downloadable(
        "kmnist",
        "Kuzushiji-MNIST",
        "torchvision.datasets.KMNIST (ROIS-DS CODH)",
        "CC BY-SA 4.0",
        "70,000 grey 28x28 cursive Japanese characters in 10 classes",
        (1, 28, 28),
        ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
        (60000, 10000),
        _mnist_like("KMNIST/raw", "http://codh.rois.ac.jp/kmnist/dataset/kmnist/", 21_240_888),
    ),
    _downloadable(
        "cifar10",
        "CIFAR-10",
        "torchvision.datasets.CIFAR10 (Krizhevsky 2009)",
        _CIFAR_LICENCE,
        "60,000 colour 32x32 photos in 10 classes",
        (3, 32, 32),
        _CIFAR10_CLASSES,
        (50000, 10000),
        _cifar(
            "cifar-10-batches-py",
            ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch", "batches.meta"),
            "cifar-10-python.tar.gz",
            170_498_071,
        ),
    ),
    _downloadable(
        "cifar100",
        "CIFAR-100",
        "torchvision.datasets.CIFAR100 (Krizhevsky 2009)",
        _CIFAR_LICENCE,
        "60,000 colour 32x32 photos in 100 classes",
        (3, 32, 32),
        _CIFAR100_CLASSES,
        (50000, 10000),
        _cifar("cifar-100-python", ("train", "test", "meta"), "cifar-100-python.tar.gz", 169_001_437),
    ),
    _downloadable(
        "svhn",
        "SVHN house numbers",
        "torchvision.datasets.SVHN (Netzer et al. 2011)",
        "non-commercial use only",
        "99,289 colour 32x32 crops of house-number digits",
        (3, 32, 32),
        bundled.DIGIT_NAMES,
        (73257, 26032),
        DownloadFiles(
            "",
            ("train_32x32.mat", "test_32x32.mat"),
            ("train_32x32.mat", "test_32x32.mat"),
            "http://ufldl.stanford.edu/housenumbers/",
            246_316_178,
        ),
    ),
    DatasetSpec(
        "csv",
        "CSV file",
        "classification",
        "tabular",
        "your CSV file (data.options.path)",
        "yours",
        offline=True,
        download_mb=None,
        options=_CSV_OPTIONS,
        help="numeric feature columns and one target column; features standardised with training statistics",
    ),
    DatasetSpec(
        "image-folder",
        "Image folder",
        "classification",
        "image",
        "your images (data.options.path)",
        "yours",
        offline=True,
        download_mb=None,
        options=_IMAGE_FOLDER_OPTIONS,
        help="one sub-folder per class (or train/ and test/ each so), resized to size x size RGB",
    ),
    DatasetSpec(
        "code",
        "Your Dataset class",
        "classification",
        "image",  # as its items are found: image, tabular or tensor
        "your Python file (data.options.code)",
        "yours",
        offline=True,
        download_mb=None,
        options=code_dataset.CODE_OPTIONS,
        help="a torch Dataset subclass of yours whose items are (x, y), as MyDataset(file) in the tutorials",
    ),
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}


# ----------------------------------------------------------------------------- lookups


def dataset_spec(name: str, where: str = "data.dataset") -> DatasetSpec:
    """The spec of ``name``, or a ConfigError listing the datasets there are."""
    spec = DATASETS.get(name)
    if spec is None:
        raise ConfigError(f"{where}: unknown dataset {name!r}; allowed: {', '.join(DATASETS)}", field=where)
    return spec


def dataset_options(data: DataConfig, where: str = "data.options") -> dict[str, Any]:
    """The dataset's options from ``data.options``, typed and checked, every default filled in."""
    spec = dataset_spec(data.dataset)
    if spec.name == "code":  # its class's arguments are tables, which no Param describes
        return code_dataset.code_options(data.options, where)
    return coerce_all(spec.options, data.options, where, what=f"dataset {spec.name}")


def dataset_folder(name: str) -> Path:
    """Where a downloadable dataset is cached (the root passed to its torchvision class)."""
    return paths.datasets_dir() / name


def is_cached(name: str) -> bool:
    """Whether ``name`` loads without a network: offline sets always, downloads when their files
    (or the downloaded archives, which torchvision unpacks offline) are in the cache. Only
    checks that files exist; checksums are left to loading."""
    spec = dataset_spec(name)
    return spec.download is None or spec.download.available(dataset_folder(name))


def describe(data: DataConfig) -> DatasetInfo:
    """Everything about the dataset a run would use, without loading it or importing torch.

    Checks the whole data section against the dataset: its name, its options, and that
    augmentation is only asked of images. Raises ConfigError (a setting) or DataError (files).
    """
    spec = dataset_spec(data.dataset)
    options = dataset_options(data)
    if spec.name == "code":
        return _code_info(data, spec, options)
    _check_augment(data, spec.kind)
    task, shape, classes, train, test = _FACT_READERS.get(spec.name, _fixed_facts)(spec, options)
    return DatasetInfo(
        name=spec.name,
        title=spec.title,
        task=task,
        kind=spec.kind,
        input_shape=shape,
        num_outputs=len(classes) if task == "classification" else 1,
        class_names=classes,
        train_size=train,
        test_size=test,
        source=spec.source,
        licence=spec.licence,
        offline=spec.offline,
        cached=is_cached(spec.name),
        download_mb=spec.download_mb,
        vocab_size=first_marker.vocab_size(options) if spec.name == "first-marker" else 0,
    )


def split_sizes(data: DataConfig, info: DatasetInfo) -> SplitSizes:
    """What loading will deliver for ``data``, by arithmetic alone (no data is read)."""
    val = validation_size(info.train_size, data.val_fraction)
    train = info.train_size - val
    return SplitSizes(min(train, data.subset) if data.subset > 0 else train, val, info.test_size)


# ----------------------------------------------------------------------------- facts

_Facts = tuple[str, tuple[int, ...], tuple[str, ...], int, int]  # task, shape, classes, train, test


def _fixed_facts(spec: DatasetSpec, options: dict[str, Any]) -> _Facts:
    return spec.task, spec.input_shape, spec.class_names, spec.train_size, spec.test_size


def _spirals_facts(spec: DatasetSpec, options: dict[str, Any]) -> _Facts:
    train, test = fixed_split_sizes(options["classes"] * options["samples_per_class"], "spirals")
    return spec.task, (2,), spirals.class_names(options["classes"]), train, test


def _first_marker_facts(spec: DatasetSpec, options: dict[str, Any]) -> _Facts:
    train, test = fixed_split_sizes(options["classes"] * options["samples_per_class"], "first-marker")
    return spec.task, (options["length"],), first_marker.class_names(options["classes"]), train, test


def _csv_facts(spec: DatasetSpec, options: dict[str, Any]) -> _Facts:
    from workbench.data.sources.csv_table import read_table  # numpy: not needed for the other sets

    table = read_table(options)
    train, test = fixed_split_sizes(len(table.features), str(options["path"]))
    return options["task"], (table.features.shape[1],), table.class_names, train, test


def _image_folder_facts(spec: DatasetSpec, options: dict[str, Any]) -> _Facts:
    from workbench.data.sources.image_folder import CHANNELS, scan_image_folder  # numpy, as above

    scan = scan_image_folder(options)
    shape = (CHANNELS, options["size"], options["size"])
    return spec.task, shape, scan.class_names, len(scan.train_files), len(scan.test_files)


_FACT_READERS: dict[str, Callable[[DatasetSpec, dict[str, Any]], _Facts]] = {
    "spirals": _spirals_facts,
    "first-marker": _first_marker_facts,
    "csv": _csv_facts,
    "image-folder": _image_folder_facts,
}


def _code_info(data: DataConfig, spec: DatasetSpec, options: dict[str, Any]) -> DatasetInfo:
    """A code data set as the probe's child found it (the class run once, in a child process:
    the caller never imports the user's code). Without ``test_args`` its test set is held out of
    its items as for every set that has no test split of its own."""
    facts = code_dataset.code_facts(options)
    _check_augment(data, facts.kind)
    if facts.test is None:
        train, test = fixed_split_sizes(facts.train.size, code_dataset.code_ref(options).label)
    else:
        train, test = facts.train.size, facts.test.size
    return DatasetInfo(
        name=spec.name,
        title=spec.title,
        task=facts.task,
        kind=facts.kind,
        input_shape=facts.train.input_shape,
        num_outputs=facts.num_outputs,
        class_names=facts.class_names,
        train_size=train,
        test_size=test,
        source=f"{code_dataset.code_ref(options).label}: your own code",
        licence=spec.licence,
        offline=True,
        cached=True,
        download_mb=None,
    )


def _check_augment(data: DataConfig, kind: str) -> None:
    if kind == "image":
        return
    asked = {"random_crop_padding": data.augment.random_crop_padding > 0, "horizontal_flip": data.augment.horizontal_flip}
    for field, on in asked.items():
        if on:
            where = f"data.augment.{field}"
            raise ConfigError(
                f"{where}: augmentation works on images, and {data.dataset} is {kind} data; turn it off", field=where
            )
