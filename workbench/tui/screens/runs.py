"""The Runs screen: a placeholder until the runs browser lands (issue 5)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from workbench.tui.screens.base import WorkbenchScreen


class RunsScreen(WorkbenchScreen):
    MODE = "runs"
    HINT = "Browsing runs arrives in the next version; `workbench runs` lists them now."

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body placeholder"):
            yield Static("Runs", classes="heading")
            yield Static(
                "The runs browser is not built yet. In a shell:\n"
                "  workbench runs        list runs\n"
                "ctrl+o opens the config of a past run here.",
                classes="muted",
                markup=False,
            )
