"""Signals a training process obeys, all turned into requests to its trainer's :class:`Control`.

- SIGINT (Ctrl+C), SIGTERM (``workbench stop``, ``kill``, a scheduler's preemption) and SIGHUP
  (the terminal of a non-detached ``workbench train`` closed): stop after the current step, with
  a checkpoint, leaving the run ``stopped``. A second SIGINT gives up at once.
- The pause and continue signals of :mod:`workbench.runs.process_control`.

Handlers only set flags: the trainer acts at its next step boundary.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from workbench.engine.control import Control
from workbench.runs.process_control import CONTINUE_SIGNAL, PAUSE_SIGNAL

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def obey_signals(control: Control, on_stop: Callable[[int], None] = lambda signum: None) -> Iterator[None]:
    """Install the handlers for the duration of a run; ``on_stop(signum)`` is told of a stop."""

    def stop(signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and control.stop_requested:
            raise KeyboardInterrupt
        on_stop(signum)
        control.stop()

    handlers: dict[int, Callable[[int, Any], None]] = {
        **{sig: stop for sig in STOP_SIGNALS},
        PAUSE_SIGNAL: lambda signum, frame: control.pause(),
        CONTINUE_SIGNAL: lambda signum, frame: control.resume(),
    }
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
