"""The runs the app follows, owned by the App: what every screen renders of runs in progress.

A run trains in a process of its own. The app follows run folders: every run found live on
this machine (started here, by ``workbench train`` in another terminal, or before an SSH drop)
and any run the person attaches to. One thread worker (:meth:`LiveRuns.follow_forever`) does
all the reading: a new run's whole history is built there (the backfill) and handed over once;
after that, each poll's new events and the run's state reach the UI thread as messages, where
they are applied to the run's :class:`RunHistory`. Screens watch ``app.runs_version`` and draw.
The same worker keeps the listing of every run (``app.listing``): one listing for the whole app,
which finds the runs that started live elsewhere and fills the Runs screen.

An app left open costs nothing while nothing changes (issue 31): the runs are listed once, then
only the runs that a :class:`~workbench.runs.changes.RunWatch` says were created, changed or
deleted are read again (:class:`~workbench.runs.kept_listing.KeptListing`, one listing per
folder of runs: this machine's, and each host's mirror), and a followed run that does not train
is read only when its files change. A followed run that trains is polled every
:data:`POLL_INTERVAL_S`, as its events must reach the screen within half a second.

The runs of other hosts (issue 28) are listed and followed the same way, from the mirror their
sessions keep (:mod:`workbench.hosts.mirror`): a remote run is a folder like any other, named
``gpu1:RUN`` here (``FollowedRun.id``, the keys of ``followed``) so that it never meets a run of
this machine of the same id. The listing carries each host's connection state.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from workbench.hosts.mirror import host_runs_dir
from workbench.paths import runs_dir
from workbench.runs.changes import RunWatch
from workbench.runs.folder import RunDir
from workbench.runs.follow import RunFollower
from workbench.runs.history import RunHistory, TimedEvent
from workbench.runs.kept_listing import KeptListing
from workbench.runs.mirrored import mirror_host, run_ref
from workbench.runs.process_control import REACHED
from workbench.runs.status import LIVE_STATES
from workbench.runs.words import RunFacts, activity_line
from workbench.tui.messages import RunBackfilled, RunMoved, RunsListed

#: Seconds between two polls of a followed run that has been quiet: its next event is on screen
#: well within 0.5 s.
POLL_INTERVAL_S = 0.1
#: A run's new events reach the UI thread at most this often (its state changes at once), and a
#: run that just reported is not read again before: the screens redraw for runs no more often
#: than this anyway, and every wake-up of the app, on a small machine, stalls the run's threads
#: for longer than the work it does (ten polls and ten messages a second became about three).
POST_INTERVAL_S = 0.35
#: Seconds between two reads of the followed runs' states (their processes alive, status.json):
#: a trainer's death shows within about this; the polls in between only look for events.
STATE_INTERVAL_S = 0.5


@dataclass
class FollowedRun:
    """One followed run as the UI thread knows it."""

    run: RunDir
    history: RunHistory
    state: str
    #: A request sent from this app ("pause", "continue", "stop") until the run's state shows it.
    requested: str = ""
    #: status.json's message once the run failed, and its process output if it has one: read by
    #: the worker, so that drawing the run's words reads no file.
    message: str = ""
    log: Path | None = None

    @property
    def id(self) -> str:
        """``RUN``, or ``gpu1:RUN`` for a run of another host."""
        return run_ref(self.run)

    @property
    def host(self) -> str:
        """The host it trains on; ``""`` for this machine."""
        return mirror_host(self.run.path)

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def facts(self) -> RunFacts:
        """What the run's words (:mod:`workbench.runs.words`) are made from."""
        return RunFacts(self.id, self.state, self.history, self.requested, self.message, self.log)


class LiveRuns:
    """The App's followed runs (UI thread) and the worker that reads them (its own thread)."""

    def __init__(self, hosts: Sequence[str] = (), *, signals: bool = True) -> None:
        """``signals``: notice runs from the file system's change signals where there are some
        (False: from directory stamps only, the fallback; see :class:`RunWatch`)."""
        #: The hosts whose runs are listed with this machine's (their names).
        self.hosts = tuple(hosts)
        #: Keyed by :func:`run_ref`.
        self.followed: dict[str, FollowedRun] = {}
        self.shown_id = ""
        self._requests: queue.SimpleQueue[RunDir] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._scan_now = threading.Event()
        self._stopped = threading.Event()
        self._signals = signals
        #: Every folder of runs, listed (read on the worker's thread; the tests count its whole listings).
        self.listing = KeptListing()
        #: How the worker notices changes, in words, once it has started.
        self.watch_kind = ""
        #: How many times the worker has woken (the tests wait on it, not on a clock).
        self.rounds = 0

    # ------------------------------------------------------------------ the UI thread

    def follow(self, run: RunDir) -> None:
        """Start following ``run`` (nothing happens for one already followed)."""
        if run_ref(run) not in self.followed:
            self._requests.put(run)
            self._wake.set()

    def rescan(self) -> None:
        """List every run again now, whole (a run was deleted here)."""
        self._scan_now.set()
        self._wake.set()

    def stop(self) -> None:
        """End :meth:`follow_forever` at once: the app is closing, and its exit waits for this
        thread, which may be asleep until something changes."""
        self._stopped.set()
        self._wake.set()

    @property
    def shown(self) -> FollowedRun | None:
        return self.followed.get(self.shown_id)

    def live(self) -> list[FollowedRun]:
        """The followed runs that train now, oldest first."""
        return sorted((f for f in self.followed.values() if f.live), key=lambda f: (f.host, f.run.id))

    def apply(self, message: RunMoved) -> FollowedRun | None:
        followed = self.followed.get(message.run_id)
        if followed is None:
            return None
        for event, when in message.events:
            followed.history.add(event, when)
        if message.state and message.state != followed.state:
            followed.state = message.state
        if message.message:
            followed.message = message.message
        if followed.requested and REACHED[followed.requested](followed.state):
            followed.requested = ""
        return followed

    # ------------------------------------------------------------------ the worker's thread

    def follow_forever(self, post: Callable[[Message], object], cancelled: Callable[[], bool]) -> None:
        """Follow and list until ``cancelled()`` or :meth:`stop`; hand what it finds to ``post`` (thread-safe)."""
        watch = RunWatch(self._wake.set, signals=self._signals)
        self.watch_kind = watch.kind
        try:
            self._follow(watch, post, cancelled)
        finally:
            watch.close()

    def _follow(self, watch: RunWatch, post: Callable[[Message], object], cancelled: Callable[[], bool]) -> None:
        followers: dict[str, RunFollower] = {}
        states: dict[str, str] = {}
        held: dict[str, list[TimedEvent]] = {}  # events read but not yet posted, per run
        posted: dict[str, float] = {}  # when each run's last RunMoved was posted
        relist: set[Path] = set()  # runs to summarise again: they moved as the followers saw
        next_state = 0.0
        listed = False
        while not (cancelled() or self._stopped.is_set()):
            self.rounds += 1
            while not self._requests.empty():
                run = self._requests.get()
                ref = run_ref(run)
                if ref not in followers:
                    follower = followers[ref] = RunFollower(run)
                    update = follower.poll()
                    states[ref] = update.state
                    log = run.log_path if run.log_path.is_file() else None
                    history = RunHistory.from_events(update.events)
                    post(RunBackfilled(run, history, update.state, log, _failure_message(run, update.state)))
                    relist.add(run.path)  # a run launched here is listed at once
            changes = watch.take()
            now = time.monotonic()
            with_state = now >= next_state
            if with_state:
                next_state = now + STATE_INTERVAL_S
            for run_id, follower in list(followers.items()):
                if states.get(run_id) not in LIVE_STATES and follower.run.path not in changes.written:
                    continue  # it does not train and nothing in its folder changed: nothing to read
                written = follower.run.path in changes.written
                due = now >= posted.get(run_id, 0.0) + POST_INTERVAL_S
                if not (due or with_state or written):
                    continue  # it reported a moment ago: what it writes now would wait anyway
                update = follower.poll(with_state=with_state or written)
                if update.state:
                    changed, states[run_id] = update.state != states.get(run_id), update.state
                else:
                    changed = False
                held.setdefault(run_id, []).extend(update.events)
                if update.gone or changed or (held[run_id] and due):
                    message = _failure_message(follower.run, states[run_id]) if changed else ""
                    post(RunMoved(run_id, held.pop(run_id), states[run_id], update.gone, message))
                    posted[run_id] = now
                if update.gone or changed:
                    relist.add(follower.run.path)  # the listing shows the new state at once
                if update.gone:
                    del followers[run_id]
                    posted.pop(run_id, None)
            if self._scan_now.is_set():
                self._scan_now.clear()
                changes.roots |= set(watch.roots)
            if changes.roots or changes.listed or relist or not listed:
                moved = self.listing.update(watch.roots, changes, relist)
                relist.clear()
                shown = [runs_dir(), *(host_runs_dir(host) for host in self.hosts)]  # this machine's, then each host's
                if moved & set(shown) or not listed:
                    post(RunsListed([summary for root in shown for summary in self.listing.summaries(root)]))
                listed = True
            # Runs that train are polled every POLL_INTERVAL_S, or when they may report again;
            # with none training, the worker sleeps until the watch wakes it (or looks at its stamps).
            wake_at = watch.due()
            training = [run_id for run_id in followers if states.get(run_id) in LIVE_STATES]
            if training:
                wake_at = min(wake_at, next_state, *(posted.get(run_id, 0.0) + POST_INTERVAL_S for run_id in training))
            self._wake.wait(max(POLL_INTERVAL_S, wake_at - time.monotonic()))
            self._wake.clear()


def _failure_message(run: RunDir, state: str) -> str:
    """status.json's message of a run that failed (its events may not say why: a launch that
    failed), read on the worker's thread; "" for any other state."""
    return run.read_status().message if state == "failed" else ""


def activity_text(runs: LiveRuns) -> str:
    """The status bar's line on every screen: ``▶ epoch 3/12 loss 0.2310 · 2 training``."""
    shown = runs.shown
    return activity_line(shown.facts if shown is not None else None, len(runs.live()))
