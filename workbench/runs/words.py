"""A run's state in words: the Train screen's headline, the status bar's activity line and the
notice when a run ends, made in one place from plain data.

The app draws these a few times a second on its UI thread, so nothing here reads a file: the
caller hands over what the run's follower read off the UI thread (:class:`RunFacts`). The words
were worked out three times in the app (issue 26, item 3); ``workbench logs`` says the same end
notice. Styles are Rich style names as plain strings, as in :data:`workbench.runs.listing.STATE_STYLES`:
the UI turns them into text, nothing here imports Rich.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from workbench.formatting import metrics_text
from workbench.runs.history import RunHistory, failure_text, finished_text, stop_point_text
from workbench.runs.status import INTERRUPTED, LIVE_STATES, PAUSED, PRUNED, STALE, STARTING

#: A piece of a line and its style ("" for none).
Segment = tuple[str, str]

#: How a run that ended is resumed from the app; ``workbench logs`` names the command instead.
RESUME_IN_APP = "r on the Runs screen"


@dataclass(frozen=True)
class RunFacts:
    """What a run's words are made from, all of it already read."""

    run_id: str
    #: The state its process and status.json say (``workbench.runs.liveness.shown_state``).
    state: str
    history: RunHistory
    #: A request sent from here ("pause", "continue", "stop") that the run has not acted on yet.
    requested: str = ""
    #: status.json's message: a failure recorded outside the run's events (a launch that failed).
    message: str = ""
    #: The run's process output, if it has one (a detached run): where a traceback is.
    log: Path | None = None

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES


@dataclass(frozen=True)
class EndNotice:
    """What is said when a followed run ends: a title, a line, and how loud."""

    title: str
    text: str
    #: Textual's notification severities, as words.
    severity: Literal["information", "warning", "error"]


def state_word(facts: RunFacts) -> str:
    """The run's state in a word: a request sent from here shows until the run acts on it; how
    the run ended comes from its events, whether it is still alive from its process."""
    if facts.live and facts.requested == "stop":
        return "stopping…"
    if facts.state == "running" and facts.requested == "pause":
        return "pausing…"
    if facts.history.is_over and not facts.live and facts.state != "deleted":
        if facts.state == PRUNED:
            return PRUNED  # stopped by its sweep's pruner: its events say stopped, its status pruned
        return facts.history.state  # finished, early_stopped, stopped or failed, as the run itself said
    return facts.state


def headline(facts: RunFacts, live_count: int = 1) -> list[Segment]:
    """The Train screen's first line for the run it shows (``live_count``: runs in progress)."""
    history, run = facts.history, facts.run_id
    name = history.started.name if history.started else run
    state = state_word(facts)
    segments: list[Segment]
    if history.finished is not None and history.finished.test:
        segments = [("✓ test ", "bold green"), (metrics_text(history.finished.test), "bold"), (f"  · {run}", "")]
    elif state in ("stopped", PRUNED):
        where = f"{stop_point_text(history.finished)} · " if history.finished is not None else f"{run}: "
        how = "■ pruned by its sweep " if state == PRUNED else "■ stopped "
        segments = [(how, "bold yellow"), (f"{where}r on the Runs screen resumes it; s starts a new run", "")]
    elif state == "failed":
        segments = [("✗ failed: ", "bold red"), (_failure(facts), "red")]
    elif state == INTERRUPTED:
        segments = [("✗ interrupted ", "bold red"), (f"{run}: its process is gone; r on the Runs screen resumes it", "")]
    elif state == STALE:
        segments = [("? no heartbeat ", "bold red"), (f"{run} trains on another host that has gone quiet", "")]
    elif state == "deleted":
        segments = [("✗ deleted ", "bold red"), (f"{run}: its folder is gone", "")]
    elif state == "stopping…":
        segments = [("■ stopping ", "bold yellow"), (f"{name}: saving a checkpoint…", "")]
    elif state in (PAUSED, "pausing…"):
        segments = [("‖ paused ", "bold yellow"), (f"{name} ({run}): p continues, x stops", "")]
    elif state == STARTING or history.started is None:
        segments = [("… ", "bold"), (f"{name}: loading data and building the model", "")]
    elif history.started.test_only:
        segments = [("▶ testing ", "bold green"), (f"{name} ({run}): its training had ended, the final test is left", "")]
    else:
        segments = [("▶ training ", "bold green"), (f"{name} ({run})", "")]
    if live_count > 1:
        segments.append((f"  · {live_count} runs in progress, n shows the next", "dim"))
    return segments


def activity_line(shown: RunFacts | None, live_count: int) -> str:
    """The status bar's line on every screen: ``▶ epoch 3/12 loss 0.2310 · 2 training``
    (``shown``: the run the Train screen shows; ``live_count``: runs in progress)."""
    parts = []
    if shown is not None and shown.live:
        history = shown.history
        if history.started is None:
            where = "starting"
        elif history.started.test_only:
            where = "final test"
        else:
            where = f"epoch {history.current_epoch}/{history.total_epochs}"
        if live_count > 1 and history.started is not None:
            where = f"{history.started.name} {where}"  # which of the runs the Train screen shows
        loss = history.latest_loss
        if shown.requested == "stop":
            parts.append(f"■ stopping, {where}")
        elif shown.state == PAUSED:
            parts.append(f"‖ paused, {where}")
        else:
            parts.append(f"▶ {where}" + (f" loss {loss:.4f}" if loss is not None else ""))
    if live_count > 1 or (live_count and (shown is None or not shown.live)):
        parts.append(f"{live_count} training")
    return " · ".join(parts)


def end_notice(facts: RunFacts, resume: str = RESUME_IN_APP) -> EndNotice:
    """How a run that ended is announced (``resume``: how it is resumed where this is read)."""
    history = facts.history
    title = f"Run {facts.run_id} {history.state if history.is_over else facts.state}"
    if history.finished is not None:
        text = finished_text(history.finished, facts.run_id)
        return EndNotice(title, text, "warning" if history.finished.state == "stopped" else "information")
    if history.failed is not None:
        return EndNotice(title, _failure(facts), "error")
    # Its process is gone without a word (killed): interrupted.
    return EndNotice(title, f"its process ended without finishing ({facts.state}); {resume} resumes it", "error")


def _failure(facts: RunFacts) -> str:
    """The failure's line: the run's own error, else what status.json recorded."""
    message = facts.history.failed.message if facts.history.failed else facts.message
    return failure_text(message, facts.log)
