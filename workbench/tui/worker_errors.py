"""One handler for every background worker's failure.

A worker does its work and posts a message (:mod:`workbench.tui.messages`); it does not catch
what it cannot handle. When it raises, Textual marks it failed and posts ``Worker.StateChanged``
to the screen or App that started it, where :meth:`ReportsWorkerErrors.on_worker_state_changed`
calls :meth:`~ReportsWorkerErrors.worker_failed`: by default one notification, titled by what
the worker's group was doing. A screen that shows a failure in place overrides it for its
groups. Every worker is started with ``exit_on_error=False``, so a failure never ends the app.
"""

from __future__ import annotations

from typing import ClassVar

from textual.worker import Worker, WorkerState

from workbench.errors import describe_error


class ReportsWorkerErrors:
    """Mixed into the App and the screens (anything with ``notify``)."""

    #: What the workers of each group were doing, as the title of their failure's notification.
    WORKER_FAILURES: ClassVar[dict[str, str]] = {}

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.worker_failed(event.worker.group, event.worker.error)

    def worker_failed(self, group: str, error: BaseException) -> None:
        """Say in one line what went wrong (override to show it in place for some groups)."""
        title = self.WORKER_FAILURES.get(group, "Something went wrong")
        self.notify(describe_error(error), title=title, severity="error", timeout=8)  # type: ignore[attr-defined]
