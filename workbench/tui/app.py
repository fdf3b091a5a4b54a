"""The Workbench app: five screens over one shared draft experiment.

Structure (small modules, one job each):

- ``app.py`` (this file): the App, its global keys, opening/saving experiments, quitting.
- ``screens/``: one module per main screen (Data, Model, Optimize, Train, Runs), each a Textual
  *mode* with its own footer, plus the dialogs (confirm, save, open, problems, help, layer editor).
- ``widgets/``: reusable pieces: the bars, the generic :class:`ParamForm`, pictures, the LR chart.
- ``commands.py``: the command palette provider.

The experiment being edited is ``app.draft`` (:class:`workbench.experiment.draft.Draft`, below the UI
line). Every change bumps the reactive ``draft_version``; screens and bars watch it and redraw.

Startup is kept light so the first frame paints within 0.8 s (``benchmarks/first_paint.py``):
this module imports no torch and the first frame no numpy (tests check both), screens are
built when first shown, and torch-heavy work (sample pictures, the LR preview) runs in workers
after mount. The warm-up that loads torch and detects the devices runs on the torch thread
(:mod:`workbench.tui.torch_thread`), which the app does not wait for when it quits:
:func:`run_app` ends the process once the app has closed (``benchmarks/quit.py``).

Runs train in processes of their own; the app follows them (:mod:`workbench.tui.live_runs`):

- ``app.runs``: the followed runs, which one the Train screen shows, and the reading worker.
  Every change bumps the reactive ``runs_version``; screens watch it and draw.
- ``app.start_run(plan, what)``: plan a launch (a new run, a resume, a queued run:
  :mod:`workbench.scheduling.plan`) and carry it out off the UI thread, then follow and show
  the run, or say where the queued one waits. ``app.show_run(run)`` attaches the Train screen to any run.
- ``app.sessions``: one session per host of ``--remote`` / ``[remotes]`` (issue 28), opened off the
  UI thread once the first listing (the mirrors' runs as last seen) is on screen, closed on exit; they keep each host's mirror current, which
  the follower lists and follows like local runs (``host_of``, ``tell_session``).
- ``app.activity``: a short line (``▶ epoch 3/12 loss 0.231 · 2 training``) in every status bar.
- ``app.draft.problems``: training must not start while it is non-empty; ``problems_summary``
  in ``widgets/bars.py`` says why in one line.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from textual import on, work
from textual.binding import Binding
from textual.command import CommandPalette, SearchIcon
from textual.filter import Monochrome
from textual.notifications import SeverityLevel
from textual.reactive import Reactive
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.worker import get_current_worker

from workbench.errors import ConfigError, WorkbenchError
from workbench.experiment.draft import Draft
from workbench.experiment.presets import DEFAULT_PRESET, read_experiment, save_user_preset
from workbench.hosts.ids import split_run_ref
from workbench.hosts.mirror import CONNECTED, Connection, mirrored_run
from workbench.hosts.overview import HostState, host_states
from workbench.hosts.remotes import Remote, configured_remotes
from workbench.paths import runs_dir
from workbench.runs.folder import RunDir
from workbench.runs.mirrored import mirror_host, run_ref
from workbench.runs.words import end_notice
from workbench.scheduling.plan import LaunchPlan, carry_out
from workbench.scheduling.sweep import endings_since
from workbench.schema import config as config_io
from workbench.schema.config import OptimizerConfig, RunConfig, ScheduleConfig
from workbench.tui import code_probes
from workbench.tui.app_base import WorkbenchAppBase
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.live_runs import POST_INTERVAL_S, FollowedRun, LiveRuns, activity_text
from workbench.tui.main_screens import SCREENS
from workbench.tui.messages import EndingsSeen, HostsSeen, RunBackfilled, RunLaunched, RunMoved, RunsListed
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.theme import WORKBENCH_ANSI, WORKBENCH_NO_COLOR_THEME, WORKBENCH_THEME, NoColorFilter
from workbench.tui.torch_thread import on_torch_thread
from workbench.tui.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from workbench.hosts.session import HostSession, HostSessions

#: Seconds between two redraws for runs in progress at most (an event is on screen within about
#: this plus the follower's poll interval): the rate at which the follower hands events over.
RUNS_REDRAW_INTERVAL_S = POST_INTERVAL_S
#: Seconds a run started on another host may take to appear in its mirror, and between two looks.
REMOTE_START_SEEN_S = 30.0
REMOTE_START_POLL_S = 0.1
#: Seconds quitting waits at most for the hosts' sessions to close (their streams, their masters).
SESSIONS_CLOSE_WAIT_S = 2.0
#: Seconds between two looks at the hosts' connection states (connected, reconnecting, unreachable).
HOSTS_CHECK_S = 1.0
#: Seconds between two looks for sweeps that ended and a queue that ran dry.
ENDINGS_CHECK_S = 2.0
#: How long the toast of a run's end stays: long enough to be read on any screen; briefly where
#: the Train screen shows that run, whose headline says the same.
RUN_END_TOAST_S = 15
RUN_END_TOAST_WATCHED_S = 3

#: Seconds after the first frame before torch starts loading in a worker.
WARM_UP_DELAY = 0.5
#: Seconds the app's own torch import waits at most for the user's code to be answered first.
WARM_UP_AFTER_CODE_AT_MOST_S = 10.0
#: The main screen built ahead of its first showing, once the app is warm (see WorkbenchApp._build_ahead).
BUILT_AHEAD = "runs"
#: Middle-generation collections between two full ones once the app is warm (Python's default: 10).
FULL_COLLECTION_EVERY = 100

#: Which screen owns the fields under each top-level section (to go to a problem).
SECTION_SCREENS = {
    "data": "data",
    "model": "model",
    "loss": "optimize",
    "optimizer": "optimize",
    "schedule": "optimize",
    "train": "optimize",
}


def screen_class(mode: str) -> type[WorkbenchScreen]:
    module, _, name = next(screen.location for screen in SCREENS if screen.mode == mode).partition(":")
    return getattr(importlib.import_module(module), name)


def _mode_factory(mode: str) -> Callable[[], WorkbenchScreen]:
    def build() -> WorkbenchScreen:
        screen = screen_class(mode)()
        # Built now, the screen has the app's current styles: Textual re-reads every CSS source and
        # restyles every node of every screen when a new mode's screen carries an older stamp (it
        # loads the screen's own CSS apart). The Runs screen built ahead did so under the screen in
        # use: 0.1 s of the main thread on the Optimize screen's 300 widgets, on each first showing.
        screen._css_update_count = screen.app._css_update_count
        return screen

    return build


_UNDO_REDO = Binding.Group("Undo", compact=True)


def _load_torch() -> tuple[tuple[str, str], ...]:
    """Import what the screens will need of torch; returns the devices it can use."""
    from workbench.engine.device import available_devices
    from workbench.optim.preview import lr_preview

    devices = tuple(available_devices())
    # The first optimizer built imports a thousand modules more (torch._dynamo, sympy):
    # about a second, paid here rather than by the Optimize screen's first preview.
    lr_preview(OptimizerConfig(), ScheduleConfig(), epochs=1, steps_per_epoch=1)
    return devices


class WorkbenchApp(ReportsWorkerErrors, WorkbenchAppBase):
    """The app. Build it with :func:`build_app` (tests pass their own draft)."""

    WORKER_FAILURES = {
        "warm-up": "PyTorch could not be loaded",
        "launch": "The run could not start",
        "follow-runs": "Runs in progress are no longer followed",
        "hosts": "The other hosts could not be reached",
        "host-session": "The host did not answer",
        "host-states": "The hosts' connections could not be read",
        code_probes.GROUP: code_probes.FAILURE_TITLE,
    }

    CSS_PATH = "app.tcss"
    TITLE = "Workbench"
    MODES = {screen.mode: _mode_factory(screen.mode) for screen in SCREENS}
    COMMANDS = WorkbenchAppBase.COMMANDS | {WorkbenchCommands}
    #: Rich's colour names ("green", the charts' "bright_cyan") in Workbench's readable palette.
    ansi_theme_dark = Reactive(WORKBENCH_ANSI, init=False)

    BINDINGS = [
        *[Binding(key, f"show('{mode}')", f"{title} screen", show=False) for mode, title, key, _location in SCREENS],
        Binding("ctrl+s", "save", "Save as preset", show=False),
        Binding("ctrl+o", "open", "Open preset or run", show=False),
        Binding("ctrl+z", "undo", "Undo", group=_UNDO_REDO),
        Binding("ctrl+y", "redo", "Redo", group=_UNDO_REDO),
        Binding("exclamation_mark", "problems", "List problems", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit, even from a text field", show=False, priority=True),
    ]

    def __init__(self, draft: Draft, *, start: str = "data", attach: str = "", remotes: Sequence[Remote] = ()) -> None:
        super().__init__()
        self.register_theme(WORKBENCH_THEME)
        self.register_theme(WORKBENCH_NO_COLOR_THEME)
        self.theme = WORKBENCH_NO_COLOR_THEME.name if self.no_color else WORKBENCH_THEME.name
        # Textual keeps its output filters in a private list; NO_COLOR's is replaced by one that does not crash.
        self._filters = [NoColorFilter() if type(f) is Monochrome else f for f in self._filters]
        self.draft = draft
        self.start = "train" if attach else start
        #: The other hosts (``--remote``, ``[remotes]``), and their sessions once opened (on_mount).
        self.remotes = tuple(remotes)
        self.sessions: HostSessions | None = None
        self.runs = LiveRuns([remote.name for remote in self.remotes])
        self.host_states = tuple(HostState(remote.name, Connection()) for remote in self.remotes)  # connecting
        self._hosts_watched = threading.Event()  # set: the app is closing
        self._sessions_opened = False
        #: Runs this app has seen live, so that each one started elsewhere is announced once.
        self._announced: set[str] = set()
        self._runs_redrawn = 0.0
        self._runs_redraw_due: Timer | None = None
        #: Sweeps and a queue that end after this moment are told (a toast and the bell).
        self._endings_since = time.time()
        #: The main screens built so far (each is built on its first visit and lives as long as the app).
        self._built_modes: set[str] = set()
        #: Printed on the terminal once the app has closed (how to come back to the runs left training).
        self.goodbye: list[str] = []
        #: The app's own torch import waits for the user's code to be run once (see on_ready).
        self._warm_up_waits = False
        self._warm_up_started = False
        if attach:
            host, run_id = split_run_ref(attach)
            self.show_run(mirrored_run(host, run_id) if host else RunDir(runs_dir() / attach))
        draft.subscribe(self._draft_changed)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text, whatever the caller asks: messages carry user text
        (names, paths, error messages), and ``[/]`` in a folder name must not be read as markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_mount(self) -> None:
        self.mode_change_signal.subscribe(self, self._mode_shown)
        self.switch_mode(self.start)
        code_probes.ask_pending(self, self.draft)
        self._follow_runs()
        self.set_interval(ENDINGS_CHECK_S, self._check_endings)
        if self.remotes:
            self._watch_hosts()  # the sessions open once the first listing is on screen: on_runs_listed

    def on_unmount(self) -> None:
        self.runs.stop()  # the follower's thread, which the process's exit waits for
        self._hosts_watched.set()
        if self.sessions is not None:
            # A host that does not answer holds its session's close until its ssh times out (8 s
            # for one that accepts and stays silent): quitting waits for the others, not for it.
            closing = threading.Thread(target=self.sessions.close_all, name="close hosts", daemon=True)
            closing.start()
            closing.join(SESSIONS_CLOSE_WAIT_S)

    @on(CommandPalette.Opened)
    def _plain_palette_icon(self) -> None:
        """The palette's magnifier is an emoji that many terminal fonts lack or draw wide."""
        for icon in self.screen.query(SearchIcon):
            icon.icon = ">"

    def on_ready(self) -> None:
        """After the first frame: load torch in the background, so no screen waits for it later.

        It starts a moment later so that writing the first frame to a slow terminal is not
        competing with the import for the interpreter. While the user's code is being run once
        (the app opened on a model of their own), it waits for that answer (at most
        WARM_UP_AFTER_CODE_AT_MOST_S): on 2 cores the child's torch import, the app's and the
        app's drawing would share the cores, and the tree the user is waiting for comes later.
        """
        if self.draft.pending_probes:
            self._warm_up_waits = True
            self.set_timer(WARM_UP_AFTER_CODE_AT_MOST_S, self._warm_up)
        else:
            self.set_timer(WARM_UP_DELAY, self._warm_up)

    @work(exclusive=True, group="warm-up", exit_on_error=False)
    async def _warm_up(self) -> None:
        if self._warm_up_started:
            return
        self._warm_up_started = True
        # On the torch thread, not in a thread worker: asyncio's shutdown waits for every thread
        # of Textual's worker pool, and `q` would wait seconds for an import still under way.
        self.devices = await on_torch_thread(_load_torch)
        # Importing torch leaves hundreds of thousands of objects that live as long as the app.
        # Frozen, the garbage collector no longer walks them in its full collections; and those
        # come ten times less often, as the widgets' render caches fill the oldest generation.
        # Each stalled the app for 0.1-0.4 s at a random moment (a key, a repaint).
        gc.freeze()
        young, middle, _oldest = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
        # From the app's own queue, not from this worker: a worker resumed while the app closes
        # would add a screen to the stacks Textual is closing one by one.
        self.call_later(self._build_ahead, BUILT_AHEAD)

    def _build_ahead(self, mode: str) -> None:
        """Build a main screen before it is first shown, hidden, once the app is warm: the Runs
        screen's first opening at a thousand runs took 0.5 s (its widgets, their styles, a
        thousand rows) where later ones take 0.1 s (issue 31). It fills its table as it is built."""
        # Not once the app is closing: its shutdown closes the screen stacks one by one, awaiting
        # each, and a stack added meanwhile broke it ('dictionary changed size during iteration').
        if mode != self.current_mode and self.is_running:
            self._init_mode(mode)

    def _mode_shown(self, mode: str) -> None:
        """Once a main screen has been built and painted, freeze what the garbage collector
        tracks, as the warm-up does after torch: the screen's widgets (300 on the Optimize
        screen) and the modules it imported (scikit-learn for the sample pictures) live as long
        as the app. Else each full collection walked them all again: 0.1-0.4 s, one key in 35
        on a 2-core machine (benchmarks/switch_screens.py). Frozen objects are still freed when
        no longer referenced; only a cycle among them would be kept, and five freezes bound that."""
        if mode not in self._built_modes:
            self._built_modes.add(mode)
            self.call_after_refresh(gc.freeze)

    def _draft_changed(self) -> None:
        self.draft_version = self.draft.version
        code_probes.ask_pending(self, self.draft)
        if self._warm_up_waits and not self.draft.pending_probes:
            self._warm_up_waits = False
            self.set_timer(WARM_UP_DELAY, self._warm_up)

    # ------------------------------------------------------------------ runs

    @work(thread=True, exclusive=True, group="follow-runs", exit_on_error=False)
    def _follow_runs(self) -> None:
        worker = get_current_worker()
        self.runs.follow_forever(self.post_message, lambda: worker.is_cancelled)

    def show_run(self, run: RunDir) -> None:
        """Attach the Train screen to ``run`` (followed from now on if it was not); a run of
        another host is its mirror, which its session is told to keep current."""
        ref = run_ref(run)
        self.runs.shown_id = ref
        self._announced.add(ref)
        self.runs.follow(run)
        self.fetch_history(mirror_host(run.path), run.id)
        self._runs_changed()

    # ------------------------------------------------------------------ other hosts

    @work(thread=True, exclusive=True, group="hosts", exit_on_error=False)
    def _open_sessions(self) -> None:
        """One session per host, each connecting on a thread of its own: a host that is slow or
        down never holds this one, nor the others (their states come with the listing)."""
        from workbench.hosts.session import HostSessions

        sessions = HostSessions.for_remotes(list(self.remotes))
        # The runs of hosts shown before the sessions were open (`workbench attach gpu1:RUN`).
        for ref in {self.runs.shown_id, *self.runs.followed}:
            host, run_id = split_run_ref(ref)
            if host:
                sessions.get(host).follow(run_id)
        self.sessions = sessions

    def fetch_history(self, host: str, run_id: str) -> None:
        """Have ``host``'s session bring a run's metrics into its mirror (a run shown, or
        highlighted on the Runs screen): a run that ended once, a live one as it goes; its listing
        alone mirrors no metrics. Before the sessions are open, they follow the run shown when
        they open, and a highlight asks again; ``host`` "": a run of this machine, nothing to do."""
        if host and self.sessions is not None:
            self.tell_session(host, lambda session: session.follow(run_id))

    def refresh_gpus(self) -> None:
        """Ask each host connected for its GPUs now (the Where-to-train dialog: what trains on
        each); its session writes them to connection.json, which the hosts' watcher reads."""
        if self.sessions is not None:
            for state in self.host_states:
                if state.connection.state == CONNECTED:
                    self.tell_session(state.name, lambda session: session.refresh_gpus())

    def host_session(self, host: str) -> HostSession:
        """The session of ``host`` (from any thread); one line when there is none yet."""
        if self.sessions is None:
            raise WorkbenchError(f"host {host} is not connected yet; try again in a moment")
        return self.sessions.get(host)

    @work(thread=True, exclusive=True, group="host-states", exit_on_error=False)
    def _watch_hosts(self) -> None:
        """Each host's connection as its session last wrote it (a small file each), read every
        HOSTS_CHECK_S on a thread of its own until the app closes; posted when it changed."""
        names = [remote.name for remote in self.remotes]
        seen = self.host_states
        while True:
            states = tuple(host_states(names))
            if states != seen:
                seen = states
                self.post_message(HostsSeen(list(states)))
            if self._hosts_watched.wait(HOSTS_CHECK_S):
                return

    def on_hosts_seen(self, message: HostsSeen) -> None:
        self.host_states = tuple(message.hosts)
        self.hosts_version += 1

    @work(thread=True, group="host-session", exit_on_error=False)
    def tell_session(self, host: str, ask: Callable[[HostSession], object]) -> None:
        """Ask ``host``'s session for something (follow a run, stop one), off the UI thread: its
        calls wait on the network; a refusal is one line (worker_errors)."""
        ask(self.host_session(host))

    def control_run(self, run: RunDir, action: str) -> None:
        """Pause, continue or stop ``run`` (blocking: call it off the UI thread): a signal to its
        process here, or the far command through its host's session; a refusal raises one line."""
        host = mirror_host(run.path)
        if host:
            self.host_session(host).control(run.id, action)
        else:
            from workbench.runs.process_control import send_request

            send_request(run, action)

    def start_remote_run(self, host: str, config: RunConfig, device: str) -> None:
        """Start ``config`` on ``host`` (its far ``workbench train - --detach``) on ``device`` there,
        then show the new run once its session has mirrored it."""
        self.notify(f"Starting {config.name} on {host}…", timeout=3)
        self._launch_remote(host, config, device)

    @work(thread=True, group="launch", exit_on_error=False)
    def _launch_remote(self, host: str, config: RunConfig, device: str) -> None:
        session = self.host_session(host)
        run_id = session.start_experiment(config_io.dumps(config), None if device in ("", "auto") else device)
        run = mirrored_run(host, run_id)
        deadline = time.monotonic() + REMOTE_START_SEEN_S
        while not run.status_path.is_file():  # the session's listing mirrors it within a moment
            if time.monotonic() > deadline:
                raise WorkbenchError(
                    f"{run_id} started on {host} but its session has not listed it yet; the Runs screen shows it once it does"
                )
            time.sleep(REMOTE_START_POLL_S)
        self.post_message(RunLaunched(run))

    def start_run(self, plan: Callable[[], LaunchPlan], what: str) -> None:
        """Plan a launch and carry it out off the UI thread (the plan's checks read files), then
        show the run it started, or say where the queued one waits; a launch refused is one line
        in a notification."""
        self.notify(f"{what}…", timeout=3, markup=False)
        self._launch(plan)

    @work(thread=True, group="launch", exit_on_error=False)
    def _launch(self, plan: Callable[[], LaunchPlan]) -> None:
        launched = carry_out(plan())
        if launched.entry is not None:  # the Runs screen lists it once the queue starts it
            self.notify(launched.next_steps(), title=f"Queued {launched.entry.name}", timeout=10, markup=False)
        elif launched.run is not None:
            self.post_message(RunLaunched(launched.run))

    def cuda_count(self) -> int:
        from workbench.tui.train.where_dialog import cuda_devices

        if not self.devices:
            raise WorkbenchError("still finding this machine's devices; try again in a moment")
        return cuda_devices(self.devices)

    def on_run_launched(self, message: RunLaunched) -> None:
        self.show_run(message.run)

    def on_run_backfilled(self, message: RunBackfilled) -> None:
        self.runs.followed[run_ref(message.run)] = FollowedRun(
            message.run, message.history, message.state, message=message.message, log=message.log
        )
        self._runs_changed()

    def on_run_moved(self, message: RunMoved) -> None:
        before = self.runs.followed.get(message.run_id)
        was_live = before is not None and before.live
        followed = self.runs.apply(message)
        if followed is None:
            return
        if message.gone:
            self.notify(
                f"Run {followed.id} was deleted; its view stays until another run is shown", severity="warning", timeout=6
            )
        elif was_live and not followed.live:
            self._say_run_ended(followed)
        self._runs_changed()

    def _say_run_ended(self, followed: FollowedRun) -> None:
        """A run the app followed has ended: a toast on whatever screen is shown, and the
        terminal's bell, for whoever looked away (issue 13: told when it ends)."""
        notice = end_notice(followed.facts)
        # On the Train screen showing the run, its headline says the same: a toast kept there
        # for 15 s covered the log and the epoch table that say how it ended.
        watched = self.current_mode == "train" and self.runs.shown_id == followed.id
        timeout = RUN_END_TOAST_WATCHED_S if watched else RUN_END_TOAST_S
        self.notify(notice.text, title=notice.title, severity=notice.severity, timeout=timeout)
        self.bell()

    @work(thread=True, exclusive=True, group="endings", exit_on_error=False)
    def _check_endings(self) -> None:
        """Sweeps that ended and a queue that ran dry since the last look (their feeder stamps them)."""
        since, self._endings_since = self._endings_since, time.time()
        endings = endings_since(since)
        if endings:
            self.post_message(EndingsSeen(endings))

    def on_endings_seen(self, message: EndingsSeen) -> None:
        """A sweep or the queue has ended: a toast on whatever screen is shown, and the bell."""
        for title, text in message.endings:
            self.notify(text, title=title, timeout=15)
        self.bell()

    def on_runs_listed(self, message: RunsListed) -> None:
        """Keep the new listing for the screens; follow every run that trains on this machine and
        say so for those started elsewhere (a run of another host is followed once shown)."""
        self.listing = message.summaries
        self.listing_version += 1
        if self.remotes and not self._sessions_opened:
            # What the mirrors hold is listed first: each session's ssh client and the far
            # `workbench` it starts would otherwise share the cores with the first listing
            # (on 2 cores, the Runs screen of 3 hosts x 100 runs took 2.8x as long as 300 runs here).
            self._sessions_opened = True
            self.call_after_refresh(self._open_sessions)
        live = [summary.id for summary in message.summaries if summary.is_live and not summary.host]
        new = [run_id for run_id in live if run_id not in self._announced]
        for run_id in live:
            if run_id not in self.runs.followed:
                self.runs.follow(RunDir(runs_dir() / run_id))
        self._announced.update(new)
        if new and not self.runs.shown_id:
            self.show_run(RunDir(runs_dir() / new[-1]))
        if new:
            which = f"{len(new)} runs are" if len(new) > 1 else f"{new[0]} is"
            where = "" if self.current_mode == "train" else "; 4 shows it"
            self.notify(f"{which} training{where}", timeout=6)

    def _runs_changed(self) -> None:
        """Tell the screens, at most once per RUNS_REDRAW_INTERVAL_S: a run's events arrive up to
        ten times a second, and each repaint costs CPU that, on a small machine, the run misses."""
        if self._runs_redraw_due is not None:
            return
        wait = self._runs_redrawn + RUNS_REDRAW_INTERVAL_S - time.monotonic()
        if wait > 0:
            self._runs_redraw_due = self.set_timer(wait, self._runs_redraw)
        else:
            self._runs_redraw()

    def _runs_redraw(self) -> None:
        self._runs_redraw_due = None
        self._runs_redrawn = time.monotonic()
        self.runs_version += 1
        self.activity = activity_text(self.runs)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Global keys wait while a dialog is open (escape it first); quitting always works."""
        return not (
            isinstance(self.screen, ModalScreen) and action in {"show", "save", "open", "undo", "redo", "problems", "help"}
        )

    # ------------------------------------------------------------------ screens

    def action_show(self, mode: str) -> None:
        self.switch_mode(mode)

    async def run_on_screen(self, mode: str, action: str) -> None:
        """Switch to ``mode`` and run one of its screen's actions (used by the palette)."""
        await self.switch_mode(mode)
        await self.run_action(action, self.screen)

    def screen_bindings(self, mode: str) -> list[Binding]:
        """The bindings a main screen declares (for the help screen and the palette)."""
        return [b for b in vars(screen_class(mode)).get("BINDINGS", []) if isinstance(b, Binding)]

    def action_help(self) -> None:
        from workbench.tui.screens.help import HelpScreen

        sections = [("Everywhere", [*self.BINDINGS, *WorkbenchScreen.BINDINGS])]
        sections += [(f"{title} screen ({key})", self.screen_bindings(mode)) for mode, title, key, _location in SCREENS]
        self.push_screen(HelpScreen(sections))

    # ------------------------------------------------------------------ the draft

    def action_undo(self) -> None:
        label = self.draft.undo()
        self.notify(f"Undone: {label}" if label else "Nothing to undo", timeout=2)

    def action_redo(self) -> None:
        label = self.draft.redo()
        self.notify(f"Redone: {label}" if label else "Nothing to redo", timeout=2)

    def action_problems(self) -> None:
        from workbench.tui.screens.dialogs import ProblemsScreen

        if not self.draft.problems:
            self.notify("No problems: the experiment is ready to train", timeout=3)
            return
        self.push_screen(ProblemsScreen(self.draft.problems), self.go_to_field)

    def go_to_field(self, path: str | None) -> None:
        """Show the screen that edits ``path`` and put the focus on it."""
        if not path:
            return
        mode = SECTION_SCREENS.get(path.split(".", 1)[0])
        if mode is None:
            return
        self.switch_mode(mode)
        self.call_after_refresh(self.screen.focus_field, path)  # type: ignore[attr-defined]

    def use_dataset(self, name: str) -> None:
        try:
            self.draft.set_dataset(name)
        except ConfigError as error:
            self.notify(str(error), severity="error")

    # ------------------------------------------------------------------ open and save

    def action_save(self) -> None:
        from workbench.tui.screens.dialogs import SaveScreen

        def saved(path: object) -> None:
            if path is not None:
                self.notify(f"Saved {self.draft.name} to {path}", timeout=4)

        # An edited experiment is no longer what its old description says ("about 98% in
        # seconds" of a preset whose model was changed): the field starts empty, the old one
        # shown as a hint to start from.
        description = self.draft.config.description
        kept = "" if self.draft.dirty else description
        self.push_screen(SaveScreen(self.draft.name, kept, self._save_as, len(self.draft.problems), was=description), saved)

    def _save_as(self, name: str, description: str) -> Path:
        experiment = self.draft.config.copy()
        experiment.description = description
        path = save_user_preset(experiment, name)
        self.draft.set_value("description", description)
        self.draft.mark_saved(name, source=name)
        return path

    def action_open(self) -> None:
        from workbench.tui.screens.dialogs import OpenScreen

        def opened(choice: object) -> None:
            if choice is not None:
                self.open_experiment(choice.config, choice.source)  # type: ignore[attr-defined]

        self.push_screen(OpenScreen(), opened)

    def open_preset(self, name: str) -> None:
        try:
            config = read_experiment(name)
        except WorkbenchError as error:
            self.notify(str(error), severity="error")
            return
        self.open_experiment(config, name)

    def open_experiment(self, config: RunConfig, source: str) -> None:
        """Replace the draft with another experiment, asking first if changes would be lost."""
        from workbench.tui.screens.dialogs import ConfirmScreen

        def load(confirmed: bool | None = True) -> None:
            if confirmed:
                self.draft.load(config, source)
                self.notify(f"Opened {self.draft.name}", timeout=3)

        if self.draft.dirty:
            question = f"Open {config.name or source} and lose the unsaved changes to {self.draft.name}? (ctrl+s saves them)"
            self.push_screen(ConfirmScreen(question, yes="Open", no="Cancel"), load)
        else:
            load()

    # ------------------------------------------------------------------ quitting

    async def action_quit(self) -> None:
        from workbench.tui.screens.dialogs import ConfirmScreen, QuitWithRunsScreen

        live = [followed for followed in self.runs.live() if not followed.host]  # another host's runs are not this app's
        if live:
            self.push_screen(QuitWithRunsScreen([f.id for f in live], dirty=self.draft.dirty), self._quit_with_runs)
        elif self.draft.dirty:
            question = f"Quit and lose the unsaved changes to {self.draft.name}? (ctrl+s saves them)"
            self.push_screen(ConfirmScreen(question, yes="Quit", no="Stay"), self._quit)
        else:
            self.exit(0)

    def _quit(self, confirmed: bool | None) -> None:
        if confirmed:
            self.exit(0)

    def _quit_with_runs(self, choice: str | None) -> None:
        """``quit``: leave, the runs keep training; ``stop``: ask each to stop, then leave."""
        if choice == "stop":
            from workbench.runs.process_control import send_request

            for followed in self.runs.live():
                if followed.host:
                    continue
                try:
                    send_request(followed.run, "stop")
                except WorkbenchError:
                    pass  # it ended meanwhile
        if choice == "quit":
            self.goodbye = [f"{f.id} keeps training: workbench attach {f.id}" for f in self.runs.live() if not f.host]
            self.goodbye.append(
                "`workbench` shows runs in progress; `workbench logs RUN --follow` prints one; `workbench stop RUN` stops one"
            )
        if choice in ("quit", "stop"):
            self.exit(0)


def build_app(
    experiment: str | None = None, *, start: str = "data", attach: str = "", remotes: Sequence[str] = ()
) -> WorkbenchApp:
    """The app with ``experiment`` (a preset name or TOML path; the default preset if None) loaded.

    Reading the file is checked here, before the app starts, so a missing or malformed file is
    one readable ConfigError for the command line; an experiment that reads but is invalid
    opens fine and shows its problems. ``attach``: a run id the Train screen shows at once
    (``gpu1:RUN`` for a run of another host). ``remotes``: ``--remote NAME[=DEST]`` given on the
    command line (else the ``[remotes]`` of the user's config): their runs are listed too.
    """
    ref = experiment or DEFAULT_PRESET
    hosts = configured_remotes(remotes)
    return WorkbenchApp(Draft(read_experiment(ref), source=ref), start=start, attach=attach, remotes=hosts)


def run_app(experiment: str | None, *, attach: str = "", remotes: Sequence[str] = ()) -> NoReturn:
    """Open the app (``workbench [PRESET|FILE]``, ``workbench attach RUN``), then end the process
    with its exit status.

    Once the app has closed (the terminal restored, the thread workers done, the goodbye
    printed), the process ends at once (``os._exit``) rather than through the interpreter's
    shutdown, which would first wait for the torch thread (the warm-up may still be importing
    torch: seconds on a busy machine) and then tear down the modules torch loaded (about
    0.25 s). ``q`` is then followed by the shell's prompt within about 0.2 s
    (``benchmarks/quit.py``). Nothing is lost: runs are processes of their own, the workers
    that write (launching a run, exporting metrics) finish before ``app.run`` returns, and an
    evaluation cut short on the torch thread writes its report atomically or not at all. The
    atexit handlers skipped are torch's and the standard library's, for nothing the app uses.
    """
    app = build_app(experiment, attach=attach, remotes=remotes)
    app.run()
    for line in app.goodbye:
        print(line)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(app.return_code or 0)
