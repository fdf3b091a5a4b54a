"""``workbench lr-find``: the learning-rate finder from the shell.

Runs :func:`workbench.engine.lr_find.find_lr` on an experiment (nothing is saved) and prints
the smoothed loss against the LR as a small braille chart on a log x axis, the suggested LR
marked on it, the caveat beside it, and how long it took; ``--json`` prints the whole result.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from workbench.cli.setup_commands import add_override_argument
from workbench.formatting import decades, duration, short_number
from workbench.optim.lr_ramp import END_LR, START_LR, STEPS, check_ramp

if TYPE_CHECKING:
    from workbench.engine.lr_find import LRFind

#: The chart's plot area in characters (each holds 2x4 braille dots), labels aside.
CHART_WIDTH, CHART_HEIGHT = 60, 12
#: The braille dot bits of a character's cell, by (column, row) within it.
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


def register(sub: argparse._SubParsersAction) -> None:
    finder = sub.add_parser(
        "lr-find", help="find a learning rate: a short LR ramp on a fresh copy of the model (nothing is saved)"
    )
    finder.add_argument("experiment", metavar="PRESET|FILE", help="preset name or TOML file")
    add_override_argument(finder)
    finder.add_argument("--start", type=float, default=START_LR, help=f"the ramp's first LR (default {START_LR:g})")
    finder.add_argument("--end", type=float, default=END_LR, help=f"the ramp's last LR (default {END_LR:g})")
    finder.add_argument("--steps", type=int, default=STEPS, help=f"training steps of the ramp (default {STEPS})")
    finder.add_argument("--json", action="store_true", help="print the result as JSON")
    finder.set_defaults(handler=lr_find_command)


def lr_find_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.engine.lr_find import find_lr
    from workbench.experiment.presets import load_experiment

    check_ramp(args.start, args.end, args.steps)  # before the experiment is read: the cheaper line first
    experiment = load_experiment(args.experiment, args.overrides)
    result = find_lr(experiment, start=args.start, end=args.end, steps=args.steps)
    if args.json:
        console.print_json(json.dumps(result.to_dict(), allow_nan=True))
        return 0
    say = lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    ended = f"stopped at step {result.taken}: the loss diverged" if result.diverged else "the loss never diverged"
    say(
        f"lr-find {result.name}: {result.optimizer}, LR {short_number(result.start)} → {short_number(result.end)} "
        f"over {result.steps} steps on {result.device}; {ended}"
    )
    for line in text_chart(result):
        say(line)
    if result.suggestion is None:
        console.print(Text(result.note, style="yellow"), soft_wrap=True)
    else:
        console.print(
            Text.assemble(
                ("suggested optimizer.lr = ", "bold"),
                (short_number(result.suggestion), "bold green"),
                " (▼: the steepest descent of the smoothed loss)",
            ),
            soft_wrap=True,
        )
        lowest = f" (here {short_number(result.min_loss_lr)})" if result.min_loss_lr is not None else ""
        say(f"  {result.note}{lowest}")
    took = f"took {duration(result.seconds)} ({duration(result.ramp_seconds)} for the ramp); nothing was saved"
    if result.suggestion is not None:
        took += f"; try it: workbench train {args.experiment} --set optimizer.lr={short_number(result.suggestion)}"
    say(took)
    return 0


def text_chart(result: LRFind) -> list[str]:
    """The smoothed loss against the LR in braille on a log x axis: y labels on the left, a
    decade label under each tick, and ``▼`` over the suggestion's column. Losses above
    ``result.chart_top`` (where the ramp diverged) are cut off, as in the app's chart."""
    mark = result.suggestion
    points = [(math.log10(lr), loss) for lr, loss in zip(result.lrs, result.smoothed, strict=True) if math.isfinite(loss)]
    if len(points) < 2:
        return []
    x_low, x_high = points[0][0], points[-1][0]
    bottom = min(loss for _, loss in points)
    top = result.chart_top
    columns, rows = CHART_WIDTH * 2, CHART_HEIGHT * 4
    cells = [[0] * CHART_WIDTH for _ in range(CHART_HEIGHT)]

    def column(x: float) -> int:
        return min(columns - 1, round((x - x_low) / (x_high - x_low) * (columns - 1)))

    def row(loss: float) -> int:  # 0: the top dot row
        return round((top - min(loss, top)) / (top - bottom) * (rows - 1))

    previous: tuple[int, int] | None = None
    for x, loss in points:
        here = (column(x), row(loss))
        if previous is not None and here[0] > previous[0] + 1:  # steps wider than a dot: fill between
            for c in range(previous[0] + 1, here[0]):
                share = (c - previous[0]) / (here[0] - previous[0])
                _dot(cells, c, round(previous[1] + share * (here[1] - previous[1])))
        low, high = sorted((here[1], previous[1] if previous and previous[0] >= here[0] - 1 else here[1]))
        for r in range(low, high + 1):  # a steep part: a vertical run of dots
            _dot(cells, here[0], r)
        previous = here

    labels = [f"{short_number(top - i * (top - bottom) / (CHART_HEIGHT - 1))}" for i in range(CHART_HEIGHT)]
    margin = max(len(label) for label in labels)
    mark_row = ""
    if mark is not None:
        at = column(math.log10(mark)) // 2
        mark_row = " " * (margin + 1) + " " * at + f"▼ {short_number(mark)}"
    lines = [mark_row] if mark_row else []
    for i, cell_row in enumerate(cells):
        label = labels[i] if i % 3 == 0 or i == CHART_HEIGHT - 1 else ""
        lines.append(f"{label:>{margin}}│" + "".join(chr(0x2800 + bits) if bits else " " for bits in cell_row))
    lines.append(" " * margin + "└" + "─" * CHART_WIDTH)
    lines.append(" " * (margin + 1) + _decade_labels(x_low, x_high) + "  LR (log)")
    return lines


def _dot(cells: list[list[int]], x: int, y: int) -> None:
    cells[y // 4][x // 2] |= _DOTS[x % 2][y % 4]


def _decade_labels(x_low: float, x_high: float) -> str:
    """``1e-7`` ... under the columns of the whole decades (:func:`formatting.decades`)."""
    line = [" "] * (CHART_WIDTH + 6)
    for decade in decades(x_low, x_high, CHART_WIDTH):
        label = short_number(10.0**decade)
        at = round((decade - x_low) / (x_high - x_low) * (CHART_WIDTH - 1))
        line[at : at + len(label)] = label
    return "".join(line).rstrip()
