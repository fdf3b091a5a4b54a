"""Runs of other hosts over a real sshd on loopback: each host its own WORKBENCH_HOME (slow).

What the near side shows of a host's run must be what the host has: the mirror's metrics.jsonl
is compared byte for byte with the far one's, through pauses, stops and dropped connections.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hosts.conftest import on_host
from tests.hosts.loopback import Sshd
from tests.processes import LONG_EPOCHS, wait_until
from workbench.cli import main
from workbench.hosts import mirror
from workbench.hosts.remotes import Remote, user_config_path
from workbench.hosts.session import HostSession, HostSessions
from workbench.hosts.ssh import close_master, control_dir
from workbench.paths import runs_dir
from workbench.runs.folder import RunDir
from workbench.runs.listing import list_runs

pytestmark = pytest.mark.slow

MakeHost = Callable[..., tuple[Remote, Path]]


def far_run(home: Path, run_id: str) -> RunDir:
    return RunDir(home / "data" / "runs" / run_id)


def trained_on(home: Path, epochs: int = 2) -> str:
    """Train digits-mlp on a host, there (as its user would); the run's id."""
    on_host(home, "train", "digits-mlp", "--epochs", str(epochs))
    (run_id,) = [p.name for p in (home / "data" / "runs").iterdir() if not p.name.startswith(".")]
    return run_id


def start_on(host: str, capsys: pytest.CaptureFixture[str], *more: str) -> str:
    """`workbench train digits-cnn --on HOST --detach`, as a user types it; the new run's id."""
    assert main(["train", "digits-cnn", "--on", host, "--detach", "--epochs", LONG_EPOCHS, *more]) == 0
    ref = capsys.readouterr().out.strip().splitlines()[0]
    assert ref.startswith(f"{host}:")
    return ref.partition(":")[2]


def epochs_in(run: RunDir) -> int:
    return sum(1 for record in run.read_events() if record.get("event") == "EpochEnded")


def test_runs_lists_every_hosts_runs_and_a_refusing_host_in_one_line(
    make_host: MakeHost, capsys: pytest.CaptureFixture[str]
) -> None:
    _, home = make_host("box")
    make_host("down", refused=True)
    run_id = trained_on(home)
    status = main(["runs", "--remote", "box", "--remote", "down"])
    out, err = capsys.readouterr()
    header, *rows = [line for line in out.splitlines() if line.strip()]
    assert header.split()[:3] == ["host", "id", "state"]
    assert [row.split()[:3] for row in rows] == [["box", f"box:{run_id}", "finished"]]
    assert status == 1 and len(err.strip().splitlines()) == 1
    assert "down" in err and "refused" in err
    assert main(["runs", "--remote", "box", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["host"], listed["id"], listed["state"]) == ("box", run_id, "finished")


def test_a_host_prefixed_id_of_an_unknown_host_names_the_configured_ones(
    make_host: MakeHost, capsys: pytest.CaptureFixture[str]
) -> None:
    make_host("box")
    assert main(["stop", "gpu9:20261207-101500-digits-cnn"]) == 1
    err = capsys.readouterr().err
    assert "unknown host 'gpu9' (configured: box)" in err and len(err.strip().splitlines()) == 1


def test_run_ids_and_remote_text_are_never_read_as_shell(
    make_host: MakeHost, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_host("box")
    witness = tmp_path / "pwned"
    trained = f"box:x; touch {witness}; $(touch {witness}) `touch {witness}`"
    assert main(["stop", trained]) == 1
    err = capsys.readouterr().err
    assert "no run" in err and not witness.exists()


def test_start_follow_pause_continue_and_stop_a_run_on_a_host(make_host: MakeHost, capsys: pytest.CaptureFixture[str]) -> None:
    remote, home = make_host("box")
    run_id = start_on("box", capsys)
    far = far_run(home, run_id)
    sessions = HostSessions.for_remotes([remote])
    session = sessions.get("box")
    try:
        session.follow(run_id)
        mirrored = mirror.mirrored_run("box", run_id)
        wait_until(lambda: epochs_in(mirrored) >= 2, what="two epochs mirrored live")
        assert session.connection.state == mirror.CONNECTED
        assert mirror.read_connection("box").state == mirror.CONNECTED  # type: ignore[union-attr]
        # the listing (looked at every 0.5 s) says running: two fast epochs may come before it
        wait_until(lambda: mirrored.state() == "running", what="the mirror to say running")
        # the app's listing reads the mirror like a local run folder
        (summary,) = list_runs(mirror.host_runs_dir("box"))
        assert (summary.host, summary.ref, summary.state) == ("box", f"box:{run_id}", "running")

        assert "paused" in session.control(run_id, "pause")
        wait_until(lambda: mirrored.state() == "paused", what="the mirror to say paused")
        assert main(["continue", f"box:{run_id}"]) == 0
        assert capsys.readouterr().out.strip() == f"box: {run_id} is running"
        wait_until(lambda: mirrored.state() == "running", what="the mirror to say running")

        assert main(["stop", f"box:{run_id}"]) == 0
        assert "stopped" in capsys.readouterr().out
        wait_until(lambda: session.ended(run_id) == "stopped", what="the followed stream to end")
        assert far.read_status().state == "stopped"
        wait_until(lambda: mirrored.state() == "stopped", what="the mirror to say stopped")
        assert mirrored.metrics_path.read_bytes() == far.metrics_path.read_bytes()
    finally:
        sessions.close_all()


def test_logs_of_a_host_run_print_what_the_host_prints(make_host: MakeHost, capsys: pytest.CaptureFixture[str]) -> None:
    _, home = make_host("box")
    run_id = trained_on(home)
    there = on_host(home, "logs", run_id).stdout
    assert main(["logs", f"box:{run_id[:12]}", "-f"]) == 0  # a prefix, resolved by the host
    assert capsys.readouterr().out == there
    assert main(["logs", f"box:{run_id}"]) == 0  # again: the mirror is whole, nothing is added twice
    assert capsys.readouterr().out == there


def test_pull_a_run_then_eval_it_here_gives_the_hosts_metrics(make_host: MakeHost, capsys: pytest.CaptureFixture[str]) -> None:
    _, home = make_host("box")
    run_id = trained_on(home)
    there = json.loads(on_host(home, "eval", run_id, "--json").stdout)
    assert main(["eval", f"box:{run_id}", "--json"]) == 0  # evaluated there, from here
    assert json.loads(capsys.readouterr().out)["metrics"] == there["metrics"]
    assert main(["pull", f"box:{run_id}"]) == 0
    assert "SHA-256 checked" in capsys.readouterr().out
    assert main(["eval", run_id, "--json"]) == 0
    here = json.loads(capsys.readouterr().out)
    assert here["metrics"] == there["metrics"] and here["num_samples"] == there["num_samples"]
    # pulled again: refused in one line, the local run untouched
    assert main(["pull", f"box:{run_id}"]) == 1
    assert "is here already" in capsys.readouterr().err


def test_pull_of_one_checkpoint_and_a_damaged_pack_refused(
    make_host: MakeHost, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box, home = make_host("box")
    run_id = trained_on(home)
    assert main(["pull", f"box:{run_id}", "--checkpoint", "best"]) == 0
    capsys.readouterr()
    pulled = RunDir(Path(list_runs()[-1].path))
    assert sorted(p.name for p in pulled.checkpoints_dir.iterdir()) == ["best.pt"]

    # a pack whose best.pt changed on the way: one line, and nothing pulled
    pack = bytearray(on_host(home, "pack", run_id, "--checkpoint", "best", text=False).stdout)  # type: ignore[arg-type]
    weights = far_run(home, run_id).best_checkpoint.read_bytes()
    at = pack.index(weights[:4096]) + 2048
    pack[at] ^= 0xFF
    tampered = tmp_path / "tampered.tar"
    tampered.write_bytes(bytes(pack))
    far = tmp_path / "far.sh"  # a host that names the run as asked, then sends the tampered pack
    far.write_text(f'if [ "$1" = logs ]; then echo "{{\\"run\\": \\"$2\\"}}"; else cat {tampered}; fi\n')
    with user_config_path().open("a", encoding="utf-8") as config:
        options = ", ".join(f'"{option}"' for option in box.ssh_options)
        config.write(f'[remotes.tampered]\ndestination = "{box.destination}"\ncommand = "sh {far}"\nssh_options = [{options}]\n')
    shutil.rmtree(pulled.path)
    try:
        assert main(["pull", f"tampered:{run_id}"]) == 1
    finally:
        close_master(Remote("tampered", box.destination, ssh_options=box.ssh_options))
    err = capsys.readouterr().err
    assert "checkpoints/best.pt did not match the manifest's SHA-256; nothing was pulled" in err
    assert list_runs() == [] and not list(runs_dir().glob(".pulling-*"))


def _master_pid(remote: Remote) -> int:
    from workbench.hosts.ssh import ssh_options

    check = subprocess.run(
        [*ssh_options(remote), "-O", "check", "--", remote.destination], capture_output=True, text=True, timeout=10
    )
    found = re.search(r"pid=(\d+)", check.stderr + check.stdout)
    assert found, check.stderr
    return int(found.group(1))


def test_a_dropped_connection_resumes_every_stream_with_nothing_twice_or_missed(
    make_host: MakeHost, sshd: Sshd, capsys: pytest.CaptureFixture[str]
) -> None:
    import os
    import signal

    remote, home = make_host("box")
    run_id = start_on("box", capsys)
    far = far_run(home, run_id)
    session = HostSession(remote).start()
    states: list[str] = []
    try:
        session.follow(run_id)
        mirrored = mirror.mirrored_run("box", run_id)
        wait_until(lambda: epochs_in(mirrored) >= 1, what="an epoch mirrored")

        os.kill(_master_pid(remote), signal.SIGKILL)  # the near end: the ssh client dies
        wait_until(lambda: (states.append(session.connection.state) or session.connection.state) == mirror.RECONNECTING)
        before = epochs_in(mirrored)
        wait_until(lambda: session.connection.state == mirror.CONNECTED and epochs_in(mirrored) >= before + 1, what="resumed")

        sshd.drop_sessions()  # the far end: the sshd serving the connection dies
        wait_until(lambda: session.connection.state != mirror.CONNECTED, what="the drop noticed")
        before = epochs_in(mirrored)
        wait_until(lambda: session.connection.state == mirror.CONNECTED and epochs_in(mirrored) >= before + 1, what="resumed")

        stream = subprocess.run(["pgrep", "-P", str(os.getpid()), "-f", f"logs {run_id}"], capture_output=True, text=True)
        os.kill(int(stream.stdout.split()[0]), signal.SIGKILL)  # one stream's ssh client dies: that stream alone reopens
        before = epochs_in(mirrored)
        wait_until(lambda: epochs_in(mirrored) >= before + 1, what="the stream reopened")
        assert session.connection.state == mirror.CONNECTED

        on_host(home, "stop", run_id)
        wait_until(lambda: session.ended(run_id) is not None, what="the stream's end")
        data = mirrored.metrics_path.read_bytes()
        assert data == far.metrics_path.read_bytes()
        lines = data.splitlines()
        assert len(lines) == len(set(lines))  # no event twice (each holds its own time stamp)
    finally:
        session.close()


def test_a_refusing_host_is_unreachable_since_and_a_silent_one_never_slows_the_other(make_host: MakeHost, sshd: Sshd) -> None:
    import socket

    box, home = make_host("box")
    down, _ = make_host("down", refused=True)
    run_id = trained_on(home, epochs=1)
    with socket.socket() as silent_port:  # takes connections (the kernel does) and never says a word
        silent_port.bind(("127.0.0.1", 0))
        silent_port.listen(8)
        options = (*sshd.options(silent_port.getsockname()[1]), "-o", "ConnectTimeout=600")  # the host's own, first
        silent = Remote("silent", box.destination, box.command, options)
        sessions = HostSessions.for_remotes([down, silent, box])
        try:
            assert sessions.get("box").wait_listed(90)
            assert (mirror.host_runs_dir("box") / run_id / "status.json").is_file()
            assert sessions.get("box").connection.state == mirror.CONNECTED
            assert sessions.get("silent").connection.state == mirror.CONNECTING  # still waiting, on its own thread
            wait_until(lambda: (c := mirror.read_connection("down")) is not None and c.state == mirror.UNREACHABLE)
            connection = mirror.read_connection("down")
            assert connection is not None and "refused" in connection.message
            assert re.fullmatch(r"\d\d:\d\d", connection.since_local())
        finally:
            started = time.monotonic()
            sessions.close_all()
            closed_in = time.monotonic() - started
    assert closed_in < 10  # the silent host's call is ended, not waited for (its timeout is minutes)


def test_a_far_side_of_another_protocol_is_one_line_naming_both_versions(make_host: MakeHost) -> None:
    from workbench import __version__
    from workbench.errors import WorkbenchError
    from workbench.hosts.session import check_version

    box, _ = make_host("box")
    newer = Remote("box", box.destination, ("sh", "-c", """echo '{"workbench": "9.0.0", "protocol": 99}'"""), box.ssh_options)
    with pytest.raises(WorkbenchError) as caught:
        check_version(newer)
    assert str(caught.value) == (
        f"box runs workbench 9.0.0 (protocol 99), newer than this workbench {__version__} (protocol 1): "
        "install the same version on both"
    )


def test_the_master_socket_lives_in_a_private_folder() -> None:
    folder = control_dir()
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_run_deleted_on_its_host_leaves_the_mirror_whether_seen_or_missed(make_host: MakeHost) -> None:
    import os
    import signal

    box, home = make_host("box")
    first = trained_on(home, epochs=1)
    on_host(home, "train", "digits-mlp", "--epochs", "1", "--name", "second")
    second = next(p.name for p in (home / "data" / "runs").iterdir() if p.name.endswith("-second"))
    session = HostSession(box).start()
    try:
        assert session.wait_listed(60)
        assert mirror.mirrored_ids("box") == {first, second}
        on_host(home, "delete", first, "--yes")  # seen: the listing says it is gone
        wait_until(lambda: mirror.mirrored_ids("box") == {second}, what="the deleted run's mirror to go")

        states: list[str] = []
        os.kill(_master_pid(box), signal.SIGKILL)  # the connection drops...
        shutil.rmtree(far_run(home, second).path)  # ...and the run goes while no listing speaks
        wait_until(lambda: states.append(session.connection.state) or mirror.RECONNECTING in states, what="the drop")
        wait_until(lambda: session.connection.state == mirror.CONNECTED, what="reconnected")
        assert mirror.mirrored_ids("box") == set()  # missed: the new listing is all there is
    finally:
        session.close()


def test_train_on_a_host_checks_the_device_there_not_here(make_host: MakeHost, capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.experiment.devices import visible_cuda_devices

    if visible_cuda_devices() != 0:
        pytest.skip("this machine has CUDA: the host (this machine too) would train the run")
    make_host("box")
    assert main(["train", "digits-mlp", "--set", "train.device=cuda", "--on", "box", "--detach"]) == 1
    err = capsys.readouterr().err.strip()
    # refused by the host, in its words: before, this machine refused it as its own
    assert err.startswith("error: box: train.device: 'cuda' requested but CUDA is not available") and "\n" not in err


def test_a_far_side_older_than_version_or_missing_is_one_line(make_host: MakeHost, tmp_path: Path) -> None:
    from workbench import __version__
    from workbench.errors import WorkbenchError
    from workbench.hosts.session import check_version

    box, _ = make_host("box")
    old = tmp_path / "old-workbench"  # a workbench from before `version`: it knows only --version
    old.write_text('if [ "$1" = --version ]; then echo "workbench 0.0.9"; else echo "usage: workbench" >&2; exit 2; fi\n')
    older = Remote("box", box.destination, ("sh", str(old)), box.ssh_options)
    with pytest.raises(WorkbenchError) as caught:
        check_version(older)
    assert str(caught.value) == (
        f"box runs workbench 0.0.9, older than this workbench {__version__} (it has no `workbench version --json`): "
        "install the same version on both"
    )
    missing = Remote("box", box.destination, (str(tmp_path / "nowhere" / "workbench"),), box.ssh_options)
    with pytest.raises(WorkbenchError) as caught:
        check_version(missing)
    message = str(caught.value)
    assert message.startswith(f"box: no workbench answered `{tmp_path}/nowhere/workbench version --json` (")
    assert "No such file or directory" in message and "[remotes.box]" in message and "\n" not in message


def test_export_of_a_host_run_prints_its_metrics_from_the_host_and_a_file_export_says_pull_first(
    make_host: MakeHost, capsys: pytest.CaptureFixture[str]
) -> None:
    """``export box:RUN`` said "no runs yet" (it looked here). The metrics come from the host as
    it prints them; a model or a file, which would be written here, needs the run pulled first."""
    _, home = make_host("box")
    run_id = trained_on(home)
    there = on_host(home, "export", run_id).stdout
    assert len(there.splitlines()) > 1  # a header and the epochs
    assert main(["export", f"box:{run_id}"]) == 0
    assert capsys.readouterr().out == there
    for option in (["--format", "pt2"], ["--out", "metrics.csv"], ["--tensorboard"]):
        assert main(["export", f"box:{run_id}", *option]) == 1
        said = capsys.readouterr().err
        assert f"pull it first (workbench pull box:{run_id})" in said and said.count("\n") == 1, said
