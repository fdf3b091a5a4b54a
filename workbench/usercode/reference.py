"""``FILE.py:CLASS``: where a class of the user's own is, checked without running it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ConfigError

_CLASS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class CodeRef:
    """A class in a Python file: ``path`` (as written, absolute once the experiment is read),
    ``name`` (the class), ``where`` (the setting that named it, for messages)."""

    path: Path
    name: str
    where: str

    @property
    def text(self) -> str:
        return f"{self.path}:{self.name}"

    @property
    def label(self) -> str:
        """How messages name it: the file's name and the class (``nets.py:Net``)."""
        return f"{self.path.name}:{self.name}"

    @property
    def folder(self) -> Path:
        """The user's folder: modules found here are theirs (imported, copied into a run)."""
        return self.path.parent


def parse_code_ref(text: str, where: str) -> CodeRef:
    """``nets.py:Net`` -> a CodeRef; one line naming ``where`` when the text is not of that form."""
    file, sep, name = str(text).strip().rpartition(":")
    example = f'{where} = "nets.py:Net"'
    if not sep or not file.strip():
        raise ConfigError(f"{where}: {text!r} should be FILE.py:CLASS, e.g. {example}", field=where)
    if not _CLASS_NAME.fullmatch(name):
        raise ConfigError(f"{where}: {name!r} is not a class name (after the colon in {text!r})", field=where)
    path = Path(file.strip()).expanduser()
    if path.suffix != ".py":
        raise ConfigError(f"{where}: {path.name} is not a Python file (.py), e.g. {example}", field=where)
    return CodeRef(path, name, where)


def check_code_ref(ref: CodeRef) -> CodeRef:
    """The file exists and is readable text (one line naming it if not); returns ``ref``."""
    try:
        ref.path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{ref.where}: no such file: {ref.path}", field=ref.where) from None
    except IsADirectoryError:
        raise ConfigError(f"{ref.where}: {ref.path} is a folder, not a Python file", field=ref.where) from None
    except OSError as error:
        raise ConfigError(f"{ref.where}: {ref.path}: {error.strerror or error}", field=ref.where) from None
    return ref
