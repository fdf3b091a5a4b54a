"""A data set from the user's own class trains faster than the tutorial's DataLoader over it.

The my-dataset preset's ``MyDataset`` (presets/my-dataset/mydata.py: one PNG picture per
``path label`` line, opened with PIL at every item) over every bundled digit written as a
picture (about 1,700 files, by scripts/make_my_dataset.py into a scratch folder), trained
by the engine against the tutorial's shuffling ``DataLoader`` over the same class, interleaved:

- ``data.options.storage = "memory"`` (the items read once into tensors, the engine's way for a
  set that fits 2 GiB): ``workbench bench``'s three ways (:func:`workbench.engine.bench.run_bench`,
  its report printed as the command prints it); target: engine / tutorial DataLoader (no
  workers) at least 2;
- ``storage = "stream"`` with N ``DataLoader`` workers in the engine, against the tutorial's
  ``DataLoader`` with N workers (the bench's own functions, one pair a round, the order turned
  each round: the bench refuses a streamed set, its plain loop needs the items in memory);
  target: at least level (1.0).

Ends with the median ratio of each, its rounds and the verdict; the machine's load is printed.

    python -m benchmarks.code_dataset_speed [--workers N] [--rounds R] [--epochs E] [--stream-epochs E] [--device D]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from scripts.make_my_dataset import write
from workbench.cli.bench_commands import report_lines
from workbench.engine.bench import check_bench, engine_samples_per_s, run_bench, training_samples, tutorial_samples_per_s
from workbench.experiment.presets import load_experiment, shipped_presets_dir
from workbench.formatting import counted
from workbench.schema.config import RunConfig

#: Pictures per class for training and for testing: nearly every bundled digit.
TRAIN_PER_CLASS, TEST_PER_CLASS = 150, 24
TARGETS = {"memory": 2.0, "stream": 1.0}


def experiment(folder: Path, storage: str, workers: int, epochs: int) -> RunConfig:
    """The my-dataset preset over the pictures in ``folder``, stored as ``storage`` says."""
    options = [
        f"data.options.code={folder / 'mydata.py'}:MyDataset",
        f"data.options.args.file={folder / 'train.txt'}",
        f"data.options.test_args.file={folder / 'test.txt'}",
        f"data.options.storage={storage}",
        f"data.options.workers={workers}",
        "data.batch_size=64",
        f"train.epochs={epochs}",
    ]
    return load_experiment("my-dataset", options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of the streamed set and the tutorial's")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=None, help="memory: per way and round (default: about 2 s each)")
    parser.add_argument("--stream-epochs", type=int, default=2, help="streamed: per way and round")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="workbench-bench-"))
    folder = Path(tempfile.mkdtemp(prefix="workbench-my-dataset-"))
    try:
        pictures = write(folder, TRAIN_PER_CLASS, TEST_PER_CLASS)
        shutil.copy(shipped_presets_dir() / "my-dataset" / "mydata.py", folder)
        print(f"{len(pictures) - 2:,} pictures written to {folder}\n")
        in_memory = experiment(folder, "memory", 0, args.epochs or 1)
        result = run_bench(in_memory, device=args.device, rounds=args.rounds, epochs=args.epochs)
        print("\n".join(report_lines(result)))
        memory = result.round_ratios("engine", "tutorial")
        stream = streamed_ratios(folder, args.workers, args.rounds, args.stream_epochs, args.device)
        print()
        _verdict("memory: engine / tutorial DataLoader (0 workers)", memory, TARGETS["memory"])
        _verdict(f"stream: engine / tutorial DataLoader ({counted(args.workers, 'worker')} each)", stream, TARGETS["stream"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def streamed_ratios(folder: Path, workers: int, rounds: int, epochs: int, device: str | None) -> list[float]:
    """The engine streaming the items through ``workers`` DataLoader workers, against the
    tutorial's DataLoader over the same class with as many, interleaved (the bench refuses a
    streamed set: its plain loop needs the items in memory); one ratio per round."""
    streamed = experiment(folder, "stream", workers, epochs)
    in_memory = experiment(folder, "memory", 0, epochs)
    samples = training_samples(in_memory)  # the tutorial's items: the user's class over the same training split
    resolved = str(check_bench(in_memory, device))
    load = os.getloadavg()
    ratios, engine, tutorial = [], [], []
    for index in range(rounds):
        ways = [
            ("engine", lambda: engine_samples_per_s(streamed, resolved)),
            ("tutorial", lambda: tutorial_samples_per_s(in_memory, resolved, samples, workers)),
        ]
        rates = dict((name, measure()) for name, measure in (ways if index % 2 == 0 else ways[::-1]))
        engine.append(rates["engine"])
        tutorial.append(rates["tutorial"])
        ratios.append(rates["engine"] / rates["tutorial"])
    print(
        f"\nstreamed with {counted(workers, 'worker')}: {counted(rounds, 'round')} of {counted(epochs, 'epoch')}, load {_load(load)} before, {_load(os.getloadavg())} after"
    )
    for name, values in (("workbench engine", engine), ("tutorial DataLoader", tutorial)):
        print(f"{name:<20} median {statistics.median(values):8,.0f} samples/s   spread {min(values):,.0f}-{max(values):,.0f}")
    return ratios


def _verdict(what: str, ratios: list[float], target: float) -> None:
    median = statistics.median(ratios)
    verdict = "meets" if median >= target else "misses"
    print(f"{what}: median {median:.2f} (per round {' '.join(f'{r:.2f}' for r in ratios)}): {verdict} the target {target:g}")


def _load(values: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in values)


if __name__ == "__main__":
    main()
