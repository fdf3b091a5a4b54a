"""What the look inside costs per epoch: the trainer's epoch-end inspection against the epoch.

Trains a preset epoch by epoch with the engine's own step, and after each epoch runs the
inspection the trainer runs (:class:`workbench.engine.inspection.Inspector`: statistics and
histograms of every weight and gradient, the outputs on the probe batch, the first conv's
filters, one line appended to inside.jsonl). The two alternate, so machine noise hits both
alike. Prints the median time of each, their spread, and the ratio inspection / training
epoch, with the machine's load.

    python benchmarks/inspection_overhead.py [PRESET] [--epochs N] [--device D] [--set k=v ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch

from workbench.engine.inspection import Inspector
from workbench.engine.setup import build_parts
from workbench.engine.step import train_step
from workbench.experiment.presets import load_experiment
from workbench.optim.build import build_optimizer
from workbench.runs.store import create_run


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", nargs="?", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--device", default=None)
    parser.add_argument("--set", action="append", default=[], metavar="K=V", help="a setting of the experiment")
    args = parser.parse_args()
    os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="workbench-bench-"))
    config = load_experiment(args.preset, [f"train.epochs={args.epochs}", *args.set])
    parts = build_parts(config, device=args.device, for_training=True)
    module = parts.prepared.module
    optimizer = build_optimizer(config.optimizer, module.parameters())
    scaler = torch.amp.GradScaler(parts.device.type, enabled=parts.precision.needs_grad_scaler)
    inspector = Inspector(parts, create_run(config))
    epochs, inspections = [], []
    step = 0
    for epoch in range(1, args.epochs + 1):
        parts.prepared.model.train()
        started = time.perf_counter()
        for inputs, targets in parts.splits.train.epoch(epoch):
            _, loss = train_step(parts, optimizer, scaler, config.train.grad_clip, inputs, targets)
            step += 1
        loss.item()  # sync: the epoch's work is done, as the trainer's end-of-epoch read waits for it
        epochs.append(time.perf_counter() - started)
        started = time.perf_counter()
        inspector.epoch_ended(epoch, step)
        _synchronize(parts.device)
        inspections.append(time.perf_counter() - started)
    # The first epoch end also takes the probe batch and warms the kernels: reported apart.
    first = inspections[0]
    epoch_s, inspect_s = statistics.median(epochs[1:]), statistics.median(inspections[1:])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    params = sum(p.numel() for p in module.parameters())
    record = inspector.run.inside_path.stat().st_size / args.epochs
    threads = torch.get_num_threads()
    print(f"{args.preset} on {parts.device}, {params:,} parameters, {args.epochs} epochs, {threads} torch threads, load {load}")
    print(f"training epoch   {epoch_s * 1000:9.1f} ms median  ({_spread(epochs[1:])})")
    print(f"inspection       {inspect_s * 1000:9.1f} ms median  ({_spread(inspections[1:])}); the first {first * 1000:.1f} ms")
    print(f"inspection / epoch {inspect_s / epoch_s:7.1%}   inside.jsonl {record / 1024:.1f} KiB per epoch")


def _spread(seconds: list[float]) -> str:
    return f"{min(seconds) * 1000:.1f}-{max(seconds) * 1000:.1f} ms"


if __name__ == "__main__":
    main()
