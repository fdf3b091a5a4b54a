"""The README's key table lists every key of the app, so the documentation cannot fall behind
the bindings (the same bindings make the footer, the help screen and the palette)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.binding import Binding

from workbench.tui.app import WorkbenchApp
from workbench.tui.runs.compare import CompareScreen
from workbench.tui.runs.evaluation import EvaluationScreen
from workbench.tui.runs.inside import InsideScreen
from workbench.tui.screens.help import display_key

README = Path(__file__).resolve().parents[1] / "README.md"
#: The README table's row for each set of keys.
ROWS = {"app": "everywhere", "data": "1 Data", "model": "2 Model", "optimize": "3 Optimize", "train": "4 Train", "runs": "5 Runs"}


def _rows() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    return {m.group(1).strip(): m.group(2) for m in re.finditer(r"^\| ([^|]+) \| (.+) \|$", text, flags=re.M)}


def _bindings() -> list[tuple[str, Binding]]:
    app = WorkbenchApp.__new__(WorkbenchApp)  # the class's bindings; nothing is started
    found = [("everywhere", b) for b in WorkbenchApp.BINDINGS if not b.action.startswith("show(")]
    for mode, row in ROWS.items():
        if mode != "app":
            found += [(row, b) for b in WorkbenchApp.screen_bindings(app, mode)]
    found += [("compare", b) for b in CompareScreen.BINDINGS]
    found += [("evaluation", b) for b in EvaluationScreen.BINDINGS]
    found += [("inside", b) for b in InsideScreen.BINDINGS]
    return [(row, b) for row, b in found if b.action != "leave_field"]


@pytest.mark.parametrize(("row", "binding"), _bindings(), ids=lambda x: x if isinstance(x, str) else x.key)
def test_every_key_is_in_the_readme(row: str, binding: Binding) -> None:
    line = _rows()[row]
    key = display_key(binding.key.split(",")[0])
    # `x` in backticks, or a named key (enter, ctrl+s) standing as a word
    shown = f"`{key}`" in line or re.search(rf"(?<![\w+]){re.escape(key)}(?![\w+])", line) and len(key) > 1
    assert shown, f"README row {row!r} lacks {key!r} ({binding.description})"
