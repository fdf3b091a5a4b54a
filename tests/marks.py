"""Which cases of a parametrized test the quick suite runs (``-m "not slow"``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest


def slow_unless(values: Iterable[Any], quick: Callable[[Any], bool]) -> list[Any]:
    """``values`` as a parametrize list, each that ``quick`` refuses marked slow: the quick suite
    keeps one case of a kind, the slow suite has them all."""
    return [value if quick(value) else pytest.param(value, marks=pytest.mark.slow) for value in values]
