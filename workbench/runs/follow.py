"""Follow a run as its training process writes it: new events, and its state, as they change.

A :class:`RunFollower` remembers how far into metrics.jsonl it has read and returns only what
was appended since, so following a live run costs a ``stat`` and a small read per poll. A line
still being written is kept until its newline arrives. The first poll returns the whole history
(the backfill); a file that was replaced or shortened is read again from the start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from workbench.runs.folder import RunDir, decode_records
from workbench.runs.history import TimedEvent, timed_events


@dataclass
class FollowUpdate:
    """What one poll found: new events, the run's state to show, and whether its folder is gone."""

    events: list[TimedEvent] = field(default_factory=list)
    state: str = ""
    gone: bool = False


class RunFollower:
    """Reads a run's new events and state, one poll at a time (from any one thread)."""

    def __init__(self, run: RunDir) -> None:
        self.run = run
        self._offset = 0
        self._file_id: tuple[int, int] | None = None
        self._partial = b""

    def poll(self, with_state: bool = True) -> FollowUpdate:
        """New events, and the run's state unless ``with_state`` is False (then it is ``""``);
        a poll that finds events always reads the state, which they may have changed."""
        if not self.run.path.is_dir():
            return FollowUpdate(gone=True, state="deleted")
        events = self.read_new()
        return FollowUpdate(events=events, state=self.run.state() if with_state or events else "")

    def read_new(self) -> list[TimedEvent]:
        """Events appended since the last call (all of them on the first)."""
        try:
            handle = self.run.metrics_path.open("rb")
        except OSError:
            return []
        with handle:
            stat = os.fstat(handle.fileno())
            file_id = (stat.st_dev, stat.st_ino)
            if file_id != self._file_id or stat.st_size < self._offset:
                self._file_id, self._offset, self._partial = file_id, 0, b""
            if stat.st_size == self._offset:
                return []
            handle.seek(self._offset)
            data = handle.read()
        self._offset += len(data)
        whole, _, self._partial = (self._partial + data).rpartition(b"\n")
        return timed_events(decode_records(whole))
