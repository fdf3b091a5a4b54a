"""Snapshots of the static screens, fed with a fixed experiment (not the shipped presets).

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the report before accepting it.
"""

from __future__ import annotations

from collections.abc import Callable

from workbench.tui.app import WorkbenchApp

from .helpers import SIZE


def test_model_screen(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    assert snap_compare(fixed_app(start="model"), terminal_size=SIZE)


def test_model_screen_with_a_broken_stack(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    app.draft.set_layer_text(4, "in_features", "100")
    assert snap_compare(app, terminal_size=SIZE)


def test_model_code_view(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    assert snap_compare(fixed_app(start="model"), press=["c"], terminal_size=SIZE)


def test_help_screen(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    assert snap_compare(fixed_app(start="model"), press=["question_mark"], terminal_size=SIZE)


def test_layer_editor(snap_compare, fixed_app: Callable[..., WorkbenchApp]) -> None:
    assert snap_compare(fixed_app(start="model"), press=["e"], terminal_size=SIZE)
