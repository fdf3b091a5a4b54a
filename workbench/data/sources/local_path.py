"""The ``path`` option of datasets read from the user's own files (csv, image-folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, DataError


def option_path(options: dict[str, Any], option: str = "path") -> Path:
    """The file or folder an option names, which must exist; relative paths start at the cwd."""
    where = f"data.options.{option}"
    text = options[option].strip()
    if not text:
        raise ConfigError(f'{where}: this dataset needs a path (set {where} = "...")', field=where)
    path = Path(text).expanduser()
    if not path.exists():
        raise DataError(f"{where}: no such file or folder: {path}")
    return path
