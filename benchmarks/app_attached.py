"""The app attached to a run in progress: what it costs the run, and how current and responsive it is.

Runs train in processes of their own; the app follows their folders. Four figures, measured in
one run of this script on whatever machine it runs on:

- Throughput: the same preset trained headless (``workbench train`` in a fresh process) and
  started from the app (the real app in ``App.run_test`` in a fresh process, opened on the Data
  screen as a person opens it, ``4`` and ``s`` pressed, the Train screen drawing the run to its
  end). Training samples/s are the engine's own per-epoch figures from each run's
  metrics.jsonl, over the epochs after the first; the sides alternate (ABBA) so that a busier
  moment of a shared machine hits both alike. Target: app/headless >= 0.97.
- The app's CPU while attached: CPU seconds of the app's whole process (UI thread, the thread
  that follows the run) over the wall seconds of the run, as a share of one core. Target < 5%.
- Event to screen: for every event of the run, the time from its recorder writing it (the
  ``time`` of its metrics.jsonl line) to the screens having been told of it (the app redraws for
  runs at most every RUNS_REDRAW_INTERVAL_S) and repainted. Target p95 < 0.5 s.
- Screen switches while the run trains: the keys 1-5 handed to the app's driver as a terminal
  would, timed to the new screen painted. Target p95 < 100 ms. Each screen is built on its first
  visit; those first visits are timed and printed apart.

    .venv/bin/python -m benchmarks.app_attached [--preset digits-cnn] [--epochs 60] [--repeats 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

THROUGHPUT_TARGET = 0.97
CPU_TARGET = 0.05
EVENT_TARGET_S = 0.5
KEY_TARGET_MS = 100.0
#: Seconds between two timed screen switches.
KEY_INTERVAL_S = 0.25


def run_speeds(run_dir: Path) -> list[float]:
    """Per-epoch training samples/s of a run, from its metrics.jsonl (the engine's own figures)."""
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["samples_per_s"] for r in records if r.get("event") == "EpochEnded"]


def headless_run(preset: str, epochs: int) -> list[float]:
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "train", preset, "--set", f"train.epochs={epochs}", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return run_speeds(Path(json.loads(done.stdout)["run_dir"]))


def app_process(preset: str, epochs: int, press_keys: bool) -> dict:
    """:func:`app_run` in a fresh process, as the app runs when a person opens it."""
    command = [sys.executable, "-m", "benchmarks.app_attached", "--preset", preset, "--epochs", str(epochs), "--app-side"]
    done = subprocess.run(command + (["--press-keys"] if press_keys else []), capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


async def timed_switch(app: Any, key: str) -> float:
    """Seconds from handing ``key`` to the app's driver, as the terminal delivers a key, to the
    frame after the screen switch it asks for."""
    from textual import events

    sent = time.perf_counter()
    shown = asyncio.get_running_loop().create_future()
    original = app.action_show

    def timed_show(mode: str) -> None:
        original(mode)
        app.call_after_refresh(lambda: shown.done() or shown.set_result(time.perf_counter() - sent))

    app.action_show = timed_show
    app._driver.send_message(events.Key(key, key))
    try:
        return await asyncio.wait_for(shown, 5)
    finally:
        app.action_show = original


async def app_run(preset: str, epochs: int, press_keys: bool) -> dict:
    """Start the run from the app with ``s`` and stay attached to its end; returns the run's
    speeds, the app's CPU share, the event-to-screen latencies and (``press_keys``) the
    key-to-painted latencies of screen switches."""

    from tests.tui.helpers import press_start
    from workbench.tui.app import build_app
    from workbench.tui.messages import RunMoved

    app = build_app(preset)  # on the Data screen, where a person starts
    app.draft.set_text("train.epochs", str(epochs))
    event_lags: list[float] = []
    key_lags: list[tuple[str, float]] = []  # (key, seconds)
    first_visits: list[float] = []
    apply = app.runs.apply
    redraw = app._runs_redraw
    waiting: list[float] = []  # write times of events applied but not yet drawn
    ended = asyncio.Event()  # the shown run is over: set by the redraw that shows it

    def timed_apply(message: RunMoved) -> object:
        waiting.extend(when for _, when in message.events if when is not None)
        return apply(message)

    def timed_redraw() -> None:  # stopwatch: event written -> the screens told (throttled) and repainted
        stamps = list(waiting)
        waiting.clear()
        redraw()
        app.call_after_refresh(lambda: event_lags.extend(time.time() - when for when in stamps))
        if app.runs.shown is not None and app.runs.shown.history.started is not None and not app.runs.shown.live:
            ended.set()

    app.runs.apply = timed_apply  # type: ignore[method-assign]
    app._runs_redraw = timed_redraw  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        # The app loads torch in the background once it has painted (a one-off of a few seconds of
        # CPU): the figures are of an app attached to a run, so that is over before the run starts.
        while any(w.group == "warm-up" for w in app.workers) or not app.devices:
            await asyncio.sleep(0.05)
        await pilot.press("4")
        await press_start(pilot, app)  # s, and enter in its name dialog
        # From the run's first report (its process has started and loaded its data) to its end.
        while app.runs.shown is None or app.runs.shown.history.started is None:
            await asyncio.sleep(0.02)
        if press_keys:  # each screen is built on its first visit (timed apart): the figures are of switches
            for key in "12354":
                sent = time.perf_counter()
                await pilot.press(key)
                first_visits.append(time.perf_counter() - sent)
        wall, cpu = time.perf_counter(), time.process_time()
        keys = "12354"
        pressed = 0
        # Waiting on the run's end, not polling for it: a loop here waking the app's event loop 20
        # times a second would cost the run as much as the app does.
        while press_keys and not ended.is_set():
            if app.runs.shown.history.epochs:
                key = keys[pressed % len(keys)]
                pressed += 1
                key_lags.append((key, await timed_switch(app, key)))
            await asyncio.sleep(KEY_INTERVAL_S)
        await ended.wait()
        cpu_share = (time.process_time() - cpu) / (time.perf_counter() - wall)
        run_dir = app.runs.shown.run.path
        await pilot.pause(0.3)
    return {
        "speeds": run_speeds(run_dir),
        "cpu_share": cpu_share,
        "event_lags": event_lags,
        "key_lags": key_lags,
        "first_visits": first_visits,
    }


def steady(speeds: list[float]) -> float:
    """Samples/s over the epochs after the first (which pays for warm-up): their harmonic mean."""
    return statistics.harmonic_mean(speeds[1:] if len(speeds) > 1 else speeds)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSES THE TARGET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=4, help="runs each way")
    parser.add_argument("--app-side", action="store_true", help=argparse.SUPPRESS)  # one app run, in a child process
    parser.add_argument("--press-keys", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.app_side:
        print(json.dumps(asyncio.run(app_run(args.preset, args.epochs, args.press_keys))))
        return
    os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="wb-bench-")  # the children inherit it

    load = os.getloadavg()[0]
    print(
        f"{args.preset}, {args.epochs} epochs per run, {args.repeats} runs each way (ABBA), each in a fresh process; "
        f"{os.cpu_count()} cores, load average {load:.2f} at the start"
    )
    headless_run(args.preset, 2)  # warm up the file cache
    headless: list[float] = []
    attached: list[float] = []
    cpu_shares: list[float] = []
    lags: list[float] = []
    for repeat in range(args.repeats):
        for side in ("headless", "app") if repeat % 2 == 0 else ("app", "headless"):
            if side == "headless":
                headless.append(steady(headless_run(args.preset, args.epochs)))
            else:
                result = app_process(args.preset, args.epochs, press_keys=False)
                attached.append(steady(result["speeds"]))
                cpu_shares.append(result["cpu_share"])
                lags += result["event_lags"]
        print(
            f"pair {repeat + 1}: headless {headless[-1]:,.0f} samples/s · app-launched {attached[-1]:,.0f} samples/s "
            f"(app process {cpu_shares[-1]:.1%} of a core)"
        )
    pairs = [a / h for a, h in zip(attached, headless, strict=True)]
    ratio = statistics.median(pairs)
    print(
        f"throughput app-launched/headless: median of the pairs {ratio:.3f} (spread {min(pairs):.3f}-{max(pairs):.3f}; "
        f"target >= {THROUGHPUT_TARGET}) {verdict(ratio >= THROUGHPUT_TARGET)}"
    )
    cpu = statistics.median(cpu_shares)
    print(
        f"app CPU while attached: median {cpu:.1%} of one core (spread {min(cpu_shares):.1%}-{max(cpu_shares):.1%}; "
        f"target < {CPU_TARGET:.0%}) {verdict(cpu < CPU_TARGET)}"
    )
    p95 = percentile(lags, 0.95)
    print(
        f"event to screen ({len(lags)} events): median {statistics.median(lags) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {max(lags) * 1000:.0f} ms (target p95 < {EVENT_TARGET_S * 1000:.0f} ms) {verdict(p95 < EVENT_TARGET_S)}"
    )

    timed = app_process(args.preset, args.epochs, press_keys=True)
    ms = [1000 * t for _, t in timed["key_lags"]]
    p95 = percentile(ms, 0.95)
    print(
        f"screen switches 1-5 while the run trains ({len(ms)} keys, run at {steady(timed['speeds']):,.0f} samples/s): "
        f"key to painted median {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, max {max(ms):.0f} ms "
        f"(target p95 < {KEY_TARGET_MS:.0f} ms) {verdict(p95 < KEY_TARGET_MS)}; first visits (screen built): "
        + ", ".join(f"{1000 * t:.0f}" for t in timed["first_visits"])
        + " ms"
    )
    by_key = {key: sorted(1000 * t for k, t in timed["key_lags"] if k == key) for key in "12345"}
    print(
        "  by screen (key: median / max ms): "
        + ", ".join(f"{key}: {statistics.median(lags):.0f} / {lags[-1]:.0f}" for key, lags in by_key.items() if lags)
    )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
