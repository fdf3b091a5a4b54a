"""Fixtures that build the real app: from a fixed experiment, or from a shipped preset."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from workbench.experiment.draft import Draft
from workbench.tui.app import WorkbenchApp, build_app

from .helpers import fixed_experiment


@pytest.fixture
def fixed_app() -> Callable[..., WorkbenchApp]:
    def make(start: str = "data") -> WorkbenchApp:
        return WorkbenchApp(Draft(fixed_experiment(), source="test"), start=start)

    return make


@pytest.fixture
def preset_app() -> Callable[..., WorkbenchApp]:
    def make(preset: str = "digits-cnn", start: str = "data") -> WorkbenchApp:
        return build_app(preset, start=start)

    return make
