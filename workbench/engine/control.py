"""Pause, resume and stop a training run from another thread or a signal handler.

The trainer polls the control between two steps, so a request takes effect at a step boundary:
never in the middle of a backward pass, and always where a checkpoint can record exactly where
the run is. The methods are cheap and thread-safe; the trainer's poll costs one lock-free read.
"""

from __future__ import annotations

import threading
import time


class Control:
    """Thread-safe requests to the trainer: pause, resume, stop."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._paused = False
        self._stop = False

    def pause(self) -> None:
        """Ask the run to wait at the next step boundary. Safe to call from a signal handler."""
        self._paused = True
        self._notify()

    def resume(self) -> None:
        """End a pause. Safe to call from a signal handler."""
        self._paused = False
        self._notify()

    def stop(self) -> None:
        """Ask the run to checkpoint and end; also ends a pause. Safe to call from a signal handler."""
        self._stop = True
        self._notify()

    def _notify(self) -> None:
        # A signal handler runs on the main thread, which may be inside wait(): never block on the lock.
        if self._changed.acquire(blocking=False):
            try:
                self._changed.notify_all()
            finally:
                self._changed.release()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stop_requested(self) -> bool:
        return self._stop

    @property
    def pending(self) -> bool:
        """True when the trainer has something to act on (the one check it makes per step)."""
        return self._paused or self._stop

    def wait_while_paused(self, poll_s: float = 0.2, timeout_s: float | None = None) -> None:
        """Block while paused, until resumed or stopped (or ``timeout_s`` has passed: the first
        worker of a distributed run tells the others now and then that the pause goes on).

        Waits with a timeout so that a stop set by a signal handler (which cannot always
        notify) is still seen promptly.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._changed:
            while self._paused and not self._stop and (deadline is None or time.monotonic() < deadline):
                self._changed.wait(poll_s)
