"""Every message the app's background work sends to the UI thread, in one place.

Workers never touch widgets: each posts one of these dataclass messages (thread-safe), and the
screen or the App that started it handles it on the UI thread. A worker that fails posts
nothing; Textual reports its error through ``Worker.StateChanged``, which one handler turns into
one readable line (:mod:`workbench.tui.worker_errors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message

from workbench.hosts.overview import HostState
from workbench.runs.comparison import Comparison
from workbench.runs.details import RunDetails
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory, TimedEvent
from workbench.runs.listing import RunSummary
from workbench.scheduling.sweep_table import SweepTable

# ---------------------------------------------------------------------- runs the app follows


@dataclass
class RunBackfilled(Message):
    """A newly followed run: its whole history so far, built off the UI thread."""

    run: RunDir
    history: RunHistory
    state: str
    #: The run's process output if it has one, and status.json's message if it failed.
    log: Path | None = None
    message: str = ""


@dataclass
class RunMoved(Message):
    """New events of a followed run and its state now (``gone``: its folder was deleted)."""

    run_id: str  # the run's ref: gpu1:RUN for a run of another host
    events: list[TimedEvent]
    state: str
    gone: bool = False
    #: status.json's message when the run has just failed.
    message: str = ""


@dataclass
class RunsListed(Message):
    """Every run on disk, summarised: the app's one listing, which the Runs screen shows and
    the runs in progress are found in (a newer scan replaces an older one); with the runs of
    other hosts, from their mirrors."""

    summaries: list[RunSummary]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunsListed)


@dataclass
class HostsSeen(Message):
    """The state of the connection to each host changed (their sessions write it on their threads)."""

    hosts: list[HostState]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HostsSeen)


# ---------------------------------------------------------------------- the App


@dataclass
class RunLaunched(Message):
    """A run's folder was created and its training process started."""

    run: RunDir


# ---------------------------------------------------------------------- screens


@dataclass
class ControlRefused(Message):
    """A pause, continue or stop request could not reach the run's process."""

    run_id: str
    reason: str


@dataclass
class LRPreviewComputed(Message):
    """The LR curve of the settings ``key`` (an ``optim.preview.LRPreview``)."""

    key: Any
    preview: Any


@dataclass
class SamplesRead(Message):
    """Sample pictures or rows of ``dataset`` for the Data screen (``key``: the settings read)."""

    key: str
    dataset: str
    samples: list[Any]


@dataclass
class DownloadProgressed(Message):
    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DownloadProgressed)


@dataclass
class DatasetDownloaded(Message):
    name: str


@dataclass
class RunDetailsRead(Message):
    """The highlighted run's experiment, history and checkpoints."""

    details: RunDetails
    summary: RunSummary


@dataclass
class DeleteAsked(Message):
    """A run to delete, with how many checkpoint files the question names (counted in a worker)."""

    run_id: str
    run: RunDir
    checkpoints: int


@dataclass
class RunDeleted(Message):
    """A run's folder was removed (by a worker)."""

    run_id: str


@dataclass
class RunDetailsStale(Message):
    """The shown run's metrics.jsonl moved on since its details were read: read them again."""

    run_id: str


@dataclass
class ComparisonRead(Message):
    """The compared runs' histories, and their results and settings side by side."""

    histories: list[RunHistory]
    comparison: Comparison


@dataclass
class SweepStarted(Message):
    """A sweep's points are validated and queued."""

    sweep_id: str
    points: int


@dataclass
class SweepTableRead(Message):
    """A sweep's table, for its view."""

    table: SweepTable


@dataclass
class EndingsSeen(Message):
    """Sweeps that ended and a queue that ran dry since the app last looked: (title, text) each."""

    endings: list[tuple[str, str]]


# ---------------------------------------------------------------------- the LR finder


@dataclass
class LRFindProgress(Message):
    """The LR finder's ramp took ``step`` of its ``steps`` (a newer one replaces an older one)."""

    step: int
    steps: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LRFindProgress)
