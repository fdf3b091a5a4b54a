"""The ssh command lines the near side builds, and where --remote may stand (quick: nothing is run)."""

from __future__ import annotations

import shlex

from workbench.cli import _first_positional, build_parser
from workbench.hosts.remotes import Remote
from workbench.hosts.ssh import control_dir, far_command, ssh_argv


def test_the_far_command_is_quoted_word_by_word_and_only_a_leading_tilde_expands() -> None:
    remote = Remote("gpu1", "me@gpu1", ("~/wb/.venv/bin/workbench", "--verbose"))
    hostile = "RUN; rm -rf ~ $(id) `id` 'quoted' \"dq\""
    line = far_command(remote, ["stop", hostile])
    assert line.startswith('"$HOME"/wb/.venv/bin/workbench --verbose stop ')
    assert shlex.split(line.removeprefix('"$HOME"/'))[-1] == hostile  # one word, as sent
    assert far_command(Remote("a", "a", ("/opt/wb space/workbench",)), ["runs"]) == "'/opt/wb space/workbench' runs"


def test_ssh_gets_a_list_with_the_master_connection_no_prompts_and_the_destination_after_double_dash() -> None:
    remote = Remote("gpu1", "-oProxyCommand=touch /tmp/x", ssh_options=("-p", "2222"))
    argv = ssh_argv(remote, ["runs", "--json"])
    assert argv[0] == "ssh" and "-T" in argv
    options = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-o"]
    assert "ControlMaster=auto" in options and "BatchMode=yes" in options
    assert f"ControlPath={control_dir()}/gpu1-%C" in options
    assert any(o.startswith("ConnectTimeout=") for o in options) and any(o.startswith("ControlPersist=") for o in options)
    assert argv[1:3] == ["-p", "2222"]  # the host's own options first: they override the defaults
    assert argv[-3:] == ["--", "-oProxyCommand=touch /tmp/x", "workbench runs --json"]


def test_remote_may_come_before_or_after_the_command_and_alone_opens_the_app() -> None:
    parser = build_parser()
    assert parser.parse_args(["--remote", "gpu1", "runs"]).remote == ["gpu1"]
    assert parser.parse_args(["runs", "--remote", "gpu1", "--remote", "gpu2=me@b"]).remote == ["gpu1", "gpu2=me@b"]
    assert parser.parse_args(["runs"]).remote is None
    assert _first_positional(["--remote", "gpu1"]) is None  # `workbench --remote gpu1`: the app
    assert _first_positional(["--remote", "gpu1", "logs", "gpu1:RUN"]) == "logs"
    assert parser.parse_args(["app", "--remote", "gpu1"]).remote == ["gpu1"]


def test_what_a_remote_shell_prints_before_the_answer_is_passed_over() -> None:
    import pytest

    from workbench.hosts.ssh import json_in

    assert json_in('{"workbench": "0.1.0", "protocol": 1}\n') == {"workbench": "0.1.0", "protocol": 1}
    assert json_in('Welcome to gpu1!\n[dev] {conda}\n[\n  {"id": "a"}\n]\n') == [{"id": "a"}]
    with pytest.raises(ValueError):
        json_in("bash: workbench: command not found\n")
