"""Fetching downloadable datasets into the cache, and saying clearly what to do offline.

Nothing downloads behind the user's back: loading a dataset that is not cached tries once,
through here, and a failure becomes one line naming the dataset, the files it needs, the exact
folder to put them in, and the presets that train without a network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench.data.registry import OFFLINE_PRESETS, DownloadFiles, dataset_folder, dataset_spec
from workbench.data.sources import torchvision_sets
from workbench.errors import DataError

#: Seconds between two progress reports while a download runs.
PROGRESS_INTERVAL_S = 0.25


def download(name: str, progress: Callable[[int, int], None] | None = None) -> Path:
    """Download ``name`` with torchvision into ``paths.datasets_dir() / name``; return that folder.

    Does nothing when the files are there already; unpacks archives found in the folder without
    a network. ``progress(bytes_done, bytes_total)`` is called from a helper thread a few times
    a second while archives arrive (the total is the known archive size, an estimate).
    """
    spec = dataset_spec(name, where="dataset")
    if spec.download is None:
        raise DataError(f"{name} needs no download: it is {spec.source}")
    root = dataset_folder(name)
    if spec.download.ready(root):
        return root
    try:
        with _reporting(root / spec.download.folder, spec.download, progress):
            for train in (True, False):
                torchvision_sets.open_split(name, train=train, download=True)
    except Exception as error:  # network, checksum, unpacking: all mean "the files are not there"
        reason = torchvision_sets.error_gist(error)
        raise DataError(missing_message(name, f"the download failed ({reason})")) from error
    return root


def missing_message(name: str, problem: str) -> str:
    """One line: what is wrong with ``name``, which files go in which folder, what works offline."""
    files = dataset_spec(name).download
    assert files is not None, f"{name} is not a downloadable dataset"
    folder = dataset_folder(name) / files.folder
    return (
        f"{name}: {problem}; put {', '.join(files.archives)} (from {files.url}) in {folder}, "
        f"or train offline with a preset: {', '.join(OFFLINE_PRESETS)}"
    )


@contextmanager
def _reporting(folder: Path, files: DownloadFiles, progress: Callable[[int, int], None] | None) -> Iterator[None]:
    """Report the growing size of the archives while the body downloads them.

    torchvision offers no progress hook, so a helper thread watches the files it writes.
    """
    if progress is None:
        yield
        return

    def arrived() -> int:
        return sum((folder / a).stat().st_size for a in files.archives if (folder / a).is_file())

    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(PROGRESS_INTERVAL_S):
            done = arrived()
            progress(done, max(done, files.total_bytes))

    watcher = threading.Thread(target=watch, name="workbench-download-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
    done = arrived()
    progress(done, done)
