"""Host-qualified run ids and the hosts a user configures (quick: no SSH)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import WorkbenchError
from workbench.hosts.ids import split_run_ref
from workbench.hosts.remotes import DEFAULT_COMMAND, Remote, configured_remotes, find_remote, user_config_path
from workbench.runs.mirrored import qualified_ref


def test_a_host_prefix_splits_off_and_a_local_ref_stays_whole() -> None:
    assert split_run_ref("gpu1:20261207-101500-digits-cnn") == ("gpu1", "20261207-101500-digits-cnn")
    assert split_run_ref("gpu1:latest") == ("gpu1", "latest")
    assert split_run_ref("20261207-101500-digits-cnn") == (None, "20261207-101500-digits-cnn")
    assert split_run_ref("/data/runs/a:b") == (None, "/data/runs/a:b")
    assert qualified_ref("gpu1", "RUN") == "gpu1:RUN" and qualified_ref(None, "RUN") == "RUN"


def test_a_host_name_that_is_not_a_name_is_one_line() -> None:
    with pytest.raises(WorkbenchError, match="not a usable host name"):
        split_run_ref("-oProxyCommand=x:RUN")


def _config(text: str) -> Path:
    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_remotes_come_from_the_config_and_the_command_line() -> None:
    _config('[remotes.gpu1]\ndestination = "me@gpu1.lab"\ncommand = "~/wb/.venv/bin/workbench --verbose"\n[remotes.gpu2]\n')
    assert configured_remotes() == [
        Remote("gpu1", "me@gpu1.lab", ("~/wb/.venv/bin/workbench", "--verbose")),
        Remote("gpu2", "gpu2", DEFAULT_COMMAND),
    ]
    # --remote picks configured ones, or names new ones for this command only
    assert configured_remotes(["gpu1", "box=me@box"]) == [
        Remote("gpu1", "me@gpu1.lab", ("~/wb/.venv/bin/workbench", "--verbose")),
        Remote("box", "me@box", DEFAULT_COMMAND),
    ]
    assert configured_remotes(["gpu2=other"]) == [Remote("gpu2", "other", DEFAULT_COMMAND)]


def test_an_unknown_host_names_the_configured_ones() -> None:
    remotes = [Remote("gpu1", "gpu1"), Remote("gpu2", "gpu2")]
    with pytest.raises(WorkbenchError, match=r"unknown host 'gpu3' \(configured: gpu1, gpu2\)"):
        find_remote("gpu3", remotes)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[remotes\n", "cannot be read"),
        ('remotes = "gpu1"\n', "must be a table of hosts"),
        ('[remotes."bad name"]\n', "not a usable host name"),
        ("[remotes.gpu1]\ndestination = 3\n", "destination must be a non-empty string"),
        ('[remotes.gpu1]\ncommand = ""\n', "command must be a string"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_file(text: str, says: str) -> None:
    path = _config(text)
    with pytest.raises(WorkbenchError, match=says) as caught:
        configured_remotes()
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_an_empty_destination_after_equals_is_refused() -> None:
    with pytest.raises(WorkbenchError, match="give an SSH destination"):
        configured_remotes(["gpu1="])
