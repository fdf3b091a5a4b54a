"""User-facing errors.

Every problem a user can cause (a bad field, an impossible layer stack, a missing dataset, a
hostile checkpoint) is raised as a :class:`WorkbenchError` whose message is one readable line
naming what and where. The CLI prints that line and exits non-zero; the app shows it in place.
Anything else that escapes is a bug and is shown with its traceback only under ``--verbose``.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """A problem the user can fix; ``str(error)`` is the one line to show them."""

    exit_code = 1


class ConfigError(WorkbenchError):
    """The experiment is invalid: a field, a value or a layer stack that cannot work."""

    exit_code = 2

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        #: Dotted path of the offending field (``optimizer.lr``, ``model.layers.3``), if known.
        self.field = field


class DataError(WorkbenchError):
    """A dataset cannot be loaded: unknown, missing files, no network for a download."""


class CheckpointError(WorkbenchError):
    """A checkpoint is missing, corrupt, foreign, from a newer format or hostile."""


class RunNotFoundError(WorkbenchError):
    """A RUN argument matches no run, or more than one."""


def describe_error(error: BaseException) -> str:
    """One line for any error: a WorkbenchError's own message, the file and the reason of an
    OSError (a full or read-only disk, a permission), else its type and text."""
    if isinstance(error, WorkbenchError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror.lower()}"
    return f"{type(error).__name__}: {error}"
