"""The Train screen: a placeholder until live training lands (issue 5).

It already says whether the draft could train, and why not, so the shell is complete.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.widgets.bars import problems_summary


class TrainScreen(WorkbenchScreen):
    MODE = "train"
    HINT = "Training from the app arrives in the next version; `workbench train` works now."

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body placeholder"):
            yield Static("Train", classes="heading")
            yield Static(id="readiness", markup=False)
            yield Static(
                "Live training in the app is not built yet. Save the experiment (ctrl+s) and run\n"
                "  workbench train NAME\nin a shell to train it now.",
                classes="muted",
                markup=False,
            )

    def draft_changed(self) -> None:
        self.query_one("#readiness", Static).update(problems_summary(self.draft.problems))
