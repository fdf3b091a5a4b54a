"""The Train screen says a run's state from what the follower read off the UI thread: drawing
reads no file (issue 26, item 3), even for a failure only status.json recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from workbench.runs.folder import RunDir
from workbench.runs.status import RunStatus
from workbench.tui.app import build_app

from .helpers import SIZE, screen_text, wait_for
from .runs import recorded_run


async def test_a_failure_only_status_json_recorded_is_drawn_without_reading_a_file_on_the_ui_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = recorded_run("broken", val_acc=(0.5,), finish=False)
    run.update_status(state="failed", message="the launcher could not start python")
    run.log_path.write_text("Traceback (most recent call last):\n", encoding="utf-8")
    on_ui_thread: list[str] = []
    read_status: Callable[[RunDir], RunStatus] = RunDir.read_status

    def watched(self: RunDir) -> RunStatus:  # the real read, and the thread it ran on
        if threading.current_thread() is threading.main_thread():
            on_ui_thread.append(self.id)
        return read_status(self)

    monkeypatch.setattr(RunDir, "read_status", watched)
    app = build_app("digits-cnn", attach=run.id)
    async with app.run_test(size=SIZE) as pilot:
        expected = f"✗ failed: the launcher could not start python. Log: {run.log_path}"
        await wait_for(pilot, lambda: expected[:60] in screen_text(app).splitlines()[1], what="the failure's headline")
        assert on_ui_thread == []
