"""Screen switches on an idle app: from a number key to the new screen painted.

The real app (``build_app``, 80x24, in ``App.run_test``) in a fresh process, once torch has
loaded in the background. Each screen is built on its first visit: those visits are timed and
printed apart. Then the keys 1-5 (in the order 1 2 3 5 4, so that every screen follows a
different one) are handed to the app's driver as a terminal would deliver them, one every
KEY_INTERVAL_S, and each is timed to the frame after the switch (as in
:mod:`benchmarks.app_attached`, which times the same switches while a run trains).
Target: p95 < 100 ms.

    .venv/bin/python -m benchmarks.switch_screens [--rounds 20] [PRESET]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time

from benchmarks.app_attached import KEY_INTERVAL_S, KEY_TARGET_MS, percentile, timed_switch, verdict

KEYS = "12354"


async def switches(preset: str | None, rounds: int) -> tuple[list[float], list[tuple[str, float]]]:
    """Seconds of the first visit to each screen, and (key, seconds) of every later switch."""

    from workbench.tui.app import build_app

    app = build_app(preset)
    first_visits: list[float] = []
    lags: list[tuple[str, float]] = []
    async with app.run_test(size=(80, 24)) as pilot:
        while any(w.group == "warm-up" for w in app.workers) or not app.devices:
            await asyncio.sleep(0.05)
        for key in KEYS:
            sent = time.perf_counter()
            await pilot.press(key)
            first_visits.append(time.perf_counter() - sent)
        await pilot.pause(1.0)  # let the screens' own workers (sample pictures, previews) settle
        for pressed in range(rounds * len(KEYS)):
            key = KEYS[pressed % len(KEYS)]
            lags.append((key, await timed_switch(app, key)))
            await asyncio.sleep(KEY_INTERVAL_S)
    return first_visits, lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="times through the five keys")
    parser.add_argument("preset", nargs="?", default=None, help="preset or TOML file to open (default: digits-cnn)")
    args = parser.parse_args()
    os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="wb-bench-")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    first_visits, lags = asyncio.run(switches(args.preset, args.rounds))
    ms = [1000 * t for _, t in lags]
    p95 = percentile(ms, 0.95)
    print(
        f"screen switches 1-5 on an idle app ({len(ms)} keys): key to painted median {statistics.median(ms):.0f} ms, "
        f"p95 {p95:.0f} ms, max {max(ms):.0f} ms (target p95 < {KEY_TARGET_MS:.0f} ms) {verdict(p95 < KEY_TARGET_MS)}; "
        "first visits (screen built): "
        + ", ".join(f"{key} {1000 * t:.0f}" for key, t in zip(KEYS, first_visits, strict=True))
        + " ms"
    )
    by_key = {key: sorted(1000 * t for k, t in lags if k == key) for key in "12345"}
    print(
        "  by screen (key: median / p95 / max ms): "
        + ", ".join(
            f"{key}: {statistics.median(v):.0f} / {percentile(v, 0.95):.0f} / {v[-1]:.0f}" for key, v in by_key.items() if v
        )
    )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
