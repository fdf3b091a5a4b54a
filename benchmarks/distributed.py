"""Two workers on the CPU (DistributedDataParallel, gloo) beside one process: throughput, for the record.

Each round trains digits-mlp once alone and once with ``--nproc-per-node 2`` (interleaved, so
machine noise hits both alike), the same global batch, and reads each epoch's samples/s from the
run's own records (training steps only: start-up and validation are not counted). On a 2-core
machine two workers cannot gain: each has one core, where one process would use both.

    python -m benchmarks.distributed [--rounds 3] [--epochs 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from benchmarks.measured_runs import steady, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="wb-distributed-"))
    options = ["--epochs", str(args.epochs), "--device", "cpu"]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  ({os.cpu_count()} cores)")
    alone, together, ratios = [], [], []
    for _ in range(args.rounds):
        one = steady(train(home, "digits-mlp", *options)["samples_per_s"])
        two = steady(train(home, "digits-mlp", *options, "--nproc-per-node", "2")["samples_per_s"])
        alone.append(one)
        together.append(two)
        ratios.append(two / one)
    for name, values in (("1 process", alone), ("2 workers (gloo)", together)):
        print(f"{name:<18} median {statistics.median(values):8,.0f} samples/s   spread {min(values):,.0f}-{max(values):,.0f}")
    print(f"2 workers / 1 process: median {statistics.median(ratios):.2f}   spread {min(ratios):.2f}-{max(ratios):.2f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
