"""Time from starting ``workbench`` to its first frame on the terminal.

Runs the real command (``python -m workbench [PRESET]``) in a pseudo-terminal of 80x24, as a
person would in xterm or tmux, and stops the clock when the first frame's status line (drawn
from the validated draft) has been written. Torch must not load before that; it loads later,
in workers. Prints each run and the median as a ratio of the 0.8-second target.

    .venv/bin/python benchmarks/first_paint.py [--runs 5] [PRESET]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time

TARGET_S = 0.8
#: Text of the first frame's status bar: the draft has been validated and painted.
FIRST_FRAME_MARKERS = (b"ready to train", b"problem")


def app_env() -> dict[str, str]:
    """The environment of the app's process: an xterm, an empty home, and Python's bytecode
    cache on (as on any machine, where ``PYTHONDONTWRITEBYTECODE`` would make every start
    compile the app's modules again: about 0.1 s more)."""
    env = dict(os.environ, TERM="xterm-256color", WORKBENCH_HOME=tempfile.mkdtemp(prefix="wb-bench-"))
    env.pop("COLORTERM", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def first_paint(preset: list[str], timeout: float = 30.0) -> float:
    """Seconds from fork to the first frame of one run of the app."""
    env = app_env()
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the app
        os.execve(sys.executable, [sys.executable, "-m", "workbench", *preset], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    seen = b""
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
                if any(marker in seen for marker in FIRST_FRAME_MARKERS):
                    return time.perf_counter() - start
        raise RuntimeError(f"no first frame within {timeout}s; output ended with {seen[-300:]!r}")
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("preset", nargs="*", help="preset or TOML file to open (default: digits-cnn)")
    args = parser.parse_args()
    first_paint(args.preset)  # warm the file cache, as on any machine after the first start
    times = []
    for run in range(args.runs):
        seconds = first_paint(args.preset)
        times.append(seconds)
        print(f"run {run + 1}: first frame after {seconds * 1000:.0f} ms")
    median = statistics.median(times)
    print(
        f"median {median * 1000:.0f} ms (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) "
        f"on {os.cpu_count()} cores; ratio to the {TARGET_S:g} s target: {median / TARGET_S:.2f}"
    )


if __name__ == "__main__":
    main()
