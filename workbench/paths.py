"""Where Workbench keeps things on disk.

Locations follow platformdirs (the user data, cache and config folders of the platform).
Setting ``WORKBENCH_HOME`` puts everything under one folder instead; the tests always do, so a
test never touches a real user's runs or downloads.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "workbench"


def _home() -> Path | None:
    value = os.environ.get("WORKBENCH_HOME")
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    """Runs and checkpoints."""
    home = _home()
    return home / "data" if home else platformdirs.user_data_path(APP_NAME)


def cache_dir() -> Path:
    """Downloaded datasets and prepared tensors: safe to delete, rebuilt on demand."""
    home = _home()
    return home / "cache" if home else platformdirs.user_cache_path(APP_NAME)


def config_dir() -> Path:
    """User presets."""
    home = _home()
    return home / "config" if home else platformdirs.user_config_path(APP_NAME)


def runs_dir() -> Path:
    return data_dir() / "runs"


def datasets_dir() -> Path:
    return cache_dir() / "datasets"


def user_presets_dir() -> Path:
    return config_dir() / "presets"
