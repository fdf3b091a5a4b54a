"""Runs of other hosts in the app (issue 28): listed with a host column, the state of each
connection in a line, followed live from their mirror, controlled through their host's session.

The mirrors are written here by the mirror's own functions (:mod:`workbench.hosts.mirror`), from
real run folders, exactly as a host's session writes them. The hosts' sessions are real too: the
host ``gpu1`` is ``gpu1.invalid``, a name that never resolves (RFC 6761), so its session finds it
out of reach at once and says so, as it would of a box that is down.
"""

from __future__ import annotations

import asyncio
import json
import shutil

from textual.widgets import DataTable

from workbench.experiment.draft import Draft
from workbench.hosts import mirror
from workbench.hosts.overview import HostState
from workbench.hosts.remotes import Remote
from workbench.runs import events as ev
from workbench.runs.folder import RunDir
from workbench.runs.history import TIME_KEY
from workbench.runs.listing import list_runs
from workbench.tui.app import WorkbenchApp
from workbench.tui.messages import HostsSeen
from workbench.tui.runs.compare import CompareScreen
from workbench.tui.runs.screen import RunsScreen
from workbench.tui.train.screen import TrainScreen

from .helpers import SIZE, fixed_experiment, screen_text, wait_for
from .runs import recorded_run

DOWN = Remote("gpu1", "gpu1.invalid")


def mirrored(host: str, name: str, *, finish: bool = True, val_acc: tuple[float, ...] = (0.5, 0.7, 0.9)) -> RunDir:
    """A real run recorded here, then moved into ``host``'s mirror as its session writes one:
    its status naming the host, its config, its metrics appended from offset 0."""
    run = recorded_run(name, val_acc=val_acc, finish=finish)
    copy = mirror.mirrored_run(host, run.id)
    mirror.write_config(copy, run.config_path.read_text(encoding="utf-8"))
    status = json.loads(run.status_path.read_text(encoding="utf-8"))
    if not finish:
        status["state"] = "running"
    mirror.write_status(copy, host, status)
    assert mirror.append_metrics(copy, 0, run.metrics_path.read_bytes())
    shutil.rmtree(run.path)
    return copy


def app_with(*remotes: Remote, start: str = "runs") -> WorkbenchApp:
    return WorkbenchApp(Draft(fixed_experiment(), source="test"), start=start, remotes=remotes)


def runs_screen(app: WorkbenchApp) -> RunsScreen:
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    return screen


async def test_the_runs_screen_lists_each_hosts_runs_in_a_host_column_with_its_connection_state() -> None:
    recorded_run("laptop-run", val_acc=(0.5,))
    remote = mirrored("gpu1", "box-run")
    app = app_with(DOWN)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(runs_screen(app).shown) == 2, what="both runs listed")
        screen = runs_screen(app)
        assert screen.columns[0] == "host"
        table = screen.query_one("#runs", DataTable)
        hosts = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert hosts == {"here", "gpu1"}
        # The session found the host out of reach: the line says since when, and why.
        await wait_for(pilot, lambda: "gpu1 unreachable since" in screen_text(app), what="the host's state")
        line = next(row for row in screen_text(app).splitlines() if "hosts:" in row)
        assert "(ssh: Could not resolve hostname" in line and len(line.rstrip()) <= SIZE[0]
        # The run of the host that is down stays listed, as its mirror last had it.
        summary = next(s for s in screen.shown if s.host)
        assert summary.ref == f"gpu1:{remote.id}" and summary.state == "finished"
        await pilot.press("slash", *"gpu1", "enter")
        await wait_for(pilot, lambda: [s.ref for s in screen.shown] == [summary.ref], what="the filter on the host")


async def test_enter_on_a_remote_run_follows_it_live_from_its_mirror_with_its_whole_history() -> None:
    remote = mirrored("gpu1", "box-run", finish=False, val_acc=(0.5, 0.7))
    app = app_with(DOWN)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(runs_screen(app).shown) == 1, what="the remote run listed")
        assert runs_screen(app).shown[0].state == "running"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.runs.shown is not None)
        assert app.runs.shown_id == f"gpu1:{remote.id}" and app.runs.shown.host == "gpu1"
        screen = app.screen
        await wait_for(pilot, lambda: screen.query_one("#epochs", DataTable).row_count == 2, what="the backfill")
        # The session appends the next epoch to the mirror: it reaches the screen live.
        epoch = ev.EpochEnded(
            epoch=3,
            epochs=3,
            train={"loss": 0.2, "acc": 0.95},
            val={"loss": 0.25, "acc": 0.93},
            lr=0.01,
            duration_s=0.1,
            samples_per_s=1000.0,
            is_best=True,
            best_epoch=3,
            best_value=0.93,
            monitor="val_acc",
        )
        line = (json.dumps(epoch.to_dict() | {TIME_KEY: 1.0}) + "\n").encode()
        assert mirror.append_metrics(remote, mirror.metrics_size(remote), line)
        await wait_for(pilot, lambda: screen.query_one("#epochs", DataTable).row_count == 3, what="the live epoch")
        assert "gpu1:" in screen_text(app).splitlines()[0] or app.runs.shown.id.startswith("gpu1:")


async def test_pause_on_a_remote_run_goes_to_its_hosts_session_and_a_refusal_is_one_line() -> None:
    mirrored("gpu1", "box-run", finish=False, val_acc=(0.5,))
    app = app_with(DOWN, start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(runs_screen(app).shown) == 1 and app.sessions is not None)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.runs.shown is not None)
        await wait_for(pilot, lambda: app.runs.shown.live, what="the remote run shown live")
        await pilot.press("p")
        # No process here is signalled: the far `pause` goes through ssh, which cannot reach gpu1.
        await wait_for(pilot, lambda: any("gpu1.invalid" in n.message for n in app._notifications), what="the session's refusal")
        refusal = next(n for n in app._notifications if "gpu1.invalid" in n.message)
        assert refusal.severity == "error" and "\n" not in refusal.message and "Traceback" not in refusal.message
        await wait_for(pilot, lambda: app.runs.shown.requested == "", what="the request dropped")


async def test_evaluate_and_resume_on_a_remote_run_go_to_its_host_and_delete_says_where() -> None:
    remote = mirrored("gpu1", "box-run")
    app = app_with(DOWN)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(runs_screen(app).shown) == 1 and app.sessions is not None)

        def said(words: str) -> bool:
            return any(words in n.message and "\n" not in n.message for n in app._notifications)

        # e: evaluated there, through its session; gpu1.invalid cannot be reached, which one line says.
        await pilot.press("e")
        await wait_for(pilot, lambda: said(f"Evaluating gpu1:{remote.id} on gpu1…") and said("gpu1.invalid"))
        app.clear_notifications()
        # r: resumed there (its lock and checkpoints are there), through its session.
        await pilot.press("r")
        await wait_for(pilot, lambda: said(f"Resuming gpu1:{remote.id} on gpu1…") and said("gpu1.invalid"))
        assert isinstance(app.screen, RunsScreen) and not app.runs.followed
        await pilot.press("d")  # the run is the host's: deleting its mirror here would delete nothing there
        await wait_for(
            pilot, lambda: said(f"gpu1:{remote.id} is a run of gpu1: delete it there (workbench delete {remote.id}, on gpu1)")
        )
        assert remote.path.is_dir()


async def test_compare_mixes_a_run_of_this_machine_and_one_of_a_host() -> None:
    recorded_run("laptop-run", val_acc=(0.5, 0.6))
    mirrored("gpu1", "box-run", val_acc=(0.5, 0.7, 0.9))
    app = app_with(DOWN)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(runs_screen(app).shown) == 2)
        await pilot.press("m", "down")
        await wait_for(pilot, lambda: runs_screen(app).highlighted_id != runs_screen(app).marked[0])
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen
        await wait_for(pilot, lambda: "box-run" in screen_text(app) and "laptop-run" in screen_text(app))
        assert {s.host for s in compare.summaries} == {"", "gpu1"}


async def test_compare_tells_apart_a_run_here_and_a_hosts_run_of_the_same_id() -> None:
    here = recorded_run("same-run", val_acc=(0.5, 0.6))
    there = mirrored("gpu1", "same-run", val_acc=(0.5, 0.7, 0.9))
    if there.id != here.id:  # made in another second: the host's copy takes the same id, as it may
        there.path.rename(there.path.with_name(here.id))
    app = app_with(DOWN)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(runs_screen(app).shown) == 2)
        await pilot.press("M", "v")
        both = (f"gpu1:{here.id}", f" {here.id}")  # the host's run named with its host, this machine's bare
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, CompareScreen) and all(label in screen_text(app) for label in both),
            what="both runs labelled, the host's with its host",
        )


async def test_the_where_dialog_lists_each_hosts_gpus_and_s_starts_the_experiment_on_the_host_chosen() -> None:
    from textual.widgets import OptionList

    from workbench.tui.train.where_dialog import WhereScreen

    busy = mirrored("gpu1", "box-run", finish=False, val_acc=(0.5,))
    gpus = [
        {"index": 0, "name": "[b]H100[/b]", "memory_total_mb": 81559, "memory_used_mb": 12288, "busy_with": busy.id},
        {"index": 1, "name": "NVIDIA H100", "memory_total_mb": 81559, "memory_used_mb": 0, "busy_with": None},
    ]
    app = app_with(DOWN, start="train")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.host_states[0].connection.state == "unreachable", what="the session's first word")
        # The host's GPUs as its session lists them once connected (a real one needs sshd: tests/hosts).
        connected = mirror.Connection(state="connected", since=mirror.utc_now_iso(), gpus=gpus)
        app.post_message(HostsSeen([HostState("gpu1", connected)]))
        await wait_for(pilot, lambda: app.host_states[0].connection.gpus, what="the host's GPUs")
        await pilot.press("d")
        busy_line = "cuda:0   0 [b]H100[/b] · 12.0/79.6 GB used · training " + busy.id[:8]  # the far side's words, as they are
        idle_line = "cuda:1   1 NVIDIA H100 · 0.0/79.6 GB used · idle"
        await wait_for(pilot, lambda: busy_line in screen_text(app) and idle_line in screen_text(app), what="the GPUs")
        assert isinstance(app.screen, WhereScreen) and "gpu1 connected" in screen_text(app)
        dialog = app.screen
        # The host lists its GPUs anew (asked as the dialog opened): the rows follow while it is open.
        busier = [gpus[0], {**gpus[1], "memory_used_mb": 40960, "busy_with": "another-run"}]
        app.post_message(HostsSeen([HostState("gpu1", mirror.Connection(state="connected", since=connected.since, gpus=busier))]))
        await wait_for(pilot, lambda: "cuda:1   1 NVIDIA H100 · 40.0/79.6 GB used · training anoth" in screen_text(app))
        options = dialog.query_one("#devices", OptionList)
        options.highlighted = [choice[0] for choice in dialog.choices].index("gpu1:cuda:1")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, WhereScreen))
        assert (app.train_host, app.train_host_device, app.draft.config.train.device) == ("gpu1", "cuda:1", "auto")
        assert "epochs on gpu1 cuda:1" in screen_text(app).splitlines()[1]
        # s starts it there: through the host's session, which cannot reach gpu1.invalid; one line says so.
        await wait_for(pilot, lambda: app.sessions is not None)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.screen is not dialog and type(app.screen).__name__ == "RunNameScreen")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("gpu1.invalid" in n.message for n in app._notifications), what="the refusal")
        assert not app.runs.followed and list_runs() == []  # nothing was started here


async def test_a_hosts_run_highlighted_shows_its_curves_once_its_metrics_reach_the_mirror() -> None:
    remote = mirrored("gpu1", "box-run")
    metrics = remote.metrics_path.read_bytes()
    remote.metrics_path.unlink()  # the listing mirrors a run's status and config, not its metrics
    app = app_with(DOWN)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runs_screen(app).details is not None, what="the run's details")
        screen = runs_screen(app)
        assert not screen.details.history.epochs
        assert mirror.append_metrics(remote, 0, metrics)  # as its session fetches them
        await wait_for(pilot, lambda: len(screen.details.history.epochs) == 3, what="the curves, with no listing")


def test_attach_to_a_hosts_run_opens_the_train_screen_on_its_mirror() -> None:
    """Built as `workbench attach gpu1:RUN` builds it: before any event loop runs."""
    from workbench.tui.app import build_app

    remote = mirrored("gpu1", "box-run", val_acc=(0.5, 0.7, 0.9))
    app = build_app("digits-cnn", attach=f"gpu1:{remote.id}", remotes=["gpu1=gpu1.invalid"])

    async def look() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.runs.shown is not None, what="the run shown")
            assert isinstance(app.screen, TrainScreen) and app.runs.shown_id == f"gpu1:{remote.id}"
            await wait_for(pilot, lambda: app.screen.query_one("#epochs", DataTable).row_count == 3, what="its history")

    asyncio.run(look())


async def test_quitting_does_not_wait_for_a_host_that_accepts_and_never_answers() -> None:
    import socket
    import threading
    import time

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: [accepted.append(server.accept()[0]) for _ in range(8)], daemon=True).start()
    silent = Remote("silent", "127.0.0.1", ("workbench",), ("-p", str(server.getsockname()[1])))
    app = app_with(silent)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.sessions is not None and accepted, what="ssh connected, waiting")
            started = time.monotonic()
            await pilot.press("q")
        assert time.monotonic() - started < 6.0  # it waited 8 s for the silent host's ssh
    finally:
        for connection in accepted:
            connection.close()
        server.close()
