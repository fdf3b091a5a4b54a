"""The app with real hosts (issue 28, slow): a real sshd on loopback, each host its own
WORKBENCH_HOME (:mod:`tests.hosts.conftest`), the app's own HostSessions. A run of a host is
followed live on the Train screen, paused, continued and stopped through its session, then
evaluated and resumed there from the Runs screen; a run is started on a host from the
Where-to-train dialog; a host that refuses shows as unreachable while the other one's runs move on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, OptionList

from tests.hosts.conftest import on_host
from tests.processes import LONG_EPOCHS
from tests.tui.helpers import SIZE, fixed_experiment, screen_text, wait_for
from workbench.experiment.draft import Draft
from workbench.hosts.remotes import Remote, configured_remotes
from workbench.tui.app import WorkbenchApp
from workbench.tui.train.screen import TrainScreen
from workbench.tui.train.where_dialog import WhereScreen

pytestmark = pytest.mark.slow

MakeHost = Callable[..., tuple[Remote, Path]]


def the_app(start: str) -> WorkbenchApp:
    """The app as `workbench` opens it with the hosts of the user's [remotes], on an experiment
    long enough to be stopped."""
    experiment = fixed_experiment()
    experiment.train.epochs = int(LONG_EPOCHS)
    return WorkbenchApp(Draft(experiment, source="test"), start=start, remotes=configured_remotes())


async def test_a_hosts_run_is_followed_live_paused_continued_and_stopped_from_the_app(make_host: MakeHost) -> None:
    _, home = make_host("box")
    make_host("down", refused=True)
    on_host(home, "train", "digits-cnn", "--epochs", LONG_EPOCHS, "--detach")
    app = the_app("runs")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: [s.state for s in screen.shown] == ["running"], what="the host's run listed live")
        await wait_for(
            pilot,
            lambda: "box connected" in screen_text(app) and "down unreachable since" in screen_text(app),
            what="both hosts' states",
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.runs.shown is not None)
        shown = app.runs.shown
        assert shown.id.startswith("box:")
        train = app.screen
        await wait_for(pilot, lambda: train.query_one("#epochs", DataTable).row_count >= 1, what="an epoch, live")
        for key, state in (("p", "paused"), ("p", "running"), ("x", "stopped")):
            await pilot.press(key)
            await wait_for(pilot, lambda state=state: shown.state == state, what=f"the run {state} on its host")
        far = home / "data" / "runs" / shown.run.id / "metrics.jsonl"
        await wait_for(pilot, lambda: shown.run.metrics_path.read_bytes() == far.read_bytes(), what="the whole history")
        # On the Runs screen: e evaluates it on its host, r resumes it there.
        await pilot.press("5")
        await wait_for(pilot, lambda: [s.state for s in app.screen.shown] == ["stopped"], what="the run listed stopped")
        await pilot.press("e")
        await wait_for(
            pilot,
            lambda: any(n.title == "Evaluated on its host" and "test split" in n.message for n in app._notifications),
            timeout=120,
            what="its evaluation there",
        )
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and shown.state == "running", what="resumed there")
        await pilot.press("x")
        await wait_for(pilot, lambda: shown.state == "stopped", what="stopped again")


async def test_s_starts_the_experiment_on_the_host_chosen_with_d_and_the_app_follows_it(make_host: MakeHost) -> None:
    _, home = make_host("box")
    app = the_app("train")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.host_states[0].connection.state == "connected", what="the host connected")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, WhereScreen) and "box connected" in screen_text(app))
        dialog = app.screen
        dialog.query_one("#devices", OptionList).highlighted = [c[0] for c in dialog.choices].index("box:auto")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, WhereScreen))
        assert "epochs on box auto" in screen_text(app).splitlines()[1]
        await pilot.press("s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RunNameScreen")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.runs.shown is not None and app.runs.shown.live, timeout=120, what="the far run")
        shown = app.runs.shown
        assert shown.host == "box" and (home / "data" / "runs" / shown.run.id / "config.toml").is_file()
        train = app.screen
        await wait_for(pilot, lambda: train.query_one("#epochs", DataTable).row_count >= 1, what="its first epoch, live")
        await pilot.press("x")
        await wait_for(pilot, lambda: shown.state == "stopped", what="the run stopped on its host")
