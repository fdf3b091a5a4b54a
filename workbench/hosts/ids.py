"""Qualified run ids: ``gpu1:RUN`` names run RUN on the host called gpu1.

A run id never holds a colon (``YYYYMMDD-HHMMSS-slug``, :func:`workbench.runs.store.new_run_id`),
nor does a host name, so the first colon splits the two. A path (``/a/b:c``) is never a host's.
"""

from __future__ import annotations

import os
import re

from workbench.errors import WorkbenchError

#: What a host's name may be: it becomes a folder name and a column in listings.
HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def split_run_ref(text: str) -> tuple[str | None, str]:
    """``"gpu1:RUN"`` -> ``("gpu1", "RUN")``; a local ref (``"RUN"``, ``"latest"``, a path) -> ``(None, text)``."""
    host, colon, run_id = text.partition(":")
    if not colon or os.sep in host or not host:
        return None, text
    check_host_name(host)
    return host, run_id


def check_host_name(name: str) -> str:
    """``name`` when it is a usable host name, else one line saying what is allowed."""
    if not HOST_NAME.fullmatch(name):
        raise WorkbenchError(
            f"{name!r} is not a usable host name (letters, digits, '.', '_', '-', starting with a letter or digit)"
        )
    return name
