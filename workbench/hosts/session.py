"""One host's session: keeps its mirror current over one multiplexed ssh connection.

A :class:`HostSession` runs on a thread of its own. It checks the far side's version, lists its
GPUs, then streams the far runs listing (``runs --json --watch``) into the mirror's status files
and, for each followed run, its metrics from the mirror's size (``logs RUN --json --follow
--offset N``). When the connection drops (the listing stream ends or falls silent) every stream
is closed and, after a backoff, opened again from where its mirror file ends: nothing is shown
twice, nothing is missed. Each host has its own thread and every far call a timeout, so a host
that is down or slow never holds up the others or the caller. The state of the connection is
written to the mirror's connection.json at each change, for the app and the CLI to show.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from workbench import __version__
from workbench.errors import WorkbenchError
from workbench.hosts import mirror
from workbench.hosts.far import ALIVE_EVERY_S, PROTOCOL
from workbench.hosts.remotes import Remote
from workbench.hosts.ssh import FarStream, HostUnreachable, run_far, run_far_json
from workbench.runs.status import LIVE_STATES

#: Seconds between two tries to reach a host, doubling from the first to the last.
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
#: A listing stream silent this long (it says it is alive every ALIVE_EVERY_S) has lost its host.
SILENT_AFTER_S = 3 * ALIVE_EVERY_S
#: How long a far command that acts (pause, stop, start a run) may take.
CONTROL_TIMEOUT_S = 150.0
VERSION_TIMEOUT_S = 30.0
#: How often the mirror's live runs are marked alive while the host's listing speaks (a word of
#: any run's, or its "alive" when quiet): a paused run beside a busy one must not turn stale.
HEARTBEAT_EVERY_S = 2.0
#: How often a host with GPUs is asked for them again (their memory, the run on each).
GPUS_EVERY_S = 30.0


def check_version(remote: Remote, cancel: threading.Event | None = None) -> str:
    """The far side's workbench version; one line naming both versions when it speaks another
    protocol, or is older than ``workbench version`` (then its ``--version`` names it)."""
    try:
        answer = run_far_json(remote, ["version", "--json"], timeout_s=VERSION_TIMEOUT_S, cancel=cancel)
    except HostUnreachable:
        raise
    except WorkbenchError as error:
        raise WorkbenchError(_older_or_missing(remote, str(error), cancel)) from None
    far_version = str(answer.get("workbench", "?")) if isinstance(answer, dict) else "?"
    protocol = answer.get("protocol") if isinstance(answer, dict) else None
    if protocol != PROTOCOL:
        older = "older" if isinstance(protocol, int) and protocol < PROTOCOL else "newer"
        raise WorkbenchError(
            f"{remote.name} runs workbench {far_version} (protocol {protocol}), {older} than this workbench "
            f"{__version__} (protocol {PROTOCOL}): install the same version on both"
        )
    return far_version


def _older_or_missing(remote: Remote, why: str, cancel: threading.Event | None) -> str:
    """What to say of a host that did not answer ``workbench version --json``: a workbench from
    before it (its ``--version`` says which), or no workbench at all (``why``: what it said)."""
    try:
        said = run_far(remote, ["--version"], timeout_s=VERSION_TIMEOUT_S, cancel=cancel).split()
    except WorkbenchError:
        said = []
    if len(said) == 2 and said[0] == "workbench":
        return (
            f"{remote.name} runs workbench {said[1]}, older than this workbench {__version__} (it has no "
            "`workbench version --json`): install the same version on both"
        )
    command = " ".join(remote.command)
    return (
        f"{remote.name}: no workbench answered `{command} version --json` ({why.removeprefix(remote.name + ': ')}); "
        f"install workbench {__version__} there, or set its command in [remotes.{remote.name}]"
    )


class HostSession:
    """Keeps the mirror of one host current; see the module's docstring."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.name = remote.name
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection = mirror.Connection(state=mirror.CONNECTING)
        self._listing: FarStream | None = None
        self._listed = threading.Event()
        self._last_word = 0.0
        self._last_touch = 0.0
        self._dropped = ""
        self._live: dict[str, bool] = {}
        self._followed: set[str] = set()
        self._streams: dict[str, FarStream] = {}
        #: Followed runs whose stream reached the run's end, with the state it ended in.
        self._ended: dict[str, str] = {}

    # ------------------------------------------------------------------ what callers use

    def start(self) -> HostSession:
        """Start keeping the mirror current, on a thread of its own; returns at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"host {self.name}", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread and every stream. The master connection is left to end by itself
        (ControlPersist) rather than ended here: another workbench of this user (the app, a
        `logs -f` in another terminal) may be sharing it."""
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(15)
        self._close_streams()

    def follow(self, run_id: str) -> None:
        """Stream this run's metrics into its mirror (its whole history first, then live)."""
        with self._lock:
            self._followed.add(run_id)
            self._ended.pop(run_id, None)
        self._wake.set()

    def unfollow(self, run_id: str) -> None:
        with self._lock:
            self._followed.discard(run_id)
            stream = self._streams.pop(run_id, None)
        if stream is not None:
            stream.close()

    def ended(self, run_id: str) -> str | None:
        """The state a followed run's stream ended in (its whole history is in the mirror), or None."""
        with self._lock:
            return self._ended.get(run_id)

    @property
    def connection(self) -> mirror.Connection:
        with self._lock:
            return self._connection

    def wait_listed(self, timeout_s: float) -> bool:
        """Wait until the far listing has been mirrored once since the last (re)connection."""
        return self._listed.wait(timeout_s)

    def control(self, run_id: str, action: str) -> str:
        """Pause, continue or stop a run of this host; the far side's one line (blocking)."""
        if action not in ("pause", "continue", "stop"):
            raise ValueError(action)
        answer = run_far_json(self.remote, [action, run_id, "--json"], timeout_s=CONTROL_TIMEOUT_S)
        self._wake.set()
        return str(answer.get("message", "")) if isinstance(answer, dict) else ""

    def evaluate(self, run_id: str, split: str = "test", checkpoint: str | None = None) -> dict[str, Any]:
        """Evaluate a run of this host there (``workbench eval --json``); its report (blocking)."""
        args = ["eval", run_id, "--split", split, "--json", *(["--checkpoint", checkpoint] if checkpoint else [])]
        answer = run_far_json(self.remote, args, timeout_s=CONTROL_TIMEOUT_S * 4)
        if not isinstance(answer, dict):
            raise WorkbenchError(f"{self.name}: the evaluation of {run_id} answered no report")
        return answer

    def resume(self, run_id: str, epochs: int | None = None) -> str:
        """Resume a run of this host there, detached; the run's id (blocking)."""
        args = ["resume", run_id, "--detach", "--json", *(["--epochs", str(epochs)] if epochs is not None else [])]
        answer = run_far_json(self.remote, args, timeout_s=CONTROL_TIMEOUT_S)
        self._wake.set()
        return str(answer.get("run_id", run_id)) if isinstance(answer, dict) else run_id

    def start_experiment(self, config_toml: str, device: str | None = None) -> str:
        """Start the experiment (its TOML) on this host, detached; the new run's id (blocking)."""
        return start_far_run(self.remote, config_toml, device)

    def refresh_gpus(self) -> list[dict[str, Any]]:
        """Ask the host for its GPUs now; they are written to connection.json too (blocking)."""
        gpus = run_far_json(self.remote, ["gpus", "--json"], timeout_s=VERSION_TIMEOUT_S, cancel=self._closed)
        gpus = [gpu for gpu in gpus if isinstance(gpu, dict)] if isinstance(gpus, list) else []
        self._set_connection(gpus=gpus)
        return gpus

    # ------------------------------------------------------------------ the session's thread

    def _run(self) -> None:
        failures = 0
        while not self._closed.is_set():
            try:
                self._connect()
                failures = 0
                if not self._closed.is_set():
                    self._serve()
            except WorkbenchError as error:
                self._close_streams()
                self._set_connection(state=mirror.UNREACHABLE, message=str(error).removeprefix(f"{self.name}: "))
                failures += 1
            if self._closed.is_set():
                return
            self._wake.wait(BACKOFF_S[min(failures, len(BACKOFF_S) - 1)])
            self._wake.clear()

    def _connect(self) -> None:
        """Reach the host and start its listing; raises WorkbenchError when it cannot."""
        state = mirror.RECONNECTING if self._connection.state in (mirror.CONNECTED, mirror.RECONNECTING) else mirror.CONNECTING
        if self._connection.state != mirror.UNREACHABLE:
            self._set_connection(state=state, message="")
        far_version = check_version(self.remote, self._closed)
        self._set_connection(far_version=far_version)
        try:
            self.refresh_gpus()
        except WorkbenchError:
            pass  # a host whose GPUs cannot be listed still lists its runs
        if self._closed.is_set():  # closed while the host was being asked: no stream is opened
            return
        self._listed.clear()
        with self._lock:
            self._live.clear()  # what the new listing says is all there is (runs deleted meanwhile go)
        self._dropped = ""
        self._last_word = time.monotonic()
        self._listing = FarStream(self.remote, ["runs", "--json", "--watch"], self._on_listing, self._on_listing_end)
        deadline = time.monotonic() + VERSION_TIMEOUT_S
        while not self._listed.wait(0.1) and not self._dropped and not self._closed.is_set():
            if time.monotonic() > deadline:
                raise HostUnreachable(f"{self.name}: its runs were not listed within {VERSION_TIMEOUT_S:.0f}s")
        if self._dropped:
            raise HostUnreachable(f"{self.name}: {self._dropped}")
        self._set_connection(state=mirror.CONNECTED, message="")

    def _serve(self) -> None:
        """While connected: keep a stream for each followed run, and a host with GPUs' list of
        them current (what trains on each); return when the connection drops."""
        gpus_asked = time.monotonic()
        while not self._closed.is_set():
            if self._dropped or time.monotonic() - self._last_word > SILENT_AFTER_S:
                reason = self._dropped or f"no word for {SILENT_AFTER_S:.0f}s"
                self._close_streams()
                self._set_connection(state=mirror.RECONNECTING, message=reason)
                return
            self._sync_streams()
            if self._connection.gpus and time.monotonic() - gpus_asked > GPUS_EVERY_S:
                gpus_asked = time.monotonic()
                try:
                    self.refresh_gpus()
                except WorkbenchError:
                    pass  # the listing says whether the host is still there
            self._wake.wait(1.0)
            self._wake.clear()

    def _sync_streams(self) -> None:
        """Open a stream for each followed run that lacks one (and has not ended), close the others
        and any gone silent (a stream says it is alive when quiet): those reopen from the mirror."""
        now = time.monotonic()
        with self._lock:
            wanted = {r for r in self._followed if r not in self._ended}
            closing = [
                self._streams.pop(r)
                for r in list(self._streams)
                if r not in wanted or now - self._streams[r].last_word > SILENT_AFTER_S
            ]
            opening = [r for r in wanted if r not in self._streams or not self._streams[r].alive]
        for stream in closing:
            stream.close()
        for run_id in opening:
            self._open_stream(run_id)

    def _open_stream(self, run_id: str) -> None:
        run = mirror.mirrored_run(self.name, run_id)
        offset = mirror.metrics_size(run)
        stream = FarStream(
            self.remote,
            ["logs", run_id, "--json", "--follow", "--offset", str(offset)],
            lambda record: self._on_metrics(run_id, record),
            lambda reason: self._on_metrics_end(run_id, reason),
        )
        with self._lock:
            self._streams[run_id] = stream

    def _close_streams(self) -> None:
        with self._lock:
            streams = [*self._streams.values(), *([self._listing] if self._listing else [])]
            self._streams.clear()
            self._listing = None
        for stream in streams:
            stream.close()

    # ------------------------------------------------------------------ what the streams say

    def _on_listing(self, record: dict[str, Any]) -> None:
        now = time.monotonic()
        self._last_word = now
        if now - self._last_touch >= HEARTBEAT_EVERY_S:  # the host answers: none of its live runs is stale
            self._last_touch = now
            self._touch_live()
        if "run" in record and isinstance(record.get("status"), dict):
            run_id = str(record["run"])
            run = mirror.mirrored_run(self.name, run_id)
            if isinstance(record.get("config"), str) and record["config"]:
                mirror.write_config(run, record["config"])
            mirror.write_status(run, self.name, record["status"])
            live = record["status"].get("state") in LIVE_STATES
            with self._lock:
                was_live = self._live.get(run_id, False)
                self._live[run_id] = live
                if live and not was_live and run_id in self._ended:
                    del self._ended[run_id]  # resumed: its new epochs stream again
                    self._wake.set()
        elif "gone" in record:
            run_id = str(record["gone"])
            with self._lock:
                self._live.pop(run_id, None)
            mirror.forget_run(self.name, run_id)
        elif "listed" in record:
            with self._lock:
                known = set(self._live)
            for run_id in mirror.mirrored_ids(self.name) - known:
                mirror.forget_run(self.name, run_id)  # deleted on the host while we were away
            self._set_connection(state=mirror.CONNECTED, message="")  # before: whoever waited for the listing sees it connected
            self._listed.set()

    def _touch_live(self) -> None:
        with self._lock:
            live_ids = [r for r, is_live in self._live.items() if is_live]
        for run_id in live_ids:
            mirror.touch_heartbeat(mirror.mirrored_run(self.name, run_id))

    def _on_listing_end(self, reason: str) -> None:
        self._dropped = reason or "the connection ended"
        self._wake.set()

    def _on_metrics(self, run_id: str, record: dict[str, Any]) -> None:
        # Out of step (ValueError) ends this stream; it reopens from the mirror's size.
        ended = mirror.apply_metrics_record(mirror.mirrored_run(self.name, run_id), record)
        if ended is not None:
            with self._lock:
                self._ended[run_id] = ended

    def _on_metrics_end(self, run_id: str, reason: str) -> None:
        with self._lock:
            self._streams.pop(run_id, None)
        if reason and not self._dropped:
            time.sleep(0.2)  # not in a loop: the session reopens it at its next look
        self._wake.set()

    def _set_connection(self, **changes: Any) -> None:
        """Change the connection's record (``since`` moves only with its state) and write it if it changed."""
        with self._lock:
            before = self._connection
            values = {**before.__dict__, **changes}
            if changes.get("state", before.state) != before.state or not before.since:
                values["since"] = mirror.utc_now_iso()
            connection = mirror.Connection(**values)
            if connection == before:
                return
            self._connection = connection
        mirror.write_connection(self.name, connection)


def start_far_run(remote: Remote, config_toml: str, device: str | None = None) -> str:
    """Start an experiment on ``remote`` from its TOML (sent on standard input), detached; its run id."""
    args = ["train", "-", "--detach", "--json", *(["--device", device] if device else [])]
    answer = run_far_json(remote, args, stdin=config_toml, timeout_s=CONTROL_TIMEOUT_S)
    if not isinstance(answer, dict) or not isinstance(answer.get("run_id"), str):
        raise WorkbenchError(f"{remote.name}: the run was started but its id was not said ({answer!r})")
    return answer["run_id"]


class HostSessions:
    """The sessions of every host the app (or a command) works with."""

    def __init__(self, sessions: Sequence[HostSession]) -> None:
        self._sessions = {session.name: session for session in sessions}

    @classmethod
    def for_remotes(cls, remotes: Sequence[Remote], start: bool = True) -> HostSessions:
        sessions = [HostSession(remote) for remote in remotes]
        if start:
            for session in sessions:
                session.start()
        return cls(sessions)

    def get(self, name: str) -> HostSession:
        try:
            return self._sessions[name]
        except KeyError:
            known = ", ".join(self._sessions) or "none"
            raise WorkbenchError(f"unknown host {name!r} (configured: {known})") from None

    def __iter__(self) -> Iterator[HostSession]:
        return iter(self._sessions.values())

    @property
    def names(self) -> list[str]:
        return list(self._sessions)

    def close_all(self) -> None:
        """Close every session at once (each on a thread: a slow host does not hold up the others)."""
        threads = [threading.Thread(target=session.close, daemon=True) for session in self._sessions.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
