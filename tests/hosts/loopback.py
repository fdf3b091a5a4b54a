"""A real OpenSSH server on loopback, for the remote-host tests and benchmarks (no pytest here).

``/usr/sbin/sshd`` in the foreground on a free port with keys made for it (as
``../shared/tools/ssh-loopback.sh`` does by hand), and hosts that are WORKBENCH_HOMEs reached
through it: sshd passes no environment, so a host's far command is
``env WORKBENCH_HOME=<its home> python -m workbench``.
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from workbench.hosts.remotes import Remote

SSHD = Path("/usr/sbin/sshd")


class NoSshd(RuntimeError):
    """sshd is absent or did not start (the message says which)."""


@dataclass(frozen=True)
class Sshd:
    port: int
    key: Path
    process: subprocess.Popen[bytes]

    def options(self, port: int | None = None) -> tuple[str, ...]:
        """ssh's options to log in here (``port``: another one, which nothing answers)."""
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

    def host(self, name: str, home: Path, refused: bool = False) -> Remote:
        """A host called ``name`` whose workbench keeps its runs in ``home``; ``refused``: one
        whose port refuses connections."""
        command = ("env", f"WORKBENCH_HOME={home}", "OMP_NUM_THREADS=1", sys.executable, "-m", "workbench")
        user = pwd.getpwuid(os.getuid()).pw_name
        return Remote(name, f"{user}@127.0.0.1", command, self.options(free_port() if refused else None))

    def drop_sessions(self) -> None:
        """Kill every connection's sshd process (the listener stays): the far end of a dropped link."""
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
        for pid in children:
            try:
                os.kill(int(pid), 9)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sshd(folder: Path) -> Sshd:
    """Start sshd with keys and a config made in ``folder``; :class:`NoSshd` when it cannot."""
    if not SSHD.exists():
        raise NoSshd(f"{SSHD} is absent: install openssh-server to reach hosts over loopback")
    folder.mkdir(parents=True, exist_ok=True)
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
            return Sshd(port, folder / "user", process)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                error = process.stderr.read().decode() if process.stderr else ""
                raise NoSshd(f"sshd did not start on 127.0.0.1:{port}: {error.strip()[-300:]}") from None
            time.sleep(0.05)
