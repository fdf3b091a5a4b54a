"""A class's keyword arguments as a person types them (``file = "train.txt", size = 8``): TOML
key = value pairs, read into a table and written back alike, for the dialogs that ask for a
class of the user's and its arguments."""

from __future__ import annotations

import tomllib
from typing import Any

import tomli_w

from workbench.errors import ConfigError


def args_text(args: dict[str, Any] | None) -> str:
    """``{"file": "train.txt", "size": 8}`` -> ``file = "train.txt", size = 8``."""
    return ", ".join(tomli_w.dumps({name: value}).strip() for name, value in (args or {}).items())


def parse_args_text(text: str, where: str) -> dict[str, Any]:
    """``file = "train.txt", size = 8`` -> a table; empty text, none. One ConfigError line naming
    ``where`` when the text is not TOML pairs."""
    if not text.strip():
        return {}
    try:
        return dict(tomllib.loads(f"args = {{ {text.strip()} }}")["args"])
    except tomllib.TOMLDecodeError as error:
        reason = str(error).split(" (at ", 1)[0]
        raise ConfigError(
            f'{where}: {reason} in {text.strip()!r}; write TOML key = value pairs, e.g. file = "train.txt", size = 8', field=where
        ) from None
