"""A real OpenSSH server on loopback (:mod:`tests.hosts.loopback`), and other WORKBENCH_HOMEs
standing in for other hosts, configured in the near side's config.toml as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _end_training_processes
from tests.hosts.loopback import NoSshd, Sshd, start_sshd
from workbench.hosts.remotes import Remote, user_config_path
from workbench.hosts.ssh import close_master


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    try:
        server = start_sshd(tmp_path_factory.mktemp("sshd"))
    except NoSshd as error:
        pytest.skip(str(error))
    yield server
    server.stop()


@pytest.fixture
def make_host(sshd: Sshd, tmp_path: Path) -> Iterator[Callable[..., tuple[Remote, Path]]]:
    """``make_host("box")``: a host called box, its own WORKBENCH_HOME reached through the sshd, and
    configured in the near side's config.toml; ``refused=True``: one whose port refuses connections."""
    made: list[tuple[Remote, Path]] = []

    def make(name: str, refused: bool = False) -> tuple[Remote, Path]:
        home = tmp_path / f"host-{name}"
        home.mkdir()
        remote = sshd.host(name, home, refused=refused)
        made.append((remote, home))
        _write_config([r for r, _ in made])
        return remote, home

    yield make
    for remote, home in made:
        close_master(remote)
        _end_training_processes(home)


def _write_config(remotes: list[Remote]) -> None:
    lines = []
    for remote in remotes:
        lines += [
            f"[remotes.{remote.name}]",
            f"destination = {_toml(remote.destination)}",
            f"command = {_toml(' '.join(remote.command))}",
            "ssh_options = [" + ", ".join(_toml(option) for option in remote.ssh_options) + "]",
        ]
    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def on_host(home: Path, *args: str, text: bool = True) -> subprocess.CompletedProcess[Any]:
    """``workbench ARGS`` run on a host directly (as its user would there), in its home."""
    env = {**os.environ, "WORKBENCH_HOME": str(home), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=text, env=env, check=True)
