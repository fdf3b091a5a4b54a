"""The Model screen with a model of the user's own class: from opening it to its tree drawn.

The tree comes from running the class once in a child process (it imports torch, then the
user's file, builds the module and runs one batch), started as the app is built. Timed in the
real app (80x24, ``App.run_test``, a fresh WORKBENCH_HOME, so nothing is cached), in a fresh
process each time, from that process's start (what `workbench my-net.toml` costs the user) to
the frame that shows the tree; interleaved with ``python -c "import torch"``, which bounds it
from below (the child must import torch before it can answer). Then, in the last of them,
``--rounds`` times, EDITING_S later, the file changed (as an editor would: the cache is keyed on
its content) and the screen told to read it again, to the tree redrawn: one child waits ahead
with torch imported, so that takes a fraction of a second. Target (issue 27): < 2 s each, which
on a 2-core machine where torch's import alone takes 2-3 s reads as: the first opening within
0.5 s of torch's import, every redraw < 2 s.

    .venv/bin/python -m benchmarks.model_screen_code [--pairs 5] [--rounds 5]
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

TARGET_S = 2.0
#: The first opening's allowance beyond torch's own import.
BEYOND_IMPORT_S = 0.5
#: Seconds a person spends in the editor before the file is read again (the child started
#: ahead imports torch meanwhile).
EDITING_S = 5.0

NET = '''
from collections import OrderedDict

import torch.nn as nn


class Net(nn.Module):
    """The tutorial's Net with named blocks, sized for the 8x8 digits."""

    def __init__(self, hidden=120):
        super().__init__()
        self.conv = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(1, 6, 3, padding=1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(6, 16, 3, padding=1)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ]))
        self.dense = nn.Sequential(OrderedDict([
            ("dense1", nn.Linear(16 * 2 * 2, hidden)), ("relu3", nn.ReLU()),
            ("dense2", nn.Linear(hidden, 84)), ("relu4", nn.ReLU()), ("dense3", nn.Linear(84, 10)),
        ]))

    def forward(self, x):
        return self.dense(self.conv(x).flatten(1))
'''


async def timings(folder: Path, rounds: int) -> tuple[float, list[float]]:
    """The moment (``time.time()``) the tree was first drawn, and the seconds from each change
    of the file to the tree again."""
    from workbench.experiment.presets import read_experiment
    from workbench.usercode.probing import start_ahead_for

    nets = folder / "nets.py"
    nets.write_text(NET)
    config = read_experiment("digits-cnn")
    config.model.layers = []
    config.model.code = f"{nets}:Net"
    start_ahead_for(config)  # as `workbench my-net.toml` does, before the app's modules are imported

    from textual.widgets import DataTable

    from workbench.experiment.draft import Draft
    from workbench.tui.app import WorkbenchApp

    app = WorkbenchApp(Draft(config, source="benchmark"), start="model")

    def tree_shown() -> bool:
        table = app.screen.query(DataTable).first()
        return table.row_count > 0 and not app.draft.pending_probes

    async with app.run_test(size=(80, 24)) as pilot:
        while not tree_shown():
            await asyncio.sleep(0.01)
        await pilot.pause()
        opened = time.time()
        again = []
        for round_ in range(rounds):
            await asyncio.sleep(EDITING_S)
            nets.write_text(NET + f"\n# edited {round_}\n")
            started = time.perf_counter()
            app.draft.recheck()  # what the screen does when the editor exits
            while not tree_shown():
                await asyncio.sleep(0.01)
            await pilot.pause()
            again.append(time.perf_counter() - started)
    return opened, again


def once(rounds: int) -> None:
    """In a fresh process: open the app, print the moment the tree showed and the redraws."""
    os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="wb-bench-")
    opened, again = asyncio.run(timings(Path(tempfile.mkdtemp(prefix="wb-nets-")), rounds))
    print(json.dumps({"opened_at": opened, "again": again}))


def output_of(command: list[str]) -> str:
    """What ``command`` printed (each prints the moment it reached what is timed)."""
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="first openings, each beside an import of torch")
    parser.add_argument("--rounds", type=int, default=5, help="times the file is changed and read again (last opening)")
    parser.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        once(args.rounds)
        return
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    imports, opens, again = [], [], []
    for pair in range(args.pairs):
        started = time.time()
        output = output_of([sys.executable, "-c", "import time, torch; print(time.time())"])
        imports.append(float(output) - started)  # to the import's end, not the interpreter's teardown
        started = time.time()
        rounds = args.rounds if pair == args.pairs - 1 else 0
        output = output_of([sys.executable, "-m", "benchmarks.model_screen_code", "--once", "--rounds", str(rounds)])
        answer = json.loads(output.strip().splitlines()[-1])
        opens.append(answer["opened_at"] - started)
        again = answer["again"] or again
    beyond = [opened - imported for opened, imported in zip(opens, imports, strict=True)]
    print(f"import torch: median {statistics.median(imports):.2f} s ({min(imports):.2f}-{max(imports):.2f})")
    print(f"workbench start to tree drawn: median {statistics.median(opens):.2f} s ({min(opens):.2f}-{max(opens):.2f})")
    print(f"beyond import torch (pairwise): median {statistics.median(beyond):+.2f} s ({min(beyond):+.2f}-{max(beyond):+.2f})")
    if again:
        print(f"file changed to tree redrawn: median {statistics.median(again):.2f} s, max {max(again):.2f} s over {len(again)}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    met = statistics.median(beyond) <= BEYOND_IMPORT_S and max(again or [0.0]) < TARGET_S
    print(
        f"{'PASS' if met else 'FAIL'}: first opening within {BEYOND_IMPORT_S:g} s of import torch, every redraw < {TARGET_S:g} s"
    )


if __name__ == "__main__":
    main()
