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
    try:
        exists = path.exists()
    except OSError as error:  # a name longer than the system allows, say
        raise DataError(f"{where}: {_short(text)}: {error.strerror or error}") from None
    if not exists:
        raise DataError(f"{where}: no such file or folder: {_short(text)}")
    return path


def _short(text: str, keep: int = 80) -> str:
    """A path as an error line quotes it: whole, or its start and end when absurdly long."""
    return text if len(text) <= keep else f"{text[: keep // 2]}…{text[-keep // 2 :]} ({len(text):,} characters)"
