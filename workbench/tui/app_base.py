"""What the screens, the bars and the command palette know of the app.

They read its state (the draft, the runs it follows, the versions they watch) and ask it for a
few things (show a run, start one, open a preset). Declared here, below them, the app itself
(``app.py``) builds on this class and imports the screens; nothing imports ``app.py`` back, so
the app and its screens form no import cycle, not even one for type checking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.reactive import var

from workbench.experiment.draft import Draft
from workbench.hosts.overview import HostState
from workbench.hosts.remotes import Remote
from workbench.runs.folder import RunDir
from workbench.runs.listing import RunSummary
from workbench.scheduling.plan import LaunchPlan
from workbench.schema.config import RunConfig
from workbench.tui.live_runs import LiveRuns

if TYPE_CHECKING:
    from workbench.hosts.session import HostSession


class WorkbenchAppBase(App[int]):
    """The app as its parts see it; :class:`workbench.tui.app.WorkbenchApp` is the one built."""

    #: The experiment being edited (shared by every screen).
    draft: Draft
    #: The runs the app follows, and which one the Train screen shows.
    runs: LiveRuns
    #: Every run on disk as last listed (None until the first listing, a moment after start).
    listing: list[RunSummary] | None = None
    #: The other hosts whose runs are listed too (``--remote``, ``[remotes]``); empty: this machine alone.
    remotes: tuple[Remote, ...] = ()
    #: Each host's connection as last listed, in the order of ``remotes``.
    host_states: tuple[HostState, ...] = ()
    #: The host `s` starts the experiment on (chosen with `d`), "" for this machine, and its device
    #: there (``auto``, ``cuda:1``: checked by that host, so not written in the draft).
    train_host = ""
    train_host_device = ""

    # Plain vars, not reactives: the App repaints the whole screen when one of its reactives
    # changes, and the watchers redraw just what each value touches (a full repaint every
    # RUNS_REDRAW_INTERVAL_S was most of the app's CPU while attached to a run).
    #: Bumped after every change of the draft; screens and bars watch it.
    draft_version = var(0)
    #: A compact line about the runs in progress, shown in every status bar.
    activity = var("")
    #: Bumped whenever a followed run moves on (new events, a new state) or the shown run changes.
    runs_version = var(0)
    #: Bumped whenever a new listing of every run (``listing``) arrives, every few seconds.
    listing_version = var(0)
    #: Bumped whenever the state of a host's connection (``host_states``) changes.
    hosts_version = var(0)
    #: (train.device name, description) of each device torch can use; empty until detected.
    devices: var[tuple[tuple[str, str], ...]] = var(())

    def show_run(self, run: RunDir) -> None:
        """Follow ``run`` and show it on the Train screen."""
        raise NotImplementedError

    def control_run(self, run: RunDir, action: str) -> None:
        """Pause, continue or stop ``run``, here or through its host's session (blocking: from a
        worker); a refusal raises one line."""
        raise NotImplementedError

    def tell_session(self, host: str, ask: Callable[[HostSession], object]) -> None:
        """Ask ``host``'s session for something off the UI thread; a refusal is one line."""
        raise NotImplementedError

    def fetch_history(self, host: str, run_id: str) -> None:
        """Have ``host``'s session bring a run's metrics into its mirror (once for a run that ended);
        nothing before the sessions are open."""
        raise NotImplementedError

    def refresh_gpus(self) -> None:
        """Ask each host connected for its GPUs now (their memory, what trains on each)."""
        raise NotImplementedError

    def host_session(self, host: str) -> HostSession:
        """The session of ``host`` (blocking callers only); one line when it is not open yet."""
        raise NotImplementedError

    def start_remote_run(self, host: str, config: RunConfig, device: str) -> None:
        """Start ``config`` on ``host`` through its session off the UI thread, then follow the new
        run from its mirror; a refusal is one line."""
        raise NotImplementedError

    def start_run(self, plan: Callable[[], LaunchPlan], what: str) -> None:
        """Plan a launch (``plan`` checks it, reading files) and carry it out off the UI thread,
        then show the run started, or say where the queued one waits."""
        raise NotImplementedError

    def cuda_count(self) -> int:
        """This machine's CUDA devices as detected, for a plan of several workers (from any
        thread); refused in one line while the devices are not known yet."""
        raise NotImplementedError

    def action_show(self, mode: str) -> None:
        """Switch to one of the five screens."""
        raise NotImplementedError

    def screen_bindings(self, mode: str) -> list[Binding]:
        """The keys of a screen, for the palette and the help."""
        raise NotImplementedError

    async def run_on_screen(self, mode: str, action: str) -> None:
        """Switch to ``mode`` and run one of its screen's actions."""
        raise NotImplementedError

    def use_dataset(self, name: str) -> None:
        """Point the draft at dataset ``name``."""
        raise NotImplementedError

    def open_preset(self, name: str) -> None:
        """Replace the draft by a preset, asking first over unsaved changes."""
        raise NotImplementedError

    def open_experiment(self, config: RunConfig, source: str) -> None:
        """Replace the draft by ``config`` (a preset, a past run's experiment)."""
        raise NotImplementedError
