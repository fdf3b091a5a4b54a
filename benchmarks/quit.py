"""Time from pressing ``q`` in the app to its process having exited.

Runs the real command (``python -m workbench``) in a pseudo-terminal of 80x24, waits for its
first frame (as :mod:`benchmarks.first_paint` does), waits ``--idle`` seconds more, writes ``q``
as a person would type it, and stops the clock when the process has exited (``waitpid``).
Two cases: right after the first frame (the warm-up that loads torch in the background is
starting or under way) and after a few idle seconds (the warm-up is over or nearly). Prints
each run, and the median and spread of each case against the 1-second target.

    .venv/bin/python -m benchmarks.quit [--runs 5] [--idle 4] [PRESET]
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
import termios
import time

from benchmarks.first_paint import FIRST_FRAME_MARKERS, app_env

TARGET_S = 1.0
#: Written at exit by Textual's driver: the terminal is back to normal (alternate screen left).
TERMINAL_RESTORED = b"\x1b[?1049l"


def quit_time(preset: list[str], idle_s: float, timeout: float = 30.0) -> tuple[float, bool]:
    """Seconds from ``q`` to the process's exit, and whether the terminal was restored."""
    env = app_env()
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the app
        os.execve(sys.executable, [sys.executable, "-m", "workbench", *preset], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    seen = b""
    exited = False
    try:
        start = time.perf_counter()
        while not any(marker in seen for marker in FIRST_FRAME_MARKERS):
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"no first frame within {timeout}s; output ended with {seen[-300:]!r}")
            seen += _read(fd, 0.05)
        idle_until = time.perf_counter() + idle_s
        while time.perf_counter() < idle_until:  # keep reading: a terminal does
            _read(fd, 0.05)
        seen = b""
        pressed = time.perf_counter()
        os.write(fd, b"q")
        while time.perf_counter() - pressed < timeout:
            seen += _read(fd, 0.01)
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                exited = True
                return time.perf_counter() - pressed, TERMINAL_RESTORED in seen
        raise RuntimeError(f"the app did not exit within {timeout}s of q")
    finally:
        if not exited:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def _read(fd: int, wait: float) -> bytes:
    ready, _, _ = select.select([fd], [], [], wait)
    if not ready:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:  # the child has closed the terminal
        return b""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=4.0, help="seconds idle after the first frame (second case)")
    parser.add_argument("preset", nargs="*", help="preset or TOML file to open (default: digits-cnn)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    cases = {"right after the first frame": 0.0, f"after {args.idle:g} s idle": args.idle}
    times: dict[str, list[float]] = {case: [] for case in cases}
    for run in range(args.runs):
        for case, idle in cases.items():  # interleaved, so that a busier moment hits both alike
            seconds, restored = quit_time(args.preset, idle)
            times[case].append(seconds)
            note = "" if restored else " (terminal NOT restored)"
            print(f"run {run + 1}, {case}: q to exit {seconds * 1000:.0f} ms{note}")
    for case, values in times.items():
        median = statistics.median(values)
        print(
            f"{case}: median {median * 1000:.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}); "
            f"ratio to the {TARGET_S:.0f} s target: {median / TARGET_S:.2f}"
        )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
