"""The system's OpenSSH client, the only way to a host: the user's ~/.ssh/config, keys, agent
and ProxyJump apply, and nothing listens on any port on either side.

Every ssh is an argv list (never a shell line here), with one master connection per host
(``ControlMaster=auto`` in a private 0700 folder, kept :data:`CONTROL_PERSIST_S` after its last
use), ``BatchMode=yes`` (a password prompt would hang: it fails instead) and a connect timeout.
The far command is one string, as ssh sends it to the remote shell: each argument quoted
(:func:`shlex.join`), so host names, run ids and experiment text are never read as shell.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from workbench.errors import WorkbenchError
from workbench.hosts.remotes import Remote

CONNECT_TIMEOUT_S = 10
#: How long the master connection stays after its last session: a burst of commands shares it.
CONTROL_PERSIST_S = 60
#: ssh's exit status when ssh itself failed (connecting, authenticating), not the far command.
SSH_FAILED = 255
#: A blocking far command that has not answered in this long is given up.
COMMAND_TIMEOUT_S = 60.0


class HostUnreachable(WorkbenchError):
    """ssh could not reach the host (refused, timed out, no route, authentication failed)."""


def control_dir() -> Path:
    """The private folder of the master connections' sockets: made 0700 and refused if another
    user owns it or others may enter it (a socket there is a logged-in connection). Under /tmp,
    short, as a socket's path must be."""
    base = Path("/tmp") if Path("/tmp").is_dir() else Path(os.path.expanduser("~"))
    folder = base / f"workbench-ssh-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise WorkbenchError(f"{folder}: not a private folder of this user (it should be mode 0700); remove it and try again")
    return folder


def far_command(remote: Remote, args: Sequence[str]) -> str:
    """The line ssh sends to the remote shell: the host's workbench command, then ``args``, each
    quoted. A command that starts with ``~/`` is taken from the remote home ("$HOME"/...),
    the one thing of it the shell is let to expand."""
    program, *rest = remote.command
    if program.startswith("~/"):
        first = '"$HOME"/' + shlex.quote(program[2:])
    else:
        first = shlex.quote(program)
    return " ".join([first, *(shlex.quote(part) for part in (*rest, *args))])


def ssh_options(remote: Remote, connect_timeout_s: int = CONNECT_TIMEOUT_S) -> list[str]:
    """ssh and its options for ``remote``: its master connection, no prompts, timeouts."""
    return [
        "ssh",
        *remote.ssh_options,  # first: ssh takes an option's first value, so these override the defaults below
        "-T",
        "-o",
        "ControlMaster=auto",
        "-o",
        f"ControlPath={control_dir()}/{remote.name}-%C",
        "-o",
        f"ControlPersist={CONTROL_PERSIST_S}",
        "-o",
        "BatchMode=yes",
        "-o",
        f"ConnectTimeout={connect_timeout_s}",
        "-o",
        "ServerAliveInterval=5",
        "-o",
        "ServerAliveCountMax=3",
    ]


def ssh_argv(remote: Remote, args: Sequence[str], connect_timeout_s: int = CONNECT_TIMEOUT_S) -> list[str]:
    """The ssh command that runs ``workbench ARGS`` on ``remote`` over its master connection
    (``--``: a destination is never read as an option)."""
    return [*ssh_options(remote, connect_timeout_s), "--", remote.destination, far_command(remote, args)]


def run_far(
    remote: Remote,
    args: Sequence[str],
    *,
    stdin: str | None = None,
    timeout_s: float = COMMAND_TIMEOUT_S,
    cancel: threading.Event | None = None,
) -> str:
    """Run ``workbench ARGS`` on ``remote`` and return its output; a failure is one line naming
    the host: :class:`HostUnreachable` when ssh failed, else the far command's own error line.
    ``cancel``: once set, the command is ended and HostUnreachable raised (a session closing
    does not wait for a host that does not answer)."""
    try:
        process = subprocess.Popen(
            ssh_argv(remote, args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a Ctrl+C here is the near command's, not ssh's to forward
        )
    except FileNotFoundError:
        raise WorkbenchError("ssh: the OpenSSH client is not installed (remote hosts are reached with `ssh`)") from None
    deadline = time.monotonic() + timeout_s
    given: str | None = stdin or ""
    while True:
        try:
            out, err = process.communicate(input=given, timeout=0.25)
            break
        except subprocess.TimeoutExpired:
            given = None  # sent already: communicate() goes on from where it was
            if (cancel is not None and cancel.is_set()) or time.monotonic() > deadline:
                process.kill()
                process.communicate()
                why = "closed" if cancel is not None and cancel.is_set() else f"no answer within {timeout_s:.0f}s"
                raise HostUnreachable(f"{remote.name}: `workbench {args[0]}`: {why}") from None
    if process.returncode == SSH_FAILED:
        raise HostUnreachable(f"{remote.name}: {last_line(err) or 'ssh failed'}")
    if process.returncode != 0:
        raise WorkbenchError(f"{remote.name}: {last_line(err) or f'workbench {args[0]} ended with status {process.returncode}'}")
    return out


def run_far_json(remote: Remote, args: Sequence[str], **options: Any) -> Any:
    """:func:`run_far` of a command whose output is one JSON document."""
    output = run_far(remote, args, **options)
    try:
        return json_in(output)
    except ValueError:
        raise WorkbenchError(
            f"{remote.name}: `workbench {' '.join(args[:1])}` did not answer JSON ({last_line(output)!r})"
        ) from None


def json_in(output: str) -> Any:
    """The JSON document that ends ``output``: what a shell's start-up files printed before it
    (a greeting in ~/.bashrc) is passed over. ValueError when there is none."""
    try:
        return json.loads(output)
    except ValueError:
        pass
    lines = output.splitlines()
    for start, line in enumerate(lines):
        if line.startswith(("{", "[")):
            try:
                return json.loads("\n".join(lines[start:]))
            except ValueError:
                continue
    raise ValueError("no JSON in the output")


def last_line(text: str) -> str:
    """The last non-empty line of ``text`` (ssh and the far CLI say what went wrong last), without
    the far CLI's ``error:`` prefix."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line.removeprefix("error:").strip()


class FarStream:
    """A far command whose output is JSON lines, read on a thread of its own: ``on_record`` gets
    each object, ``on_end`` once, with the reason ("" when the far command ended by itself)."""

    def __init__(
        self, remote: Remote, args: Sequence[str], on_record: Callable[[dict[str, Any]], None], on_end: Callable[[str], None]
    ) -> None:
        self.remote = remote
        self.args = list(args)
        self._on_record = on_record
        self._on_end = on_end
        self._closing = False
        self._handling = threading.Lock()
        #: When the far command last said anything (a stream says it is alive when quiet).
        self.last_word = time.monotonic()
        # stdin stays open and unused: when this stream ends, the far command sees it close
        # (workbench.hosts.far.near_side_gone) and ends at once.
        self.process = subprocess.Popen(
            ssh_argv(remote, self.args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._thread = threading.Thread(target=self._read, name=f"ssh {remote.name} {self.args[0]}", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None and self.process.stderr is not None
        reason = ""
        try:
            for raw in self.process.stdout:
                self.last_word = time.monotonic()
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue  # not ours (a login banner, a shell's message): the protocol is JSON lines
                with self._handling:
                    if self._closing:
                        break
                    if isinstance(record, dict):
                        self._on_record(record)
        except Exception as error:  # noqa: BLE001 - a failing handler ends this stream, said once
            reason = f"{type(error).__name__}: {error}"
        status = self.process.wait()
        if not reason and status != 0:
            reason = last_line(_read_all(self.process.stderr)) or f"ssh ended with status {status}"
        with self._handling:
            if not self._closing:
                self._on_end(reason)

    def close(self) -> None:
        """End the stream: its ssh, and so the far command. Once this returns no record is
        handled any more, though the reader may still wait for the master connection to let go
        of its pipe (it ends by itself)."""
        if threading.current_thread() is self._thread:
            self._closing = True  # a handler closing its own stream: it holds the lock already
        else:
            with self._handling:
                self._closing = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def _read_all(stream: IO[bytes]) -> str:
    try:
        return stream.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def close_master(remote: Remote) -> None:
    """End the host's master connection (``ssh -O exit``), if one is up, and every session on it
    (for tests and benchmarks that leave nothing behind; a session leaves it to ControlPersist)."""
    argv = [*ssh_options(remote), "-O", "exit", "--", remote.destination]
    try:
        subprocess.run(argv, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        pass  # none to end, or no ssh: nothing is left behind either way
