"""``workbench bench``: Workbench's engine against hand-written loops, on this machine.

Runs :func:`workbench.engine.bench.run_bench` (the engine, a plain PyTorch loop over tensors and
the tutorial Dataset/DataLoader pipeline, interleaved, a few rounds) and prints samples/s, the
ratios, the spread across rounds, the device and the machine's load, as plain text that reads
well pasted into an issue; ``--json`` prints the whole result. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from rich.console import Console

from workbench.cli.setup_commands import add_override_argument
from workbench.formatting import count, counted, duration

if TYPE_CHECKING:
    from workbench.engine.bench import BenchResult

#: How each way is named in the output.
LABELS = {"engine": "workbench engine", "plain": "plain PyTorch loop", "tutorial": "tutorial DataLoader"}


def register(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser(
        "bench", help="samples/s of Workbench's engine against a plain PyTorch loop and the tutorial DataLoader, on this machine"
    )
    bench.add_argument("experiment", nargs="?", default="digits-cnn", metavar="PRESET|FILE", help="default: digits-cnn")
    add_override_argument(bench)
    bench.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the experiment's train.device)")
    bench.add_argument("--rounds", type=int, default=3, help="rounds of the three ways, interleaved (default 3)")
    bench.add_argument(
        "--epochs", type=int, default=None, help="epochs each way trains per round (default: enough for about 2 s)"
    )
    bench.add_argument("--workers", type=int, default=0, help="the tutorial DataLoader's num_workers (default 0)")
    bench.add_argument("--json", action="store_true", help="print the result as JSON")
    bench.set_defaults(handler=bench_command)


def bench_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.engine.bench import run_bench
    from workbench.experiment.presets import load_experiment

    experiment = load_experiment(args.experiment, args.overrides)
    err = Console(stderr=True, highlight=False, markup=False)

    def progress(round_: int, way: str, rate: float) -> None:
        err.print(f"  round {round_}/{args.rounds}: {LABELS[way]:<20} {rate:>10,.0f} samples/s")

    result = run_bench(
        experiment, device=args.device, rounds=args.rounds, epochs=args.epochs, loader_workers=args.workers, progress=progress
    )
    if args.json:
        console.print_json(json.dumps(result.to_dict()))
        return 0
    for line in report_lines(result):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return 0


def report_lines(result: BenchResult) -> list[str]:
    """The bench's result as plain lines (no colour: they are for pasting into an issue)."""
    load = lambda values: " ".join(f"{v:.2f}" for v in values)  # noqa: E731
    epochs = counted(result.epochs, "epoch")
    lines = [
        f"workbench bench {result.name} on {result.device} ({result.device_name}), torch {result.torch_version}, "
        f"{result.cpu_count} CPU cores",
        f"load average {load(result.load_before)} before, {load(result.load_after)} after",
        f"{count(result.parameters)} parameters, {result.optimizer}, batch {result.batch_size}, "
        f"{count(result.train_samples)} training samples; {epochs} per way, {counted(result.rounds, 'round')} interleaved",
        "",
        f"{'':<22}{'samples/s':>12}   min-max over rounds",
    ]
    for way, spread in result.ways.items():
        note = f"   ({result.tutorial_dataset}, {result.loader_workers} workers)" if way == "tutorial" else ""
        lines.append(f"{LABELS[way]:<22}{spread.median:>12,.0f}   {spread.low:,.0f}-{spread.high:,.0f}{note}")
    lines.append("")
    for over in ("plain", "tutorial"):
        rounds = result.round_ratios("engine", over)
        lines.append(
            f"engine / {over:<9} {result.ratio('engine', over):6.2f}   (medians; per round {min(rounds):.2f}-{max(rounds):.2f})"
        )
    if result.peak_memory:
        from workbench.model.memory import byte_size

        lines.append(
            "GPU peak memory: "
            + ", ".join(f"{way} {byte_size(result.peak_memory[way])}" for way in result.ways if way in result.peak_memory)
        )
    busiest = max(result.load_before[0], result.load_after[0])
    if busiest > result.cpu_count:
        lines.append(
            f"note: the machine was busy (load {busiest:.1f} on {result.cpu_count} cores): other processes shared the "
            "figures, see the spread; on a busy CPU, OMP_NUM_THREADS=1 is often steadier"
        )
    lines.append(f"took {duration(result.seconds)}")
    return lines
