"""Who trains a run, exactly: an OS lock on the run folder, and a heartbeat for other hosts.

The training process holds an exclusive ``flock`` on ``<run>/lock`` for as long as it trains
(:class:`RunLock`). The kernel drops the lock the instant the process dies, however it dies, so
"running" versus "interrupted" needs no guessing from pids, and a second trainer of the same run
is refused. A thread touches the lock file every few seconds: a run in a folder shared between
hosts (where this host cannot see the other's processes) shows as ``stale`` once its heartbeat
stops.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
import time
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.runs.status import INTERRUPTED, LIVE_STATES, STALE, STARTING, RunStatus

LOCK_NAME = "lock"
#: Seconds between two touches of the lock file by the training process.
HEARTBEAT_INTERVAL_S = 5.0
#: A live run on another host is stale when its heartbeat is older than this.
STALE_AFTER_S = 60.0
#: A run launched without a handed lock (:class:`HandedLock`: torchrun's workers take it
#: themselves) is ``starting`` until its process takes the lock; after this long without it, the
#: process is taken to have died before it could start.
START_GRACE_S = 60.0
LOCK_TRIES = 10


class RunBusyError(WorkbenchError):
    """Another process trains this run."""


class RunLock:
    """The training process's claim on a run folder. ``acquire()`` once; ``release()`` at the end."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self._fd: int | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self, run_id: str, holder: RunStatus | None = None) -> None:
        """Take the lock (or the one this process's launcher handed it: :class:`HandedLock`), or
        raise :class:`RunBusyError` naming the process that has it."""
        handed = _handed_descriptor(self.path)
        fd = handed if handed is not None else os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not (_take_over(fd) if handed is not None else _try_lock(fd)):
            os.close(fd)
            who = f" (process {holder.pid} on {holder.host})" if holder is not None and holder.pid else ""
            raise RunBusyError(f"run {run_id} is being trained by another process{who}; only one can train it") from None
        self._fd = fd
        os.utime(self.path)
        self._beat = threading.Thread(target=self._heartbeat, name="workbench-heartbeat", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_INTERVAL_S):
            try:
                os.utime(self.path)
            except OSError:
                pass  # the folder went away: the trainer finds out at its next write

    def release(self) -> None:
        self._stop.set()
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock; a few tries, since a reader's probe (:func:`lock_is_held`)
    holds it for some microseconds and must never make a trainer fail to start."""
    for attempt in range(LOCK_TRIES):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if attempt + 1 < LOCK_TRIES:
                time.sleep(0.02)
    return False


#: The environment variable that tells a launched process which of its descriptors holds its
#: run's lock (see :class:`HandedLock`).
HANDED_LOCK_ENV = "WORKBENCH_HANDED_LOCK_FD"


class HandedLock:
    """A run's lock, taken by whoever launches its training process and handed to that process.

    The launcher takes the lock before the run shows as ``starting`` and passes the descriptor to
    the process it starts (``pass_fds``, and its number in :data:`HANDED_LOCK_ENV`); the process
    keeps it (:meth:`RunLock.acquire`). So from the first moment the lock is held exactly while
    something can still start or train the run: a launcher or a process that dies before training
    lets it go that instant, and the run shows as interrupted at once rather than after a grace
    (a queue used to wait 60 s on such a point, DESIGN.md "Runs are processes")."""

    def __init__(self) -> None:
        self.fd: int | None = None

    def take(self, folder: Path, run_id: str) -> None:
        """Take ``folder``'s lock, or raise :class:`RunBusyError` (a process trains the run)."""
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            raise RunBusyError(f"run {run_id} is being trained by another process; only one can train it")
        self.fd = fd

    @property
    def descriptors(self) -> tuple[int, ...]:
        """What the launched process inherits (``pass_fds``): the lock, when this holds one."""
        return (self.fd,) if self.fd is not None else ()

    def environment(self) -> dict[str, str]:
        """What the launched process's environment adds, to find the descriptor."""
        return {HANDED_LOCK_ENV: str(self.fd)} if self.fd is not None else {}

    def release(self) -> None:
        """The launcher's copy: once the process holds its own, the lock stays with the process."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> HandedLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def handed_to_this_process(folder: Path) -> bool:
    """True when this process's launcher handed it ``folder``'s lock (the lock is held, by us)."""
    try:
        handed, here = os.fstat(int(os.environ.get(HANDED_LOCK_ENV, ""))), os.stat(folder / LOCK_NAME)
    except (ValueError, OSError):
        return False
    return (handed.st_dev, handed.st_ino) == (here.st_dev, here.st_ino)


def _handed_descriptor(path: Path) -> int | None:
    """The descriptor of ``path`` that this process's launcher handed it, if it handed one. The
    variable is taken out of the environment: nothing this process starts inherits the claim."""
    if not handed_to_this_process(path.parent):
        return None  # none, or a descriptor of another run: not this one's to keep
    fd = int(os.environ.pop(HANDED_LOCK_ENV))
    os.set_inheritable(fd, False)
    return fd


def _take_over(fd: int) -> bool:
    """Make a handed lock this process's own in the kernel's lock table, which names the process
    that took it (the launcher, now gone or busy elsewhere): :func:`lock_holder` and the signals of
    pause and stop must find this one. Turning the lock shared and back registers it anew. Each
    turn is non-blocking, so a trainer that slipped in between keeps the run, and this process
    refuses it: never two."""
    for attempt in range(LOCK_TRIES):
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:  # a reader's probe held it for some microseconds
            if attempt + 1 < LOCK_TRIES:
                time.sleep(0.02)
    return False


def lock_is_held(folder: Path) -> bool:
    """True while some process holds the run's lock (this host's view)."""
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # also drops the lock if this probe took it
    return False


def lock_holder(folder: Path) -> int | None:
    """The pid of the process holding the run's lock, from the kernel's own table (Linux's
    /proc/locks); None when no process holds it or the table cannot be read here."""
    try:
        stat = (folder / LOCK_NAME).stat()
        table = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    for line in table.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 7089 fe:00:2147082 0 EOF" (blocked waiters are marked "->")
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == device and fields[4].isdigit():
            return int(fields[4])
    return None


def heartbeat_age(folder: Path, now: float | None = None) -> float | None:
    """Seconds since the training process last touched the lock file (None: no lock file)."""
    try:
        touched = (folder / LOCK_NAME).stat().st_mtime
    except OSError:
        return None
    return max(0.0, (time.time() if now is None else now) - touched)


def shown_state(folder: Path, status: RunStatus) -> str:
    """The state to show: the recorded one, unless its process is gone (or out of touch)."""
    if status.state not in LIVE_STATES:
        return status.state
    if status.host and status.host != socket.gethostname():
        age = heartbeat_age(folder)
        return status.state if age is not None and age < STALE_AFTER_S else STALE
    if lock_is_held(folder):
        return status.state
    if (
        status.state == STARTING
        and not status.lock_handed
        and time.time() - max(status.created_ts, status.launched_ts) < START_GRACE_S
    ):
        return STARTING
    return INTERRUPTED
