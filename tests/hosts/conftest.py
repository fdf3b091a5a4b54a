"""A real OpenSSH server on loopback, and other WORKBENCH_HOMEs standing in for other hosts.

The server (``/usr/sbin/sshd`` in the foreground, a free port, keys made for the test session)
is the one the near side reaches with the system's ssh, as it reaches a GPU box. sshd passes no
environment, so each host's far command is ``env WORKBENCH_HOME=<its home> python -m workbench``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import _end_training_processes
from workbench.hosts.remotes import Remote, user_config_path
from workbench.hosts.ssh import close_master

SSHD = Path("/usr/sbin/sshd")


@dataclass(frozen=True)
class Sshd:
    port: int
    key: Path
    process: subprocess.Popen[bytes]

    def options(self, port: int | None = None) -> tuple[str, ...]:
        return (
            "-p",
            str(self.port if port is None else port),
            "-i",
            str(self.key),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
        )

    def drop_sessions(self) -> None:
        """Kill every connection's sshd process (the listener stays): the remote end of a dropped link."""
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
        for pid in children:
            try:
                os.kill(int(pid), 9)
            except ProcessLookupError:
                pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if not SSHD.exists():
        pytest.skip("/usr/sbin/sshd is absent: install openssh-server to run the remote-host tests")
    folder = tmp_path_factory.mktemp("sshd")
    folder.chmod(0o700)
    for name in ("host", "user"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True)
    (folder / "authorized_keys").write_bytes((folder / "user.pub").read_bytes())
    port = free_port()
    (folder / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {folder / 'host'}\nAuthorizedKeysFile {folder / 'authorized_keys'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\nUsePAM no\n"
        f"PidFile {folder / 'sshd.pid'}\nPermitRootLogin prohibit-password\nMaxSessions 50\nMaxStartups 50\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation's empty folder
    process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(folder / "sshd_config")], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                error = process.stderr.read().decode() if process.stderr else ""
                pytest.skip(f"sshd did not start on 127.0.0.1:{port}: {error.strip()[-300:]}")
            time.sleep(0.05)
    yield Sshd(port, folder / "user", process)
    process.terminate()
    process.wait(10)


@pytest.fixture
def make_host(sshd: Sshd, tmp_path: Path) -> Iterator[Callable[..., tuple[Remote, Path]]]:
    """``make_host("box")``: a host called box, its own WORKBENCH_HOME reached through the sshd, and
    configured in the near side's config.toml; ``refused=True``: one whose port refuses connections."""
    made: list[tuple[Remote, Path]] = []

    def make(name: str, refused: bool = False) -> tuple[Remote, Path]:
        home = tmp_path / f"host-{name}"
        home.mkdir()
        command = ("env", f"WORKBENCH_HOME={home}", "OMP_NUM_THREADS=1", sys.executable, "-m", "workbench")
        options = sshd.options(free_port() if refused else None)
        remote = Remote(name, f"{os.environ.get('USER') or _user()}@127.0.0.1", command, options)
        made.append((remote, home))
        _write_config([r for r, _ in made])
        return remote, home

    yield make
    for remote, home in made:
        close_master(remote)
        _end_training_processes(home)


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


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


def on_host(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``workbench ARGS`` run on a host directly (as its user would there), in its home."""
    env = {**os.environ, "WORKBENCH_HOME": str(home), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, env=env, check=check)
