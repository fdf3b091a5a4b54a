"""Atomic file writes: a crash at any moment leaves either the old file or the new one."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

#: Temporary files start with this, so that leftovers of a crash are recognised and cleaned.
TEMP_PREFIX = ".tmp-"


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to a temp file in the same folder, flush, fsync, then ``os.replace``.

    ``durable=False`` skips the fsyncs, for caches: readers still see the old file or the new
    one, and a file a power cut left empty reads as damaged and is rebuilt."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX + path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except OSError as error:
        Path(temp_name).unlink(missing_ok=True)
        # Name the file the user knows (a full disk, or status.json made a folder by hand), not
        # the temp file beside it: OSError(errno, ...) is rebuilt as its subclass (IsADirectoryError...).
        raise OSError(error.errno, error.strerror, str(path)) from error
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temp_files(folder: Path, older_than_s: float = 0.0) -> list[Path]:
    """Delete temp files a crash left behind in ``folder`` (those older than ``older_than_s``,
    when a writer may be at work there); return what was removed."""
    removed = []
    if folder.is_dir():
        now = time.time()
        for leftover in folder.glob(TEMP_PREFIX + "*"):
            try:
                if now - leftover.stat().st_mtime < older_than_s:
                    continue
                leftover.unlink()
            except FileNotFoundError:
                continue  # its writer renamed it into place meanwhile
            removed.append(leftover)
    return removed
