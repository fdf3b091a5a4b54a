"""How close the engine's training loop runs to a hand-written PyTorch loop.

Trains the same preset twice per round from the same seed, over the same batches on the
same device: once through :class:`workbench.engine.trainer.Trainer` (events, progress,
device-side metrics, checkpoints each epoch) and once with the tutorials' plain loop
(zero_grad, forward, loss, backward, step, loss summed on the device). Prints training
samples/s of both and their ratio; rounds alternate so machine noise hits both alike.

    python benchmarks/engine_overhead.py [PRESET] [--epochs N] [--rounds R] [--device D]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch

from workbench.engine.setup import build_parts
from workbench.engine.trainer import Trainer
from workbench.experiment.presets import load_experiment
from workbench.optim.build import build_optimizer
from workbench.runs import events as ev


def engine_samples_per_s(config, device: str | None) -> float:
    """Training throughput the engine reports for its epochs (validation and saving excluded)."""
    ended: list[ev.EpochEnded] = []
    Trainer(config, [lambda e: ended.append(e) if isinstance(e, ev.EpochEnded) else None], device=device).run()
    return statistics.mean(e.samples_per_s for e in ended)


def plain_samples_per_s(config, device: str | None) -> float:
    """The tutorials' loop over the same batches, timed per epoch like the engine's."""
    parts = build_parts(config, device=device, for_training=True)
    model, loss_fn = parts.prepared.model, parts.loss_fn
    optimizer = build_optimizer(config.optimizer, parts.prepared.module.parameters())
    rates = []
    for epoch in range(1, config.train.epochs + 1):
        model.train()
        total = torch.zeros((), device=parts.device)
        seen = 0
        started = time.perf_counter()
        for inputs, targets in parts.splits.train.epoch(epoch):
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            total += loss.detach()
            seen += len(targets)
        total.item()  # wait for the device, as the engine does at the end of an epoch
        rates.append(seen / (time.perf_counter() - started))
    return statistics.mean(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", nargs="?", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="workbench-bench-"))
    config = load_experiment(args.preset, [f"train.epochs={args.epochs}"])
    engine, plain = [], []
    for _ in range(args.rounds):
        plain.append(plain_samples_per_s(config, args.device))
        engine.append(engine_samples_per_s(config, args.device))
    e, p = statistics.median(engine), statistics.median(plain)
    print(f"{args.preset}, {args.epochs} epochs x {args.rounds} rounds, torch threads {torch.get_num_threads()}")
    print(f"plain PyTorch loop  {p:10,.0f} samples/s (median)")
    print(f"workbench engine    {e:10,.0f} samples/s (median)")
    print(f"engine / plain      {e / p:10.3f}")


if __name__ == "__main__":
    main()
