"""Training speed with the app attached, against headless training, and key latency meanwhile.

Two quality bars of the Train screen, measured in one run of this script:

- Throughput: the same preset trained by ``workbench train`` and from the app (the real app in
  ``App.run_test``, training started with the ``s`` key, the screen drawing its charts and tables
  as it does for a person), each in a fresh process. Training samples per second
  are the engine's own per-epoch figures (``EpochEnded.samples_per_s``) over the epochs after
  the first; the runs alternate (ABBA) so that a slower machine moment hits both sides alike.
  Target: the app is within 5% of headless (ratio >= 0.95). Run-to-run noise on a shared 2-core
  machine is of the order of 20%, so the script also prints what the app costs directly: how
  busy the UI thread is while the run trains.
- Key latency while training: a key event is handed to the app's driver, as a terminal would,
  and the clock stops when its handler runs (``key -> handler``) and when the screen has been
  redrawn after it (``key -> painted``). Target: under 100 ms.

    .venv/bin/python -m benchmarks.app_throughput [--preset digits-cnn] [--epochs 40] [--repeats 6]
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

THROUGHPUT_TARGET = 0.95
LATENCY_TARGET_MS = 100.0
#: Seconds between two timed key presses in the latency run.
KEY_INTERVAL_S = 0.2


def headless_run(preset: str, epochs: int) -> list[float]:
    """Run ``workbench train PRESET`` in a fresh process; returns its per-epoch training samples/s
    (from the run's metrics.jsonl, the engine's own figures)."""
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "train", preset, "--set", f"train.epochs={epochs}", "--json"],
        capture_output=True, text=True, check=True,
    )
    run_dir = Path(json.loads(done.stdout)["run_dir"])
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["samples_per_s"] for r in records if r.get("event") == "EpochEnded"]


def app_process(preset: str, epochs: int, press_keys: bool) -> dict[str, list[float]]:
    """:func:`app_run` in a fresh process, as the app runs when a person opens it.

    Separate processes matter: a process whose main thread has run torch's parallel kernels
    trains up to 2.5x slower from any other thread (the app's worker) on a 2-core machine,
    so measuring both sides in one process would measure that, not the app.
    """
    command = [sys.executable, "-m", "benchmarks.app_throughput", "--preset", preset, "--epochs", str(epochs), "--app-side"]
    done = subprocess.run(command + (["--press-keys"] if press_keys else []), capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


async def app_run(preset: str, epochs: int, press_keys: bool) -> tuple[list[float], list[float], list[float], float]:
    """Train from the app with the ``s`` key; returns per-epoch samples/s, the key latencies (to
    the handler, to the repainted screen) in seconds when ``press_keys``, and the share of one
    core the UI thread used while the run trained."""
    from textual import events

    from workbench.tui.app import build_app
    from workbench.tui.screens.train import TrainScreen

    app = build_app(preset, start="train")
    app.draft.set_text("train.epochs", str(epochs))
    to_handler: list[float] = []
    to_paint: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        await pilot.press("s")
        started_wall, started_cpu = time.perf_counter(), time.thread_time()
        sent = {"at": 0.0}
        original = screen.action_next_chart

        def timed_next_chart() -> None:  # the handler of the `g` key, with a stopwatch around it
            to_handler.append(time.perf_counter() - sent["at"])
            original()
            screen.call_after_refresh(lambda: to_paint.append(time.perf_counter() - sent["at"]))

        screen.action_next_chart = timed_next_chart  # type: ignore[method-assign]
        while app.training is None or app.training.is_running():
            if press_keys and screen.history.epochs:
                sent["at"] = time.perf_counter()
                app._driver.send_message(events.Key("g", "g"))  # as the terminal driver delivers a key
                await asyncio.sleep(KEY_INTERVAL_S)
            else:
                await asyncio.sleep(0.05)
        ui_share = (time.thread_time() - started_cpu) / (time.perf_counter() - started_wall)
        history = screen.history
        if history.state != "finished":
            raise RuntimeError(f"the app's run ended {history.state}: {history.failed.message if history.failed else ''}")
    return [e.samples_per_s for e in history.epochs], to_handler, to_paint, ui_share


def steady(speeds: list[float]) -> float:
    """Training samples/s over the epochs after the first (which pays for warm-up): their
    harmonic mean, i.e. all their samples over all their training time, stalls included."""
    return statistics.harmonic_mean(speeds[1:] if len(speeds) > 1 else speeds)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=6, help="runs each way")
    parser.add_argument("--app-side", action="store_true", help=argparse.SUPPRESS)  # one app run, in a child process
    parser.add_argument("--press-keys", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.app_side:
        speeds, to_handler, to_paint, ui_share = asyncio.run(app_run(args.preset, args.epochs, args.press_keys))
        print(json.dumps({"speeds": speeds, "to_handler": to_handler, "to_paint": to_paint, "ui_share": ui_share}))
        return
    os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="wb-bench-")  # the children inherit it

    print(f"{args.preset}, {args.epochs} epochs per run, {args.repeats} runs each way (ABBA order), each in a fresh "
          f"process; {os.cpu_count()} cores")
    headless_run(args.preset, 2)  # warm up the file cache
    headless: list[float] = []
    attached: list[float] = []
    ui_shares: list[float] = []
    for repeat in range(args.repeats):
        for side in ("headless", "app") if repeat % 2 == 0 else ("app", "headless"):
            if side == "headless":
                headless.append(steady(headless_run(args.preset, args.epochs)))
            else:
                result = app_process(args.preset, args.epochs, press_keys=False)
                attached.append(steady(result["speeds"]))
                ui_shares.append(result["ui_share"])
        print(f"pair {repeat + 1}: headless {headless[-1]:,.0f} samples/s · app {attached[-1]:,.0f} samples/s "
              f"(UI thread busy {ui_shares[-1]:.1%} of a core)")
    pairs = [a / h for a, h in zip(attached, headless)]
    ratio = statistics.median(attached) / statistics.median(headless)
    verdict = "ok" if ratio >= THROUGHPUT_TARGET else "BELOW TARGET"
    print(f"throughput: headless {statistics.median(headless):,.0f} · app {statistics.median(attached):,.0f} samples/s "
          f"(medians); app/headless = {ratio:.3f}, geometric mean of the pairs {statistics.geometric_mean(pairs):.3f} "
          f"(target >= {THROUGHPUT_TARGET}) {verdict}")
    print(f"UI thread while training: median {statistics.median(ui_shares):.1%} of one core "
          f"(of {os.cpu_count()} cores, all of which torch uses)")

    timed = app_process(args.preset, args.epochs, press_keys=True)
    ms = [1000 * t for t in timed["to_handler"]]
    painted = [1000 * t for t in timed["to_paint"]]
    verdict = "ok" if percentile(painted, 0.95) < LATENCY_TARGET_MS else "ABOVE TARGET"
    print(f"keys while training ({len(ms)} presses, app at {steady(timed['speeds']):,.0f} samples/s): "
          f"key->handler median {statistics.median(ms):.1f} ms, p95 {percentile(ms, 0.95):.1f}, max {max(ms):.1f}; "
          f"key->painted median {statistics.median(painted):.1f} ms, p95 {percentile(painted, 0.95):.1f}, "
          f"max {max(painted):.1f} (target < {LATENCY_TARGET_MS:.0f} ms) {verdict}")


if __name__ == "__main__":
    main()
