"""Which runs changed since the last look: from the file system's own change signals, or from stamps.

The app lists every run once, then reads again only what changed: an app left open with a
thousand runs, listing them all every 2 s, cost 4% of a core all day (issue 31). A
:class:`RunWatch` says which run folders were created, deleted or had their status.json or
config.toml replaced (``listed``: what a listing shows may differ), and which had any file
written (``written``: a followed run's new events). Two ways, one answer:

- :class:`NotifyWatch`: the platform's signals (inotify, FSEvents, ...) through ``watchfiles``,
  whose Rust thread waits without the GIL; nothing runs while nothing changes.
- :class:`StampWatch`, where there is no watcher (the library missing, the inotify limit reached,
  a file system that sends no signals): every :data:`STAMP_INTERVAL_S`, the modification time of
  each run folder, which changes whenever a file in it is created, replaced or removed
  (status.json is only ever replaced whole); a thousand ``stat`` calls, no file read.

Both watch a set of roots (:func:`run_roots`): this machine's runs folder and each host's mirror
of its runs (issue 28); a root that appears or goes later is noticed within :data:`ROOTS_CHECK_S`
and reported whole in ``roots`` (list it again).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from workbench.paths import runs_dir
from workbench.runs.mirrored import HOST_RUNS_FOLDER, hosts_root

#: The files of a run folder whose change may change the run's line in a listing.
LISTED_FILES = frozenset({"status.json", "config.toml"})
#: Seconds between two looks for roots that appeared or went (a host's first mirror, a first run).
ROOTS_CHECK_S = 1.0
#: Seconds between two looks at the run folders' stamps, where there is no watcher: a run started
#: elsewhere shows within about this.
STAMP_INTERVAL_S = 1.0
#: watchfiles waits this long (ms) after a change for more before it reports them, and reports
#: at least this often (ms) under a stream of changes (a run writing its metrics).
NOTIFY_STEP_MS = 100
NOTIFY_DEBOUNCE_MS = 400
#: The watcher's thread answers at least this often (ms) when nothing changes: its first answer
#: says its watches are up.
WATCH_TIMEOUT_MS = 1000


def run_roots() -> list[Path]:
    """The folders that hold run folders, as they are now: this machine's runs and each host's mirror."""
    local = runs_dir()
    roots = [local] if local.is_dir() else []
    try:
        hosts = sorted(entry.path for entry in os.scandir(hosts_root()) if entry.is_dir())
    except OSError:
        return roots
    return roots + [Path(host) / HOST_RUNS_FOLDER for host in hosts if os.path.isdir(os.path.join(host, HOST_RUNS_FOLDER))]


@dataclass
class RunChanges:
    """What changed since the last look (see the module's docstring)."""

    listed: set[Path] = field(default_factory=set)
    written: set[Path] = field(default_factory=set)
    roots: set[Path] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.listed or self.written or self.roots)

    def add_path(self, roots: Iterable[Path], path: Path) -> None:
        """Count a change at ``path`` (a run folder or a file in one) against the run it belongs to."""
        for root in roots:
            if path.parent == root:
                run, name = path, ""
            elif path.parent.parent == root:
                run, name = path.parent, path.name
            elif root in path.parents:
                run, name = root / path.relative_to(root).parts[0], "-"  # deeper: checkpoints/, eval/
            else:
                continue
            if run.name.startswith("."):
                return  # the indexes, a folder being built (it is renamed into place whole)
            self.written.add(run)
            if name in LISTED_FILES or not name:
                self.listed.add(run)
            return

    def update(self, other: RunChanges) -> None:
        self.listed |= other.listed
        self.written |= other.written
        self.roots |= other.roots


class RunWatch:
    """Which runs changed, looked at by one thread (the app's follower); see the module's docstring.

    ``signals``: use the file system's change signals where it can (False: stamps only, as
    where there is no watcher; the tests of that path). A watcher that cannot start or stops
    (no watchfiles, the inotify limit) gives way to stamps, and the roots are reported whole.
    """

    def __init__(self, wake: Callable[[], object], roots: Callable[[], list[Path]] = run_roots, *, signals: bool = True) -> None:
        """``wake``: called from the watcher's thread when changes wait to be taken."""
        self._wake = wake
        self._find_roots = roots
        self.roots: list[Path] = []
        self._next_roots_check = 0.0
        self._signals: _Signals | None = None
        self._stamps: _Stamps | None = None
        if signals:
            try:
                import watchfiles  # noqa: F401
            except ImportError:
                signals = False
        if signals:
            self._signals = _Signals(wake)
        else:
            self._stamps = _Stamps()

    @property
    def kind(self) -> str:
        """How changes are noticed, in words (the benchmarks print it)."""
        return "file system signals (watchfiles)" if self._signals is not None else "directory stamps"

    def take(self) -> RunChanges:
        """What changed since the last call (the first call reports every root whole)."""
        changes = RunChanges()
        now = time.monotonic()
        if self._signals is not None and self._signals.failed is not None:
            self._signals.close()
            self._signals, self._stamps = None, _Stamps()
            self._next_roots_check, self.roots = now, []  # every root whole again, then stamps
        if now >= self._next_roots_check:
            self._next_roots_check = now + ROOTS_CHECK_S
            roots = self._find_roots()
            if roots != self.roots:
                changes.roots = set(roots) ^ set(self.roots)
                self.roots = roots
                if self._signals is not None:
                    self._signals.watch(roots)
                else:
                    assert self._stamps is not None
                    self._stamps.watch(roots)
        if self._signals is not None:
            changes.update(self._signals.take())
        else:
            assert self._stamps is not None
            changes.update(self._stamps.take(now))
        return changes

    def due(self) -> float:
        """The monotonic time by which :meth:`take` is to be called even if nothing woke the caller."""
        if self._stamps is not None:
            return min(self._next_roots_check, self._stamps.next_look)
        return self._next_roots_check

    def close(self) -> None:
        """Stop watching (the app is closing)."""
        if self._signals is not None:
            self._signals.close()


class _Stamps:
    """Run folders' modification times, compared every :data:`STAMP_INTERVAL_S`."""

    def __init__(self) -> None:
        self._stamps: dict[Path, dict[str, int]] = {}
        self.next_look = 0.0

    def watch(self, roots: list[Path]) -> None:
        self._stamps = {root: self._stamps[root] if root in self._stamps else stamps(root) for root in roots}

    def take(self, now: float) -> RunChanges:
        changes = RunChanges()
        if now < self.next_look:
            return changes
        self.next_look = now + STAMP_INTERVAL_S
        for root, before in self._stamps.items():
            after = stamps(root)
            moved = {root / name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
            changes.listed |= moved
            changes.written |= moved
            self._stamps[root] = after
        return changes


def stamps(root: Path) -> dict[str, int]:
    """Each run folder of ``root`` by name, with its modification time in ns: one ``stat`` each."""
    found = {}
    try:
        with os.scandir(root) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    if entry.is_dir():
                        found[entry.name] = entry.stat().st_mtime_ns
                except OSError:
                    continue  # removed meanwhile: it is not there
    except OSError:
        pass  # the root went: the next roots check says so
    return found


class _Signals:
    """The file system's change signals, through ``watchfiles``, on a thread of its own.

    watchfiles sets its watches up when its generator first runs, on that thread: a change in
    between would be missed, so once the watcher has answered the first time (a change, or a
    second of quiet) the roots are reported whole once more, read after the watches were up."""

    def __init__(self, wake: Callable[[], object]) -> None:
        self._wake = wake
        self._lock = threading.Lock()
        self._pending = RunChanges()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        #: Why the watcher could not watch (then the caller falls back to stamps).
        self.failed: BaseException | None = None

    def watch(self, roots: list[Path]) -> None:
        """Watch ``roots`` from now on, in place of the roots watched so far."""
        self.close()
        if not roots:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, args=(roots, self._stop), name="workbench-run-watch", daemon=True)
        self._thread.start()

    def _follow(self, roots: list[Path], stop: threading.Event) -> None:
        from watchfiles import watch

        batches = watch(
            *roots,
            watch_filter=None,
            debounce=NOTIFY_DEBOUNCE_MS,
            step=NOTIFY_STEP_MS,
            stop_event=stop,
            rust_timeout=WATCH_TIMEOUT_MS,
            yield_on_timeout=True,
        )
        first = True
        try:
            for batch in batches:
                changes = RunChanges(roots=set(roots) if first else set())
                first = False
                for _change, path in batch:
                    changes.add_path(roots, Path(path))
                if changes:
                    with self._lock:
                        self._pending.update(changes)
                    self._wake()
        except Exception as error:  # noqa: BLE001  (any failure to watch: the caller falls back to stamps)
            self.failed = error
            self._wake()

    def take(self) -> RunChanges:
        with self._lock:
            changes, self._pending = self._pending, RunChanges()
        return changes

    def close(self) -> None:
        """Stop the watcher's thread, without waiting for it: it sees its stop within
        :data:`NOTIFY_STEP_MS` and ends (a daemon thread, so it never holds up the app's exit)."""
        if self._thread is not None:
            self._stop.set()
            self._thread = None
