"""The user's own code, run once off the UI thread whenever the draft needs an answer from it.

A model or data set class of the user's (``model.code``) is learnt by running it once in a
child process (:mod:`workbench.usercode.probing`): seconds for torch to import, up to the time
limit for code that hangs. The draft never waits for that on the UI thread: it validates with
the answers on hand and lists what it still needs (:attr:`Draft.pending_probes`). After every
change of the draft, the app asks those questions here, in one thread worker at a time, and
then has the draft check itself again, which now finds the answers: the Model screen's tree
and every screen's problem line follow. From the first answer on, one child waits ahead with
torch imported, so that an edit of the file is answered in a fraction of a second. The app
never imports the user's code itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import App
from textual.worker import get_current_worker

from workbench.experiment.draft import Draft
from workbench.usercode.probing import PendingProbe, keep_warm

#: The worker group (the app's worker error handler titles a failure by it).
GROUP = "code-probe"
#: How the app's worker error handler titles a failure of the worker itself (not of the user's
#: code, whose failure is an answer and shows as the model's or the data set's problem).
FAILURE_TITLE = "Your code could not be run once"


def ask_pending(app: App[object], draft: Draft) -> None:
    """Ask the draft's pending questions in a thread worker (a newer set replaces one under
    way), then recheck the draft on the UI thread. Nothing to ask: nothing started."""
    ask(app, draft.pending_probes, draft.probe_timeout_s, draft.recheck)


def ask(
    app: App[object], pending: Sequence[PendingProbe], timeout_s: float, then: Callable[[], object], *, replaces: bool = True
) -> None:
    """Ask ``pending`` in a thread worker, then call ``then()`` on the UI thread (a dialog's
    preview that asked them itself: ``replaces=False``, so the draft's questions go on)."""
    if not pending:
        return
    questions = tuple(pending)
    app.run_worker(
        lambda: _ask(app, questions, timeout_s, then),
        thread=True,
        group=GROUP,
        exclusive=replaces,
        exit_on_error=False,
        name=GROUP,
    )


def _ask(app: App[object], pending: tuple[PendingProbe, ...], timeout_s: float, then: Callable[[], object]) -> None:
    worker = get_current_worker()
    for question in pending:
        if worker.is_cancelled:
            return
        question.run(timeout_s)
    keep_warm()  # the next question (the file edited, the arguments changed) finds torch imported
    if not worker.is_cancelled:
        app.call_from_thread(then)


def start_ahead(app: App[object]) -> None:
    """A class of the user's is about to be named (its dialog opened): start a child now, so
    that torch is imported by the time the name is typed."""
    app.run_worker(keep_warm, thread=True, group=GROUP, exit_on_error=False, name="code-probe-ahead")
