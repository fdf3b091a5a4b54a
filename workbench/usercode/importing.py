"""Importing a class from the user's file, and any error of their code as one line.

Only a process that trains, evaluates or probes imports user code (the app never does: it asks
a child process, :mod:`workbench.usercode.probing`). The file's folder goes first on
``sys.path``, so that ``nets.py`` can import its neighbours as it does in the user's own
scripts; a run's copy of the code (``code/`` in its folder) stands in for that folder when the
run is resumed, evaluated or exported. An error raised anywhere in the user's code, or a
``sys.exit()`` there, becomes a :class:`UserCodeError`: one line naming the user's file, line
and error, with the whole traceback kept for the run's log and ``--verbose``.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.usercode.reference import CodeRef, check_code_ref

#: The folders this process imported user code from: a frame there is the user's.
_USER_FOLDERS: set[Path] = set()
#: The user's folder -> a run's copy of it, for a process that works on that run
#: (:func:`use_copy`): every import of code from there reads the copy instead.
_COPIES: dict[Path, Path] = {}


class UserCodeError(WorkbenchError):
    """The user's code failed: ``str()`` is the one line (their file, line and error);
    ``details`` the traceback, for the run's log and ``--verbose``."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def import_user_class(ref: CodeRef, base: type, base_name: str, *, folder: Path | None = None) -> type:
    """The class ``ref`` names, a subclass of ``base`` (``base_name`` as messages say it:
    ``nn.Module``, ``Dataset``), imported from ``folder`` (a run's code copy) or else from the
    file's own folder."""
    search = (folder or _COPIES.get(ref.folder.resolve()) or ref.folder).resolve()
    if search == ref.folder.resolve():
        check_code_ref(ref)
    file = search / ref.path.name
    if not file.is_file():
        raise WorkbenchError(f"{ref.where}: {ref.path.name} is not in the run's copy of its code ({search})")
    _USER_FOLDERS.add(search)
    if str(search) not in sys.path:
        sys.path.insert(0, str(search))
    module_name = ref.path.stem
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise WorkbenchError(f"{ref.where}: {file} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    with user_code(f"importing {ref.path.name}"):
        spec.loader.exec_module(module)
    found = getattr(module, ref.name, None)
    if found is None:
        classes = sorted(
            name for name, value in vars(module).items() if inspect.isclass(value) and value.__module__ == module_name
        )
        there = f" (classes there: {', '.join(classes)})" if classes else " (it defines no class)"
        raise WorkbenchError(f"{ref.where}: {ref.path.name} has no {ref.name}{there}")
    if not (inspect.isclass(found) and issubclass(found, base)):
        what = f"a subclass of {type(found).__name__}" if inspect.isclass(found) else f"a {type(found).__name__}"
        raise WorkbenchError(f"{ref.where}: {ref.label} is not a {base_name} subclass (it is {what})")
    return found


def use_copy(original: Path, copy: Path) -> None:
    """From now on, code of the user's folder ``original`` is imported from ``copy`` (a run's
    ``code/``): a run resumed, evaluated or exported months later loads the code it trained
    with, whatever the user changed since. Python would write the copy's bytecode beside it, and
    later read bytecode found there instead of the checked source: this process, and the ones it
    starts (a probe, a DataLoader worker), write none (:func:`workbench.usercode.copies.check_run_code`
    refuses any file the record does not list)."""
    _COPIES[original.resolve()] = copy.resolve()
    sys.dont_write_bytecode = True
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"


def copies_in_use() -> dict[str, str]:
    """The user's folders this process imports from a run's copy (:func:`use_copy`), for a probe's
    child, which must run the same code."""
    return {str(original): str(copy) for original, copy in _COPIES.items()}


def user_folders() -> frozenset[Path]:
    """Where this process imported user code from."""
    return frozenset(_USER_FOLDERS)


@contextmanager
def user_code(doing: str) -> Iterator[None]:
    """Run a piece of the user's code (``doing`` says which: ``Net(hidden=64)``,
    ``Net.forward``): any error it raises, and ``sys.exit()``, comes out as one
    :class:`UserCodeError` line. Workbench's own errors, and Ctrl+C, pass through."""
    try:
        yield
    except WorkbenchError:
        raise
    except (Exception, SystemExit) as error:
        raise user_code_error(error, doing) from error


def user_code_error(error: BaseException, doing: str = "") -> UserCodeError:
    """``error`` in one line: the innermost place in the user's files where it happened."""
    details = "".join(traceback.format_exception(error))
    return UserCodeError(_words(error, doing), details)


def user_code_words(error: BaseException) -> str | None:
    """The one line for an error raised in the user's code (a frame in their files), else None:
    how the trainer words a failure in ``forward`` or ``__getitem__`` at any step."""
    if isinstance(error, UserCodeError):
        return str(error)
    if _user_frame(error) is None:
        return None
    return _words(error, "")


def _words(error: BaseException, doing: str) -> str:
    place = _user_frame(error)
    where = f"{place[0]} line {place[1]}: " if place else ""
    during = f" ({doing})" if doing else ""
    if isinstance(error, SystemExit):
        return f"{where}the code called sys.exit({error.code!r}){during}".replace("sys.exit(None)", "sys.exit()")
    text = str(error).strip().splitlines()
    message = f": {text[0]}" if text else ""
    return f"{where}{type(error).__name__}{message}{during}"


def _user_frame(error: BaseException) -> tuple[str, int] | None:
    """The file name and line of the innermost frame in the user's folders (for a SyntaxError,
    where the parser stopped)."""
    if isinstance(error, SyntaxError) and error.filename and _is_users(Path(error.filename)):
        return Path(error.filename).name, error.lineno or 0
    place = None
    for frame in traceback.extract_tb(error.__traceback__):
        if _is_users(Path(frame.filename)):
            place = (Path(frame.filename).name, frame.lineno or 0)
    return place


def _is_users(path: Path) -> bool:
    try:
        resolved = path.resolve()
    except OSError:
        return False
    return any(resolved.is_relative_to(folder) for folder in _USER_FOLDERS)
