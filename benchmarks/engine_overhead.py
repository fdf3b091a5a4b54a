"""How close the engine's training loop runs to a hand-written PyTorch loop (and the tutorial's).

The computation is ``workbench bench``'s (:func:`workbench.engine.bench.run_bench`): the same
preset trained through the engine's Trainer, a plain loop over tensors and the tutorial
Dataset + transforms + DataLoader pipeline, from the same seed on the same samples, interleaved
for a few rounds; printed as the command prints it (the engine's runs go to scratch folders,
removed afterwards; the bench never downloads).

    python -m benchmarks.engine_overhead [PRESET] [--epochs N] [--rounds R] [--device D]
"""

from __future__ import annotations

import argparse

from workbench.cli.bench_commands import report_lines
from workbench.engine.bench import run_bench
from workbench.experiment.presets import load_experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", nargs="?", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=None, help="default: enough for about 2 s a way and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    result = run_bench(load_experiment(args.preset), device=args.device, rounds=args.rounds, epochs=args.epochs)
    print("\n".join(report_lines(result)))


if __name__ == "__main__":
    main()
