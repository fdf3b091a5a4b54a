"""CPU speed-ups measured, not assumed: ``torch.compile`` and channels_last for the conv presets.

Four variants of the same preset train on the CPU for ``--epochs`` epochs each: eager (as
shipped), channels_last, compiled, and both. Each trains in a fresh process (a compile pays its
warm-up in every new process, as each run does; what inductor caches on disk is kept, as on a
user's machine after the first run), with the engine's own training step
(:func:`workbench.engine.step.train_step`) on the engine's batches. Variants alternate within
each round, so the machine's noise hits each alike.

Printed per variant: the first epoch (warm-up included) and the median of the later epochs;
then, against eager, the warm-up a variant costs and the crossover: the number of epochs after
which its run as a whole is shorter than eager's (never, when its epochs are no faster).

digits-cnn trains on the bundled digits; LeNet-5 (mnist-lenet5's model) on MNIST when it is in
the cache, else on random MNIST-shaped tensors (60,000 28x28 grey images: the arithmetic is the
same, the accuracy is not measured here).

    python -m benchmarks.cpu_compile [PRESET ...] [--epochs 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

#: name -> (channels_last, compile)
VARIANTS = {"eager": (False, False), "channels_last": (True, False), "compile": (False, True), "both": (True, True)}
PRESETS = ("digits-cnn", "mnist-lenet5")
#: Samples of the random stand-in for MNIST when it is not in the cache (MNIST's training split less validation).
SYNTHETIC_SAMPLES = 54_000


@dataclass(frozen=True)
class Timing:
    first: list[float]  # per round: seconds of the first epoch (compile warm-up included)
    later: list[float]  # per round: median seconds of the epochs after the first

    @property
    def steady(self) -> float:
        return statistics.median(self.later)

    @property
    def warm(self) -> float:
        return statistics.median(self.first)


def build(preset: str, channels_last: bool, compile_: bool):  # noqa: ANN201 - (Parts, source) in the child process
    """The preset's parts on the CPU, prepared as the variant says."""
    import torch

    from workbench.data.registry import is_cached
    from workbench.engine.device import PreparedModel
    from workbench.engine.setup import build_parts
    from workbench.experiment.presets import load_experiment

    config = load_experiment(preset)
    cpu = torch.device("cpu")
    if is_cached(config.data.dataset):
        parts, source = build_parts(config, device="cpu", for_training=True), config.data.dataset
    else:
        parts, source = _synthetic_parts(config, cpu), f"random {config.data.dataset}-shaped tensors"
    module = parts.prepared.module
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    model = torch.compile(module) if compile_ else module
    parts.prepared = PreparedModel(module, model, channels_last)
    return parts, config, source


def _synthetic_parts(config, cpu):  # noqa: ANN001, ANN202 - torch types, imported in the child only
    import torch

    from workbench.data.batching import TensorBatches
    from workbench.data.loading import Splits
    from workbench.data.normalise import Normaliser
    from workbench.data.registry import describe
    from workbench.engine.device import prepare_model, resolve_precision
    from workbench.engine.seeding import seed_everything
    from workbench.engine.setup import Parts
    from workbench.model.build import build_model
    from workbench.optim.build import build_loss

    info = describe(config.data)
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (SYNTHETIC_SAMPLES, *info.input_shape), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, info.num_outputs, (SYNTHETIC_SAMPLES,), generator=generator)
    normaliser = Normaliser.fit(images, True)
    batches = TensorBatches(images, labels, batch_size=config.data.batch_size, normaliser=normaliser, shuffle_seed=0)
    seed_everything(config.train.seed)
    module = build_model(config.model, info.input_shape, info.num_outputs)
    prepared = prepare_model(module, config.train, cpu, for_training=True)
    precision, _ = resolve_precision("fp32", cpu)
    info = dataclasses.replace(info, train_size=SYNTHETIC_SAMPLES)
    return Parts(cpu, precision, Splits(info, batches, None, batches, normaliser), prepared, build_loss(config.loss))


def one_variant(preset: str, variant: str, epochs: int) -> dict:
    """Train ``variant`` of ``preset`` for ``epochs`` in this process; seconds per epoch."""
    import torch

    from workbench.engine.step import train_step
    from workbench.optim.build import build_optimizer

    started = time.perf_counter()
    channels_last, compile_ = VARIANTS[variant]
    parts, config, source = build(preset, channels_last, compile_)
    optimizer = build_optimizer(config.optimizer, parts.prepared.module.parameters())
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    parts.prepared.model.train()
    seconds = []
    for epoch in range(1, epochs + 1):
        began = time.perf_counter()
        total = torch.zeros(())
        for inputs, targets in parts.splits.train.epoch(epoch):
            _, loss = train_step(parts, optimizer, scaler, 0.0, inputs, targets)
            total += loss.detach()
        total.item()
        seconds.append(time.perf_counter() - began)
    return {"epochs": seconds, "source": source, "setup_s": time.perf_counter() - started - sum(seconds)}


def crossover(variant: Timing, eager: Timing) -> str:
    """Epochs after which ``variant``'s run is shorter than eager's in all."""
    saving = eager.steady - variant.steady  # per epoch after the first
    extra = variant.warm - eager.warm  # what its first epoch costs beyond eager's
    if saving <= 0:
        return "never (its epochs are no faster)"
    if extra <= 0:
        return "from the first epoch"
    return f"in runs of {math.ceil(extra / saving) + 1} epochs or more"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("presets", nargs="*", default=list(PRESETS))
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", nargs=2, metavar=("PRESET", "VARIANT"), help=argparse.SUPPRESS)  # a child's work
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_variant(*args.one, args.epochs)))
        return
    import torch

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores; "
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    for preset in args.presets:
        timings: dict[str, Timing] = {name: Timing([], []) for name in VARIANTS}
        source = ""
        for round_ in range(args.rounds):
            order = list(VARIANTS) if round_ % 2 == 0 else list(reversed(VARIANTS))
            for name in order:
                argv = [sys.executable, "-m", "benchmarks.cpu_compile", "--one", preset, name, "--epochs", str(args.epochs)]
                result = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
                source = result["source"]
                timings[name].first.append(result["epochs"][0])
                timings[name].later.append(statistics.median(result["epochs"][1:] or result["epochs"]))
        print(f"{preset} on {source}, {args.epochs} epochs x {args.rounds} rounds (load now {os.getloadavg()[0]:.2f}):")
        eager = timings["eager"]
        for name, timing in timings.items():
            line = (
                f"  {name:<14} first epoch {timing.warm:6.2f} s, later epochs {timing.steady:6.2f} s "
                f"(spread {min(timing.later):.2f}-{max(timing.later):.2f})"
            )
            if name != "eager":
                line += (
                    f"; epochs x{eager.steady / timing.steady:.2f} eager's speed, "
                    f"warm-up {timing.warm - timing.steady:+.1f} s, wins {crossover(timing, eager)}"
                )
            print(line)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
