"""A model from the user's own file trains at the speed of the same network from the catalog.

The tutorial-net preset's ``Net`` (presets/tutorial-net/nets.py: the tutorial's conv1, conv2,
fc1-fc3 with a functional ``forward``) against the same LeNet-5-like stack written as catalog
layers (Conv2d 6, ReLU, MaxPool2d, Conv2d 16, ReLU, MaxPool2d, Flatten, Linear 120, ReLU,
Linear 84, ReLU, Linear), the rest of the experiment alike. Each is trained through the
engine's Trainer (:func:`workbench.engine.bench.engine_samples_per_s`: the engine's own
samples/s of the training steps, in a scratch run folder); the two alternate round by round,
the order turned each round, so that a busier moment of a shared machine hits both alike.
Prints each one's median and spread, the ratio code / catalog per round and its median (the
target: at least 0.97), and the machine's load before and after.

    python -m benchmarks.code_model_speed [--rounds R] [--epochs N] [--device D]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

from workbench.engine.bench import engine_samples_per_s, warm_up
from workbench.experiment.presets import load_experiment
from workbench.experiment.validation import validate
from workbench.formatting import counted
from workbench.schema.config import LayerSpec, ModelConfig, RunConfig

#: The tutorial's network as catalog layers, sized as nets.py sizes it for the 8x8 digits.
CATALOG_STACK = (
    LayerSpec("Conv2d", params={"out_channels": 6, "kernel_size": 3, "padding": 1}),
    LayerSpec("ReLU"),
    LayerSpec("MaxPool2d", params={"kernel_size": 2}),
    LayerSpec("Conv2d", params={"out_channels": 16, "kernel_size": 3, "padding": 1}),
    LayerSpec("ReLU"),
    LayerSpec("MaxPool2d", params={"kernel_size": 2}),
    LayerSpec("Flatten"),
    LayerSpec("Linear", params={"out_features": 120}),
    LayerSpec("ReLU"),
    LayerSpec("Linear", params={"out_features": 84}),
    LayerSpec("ReLU"),
    LayerSpec("Linear", params={"out_features": "auto"}),
)
TARGET = 0.97


def experiments(epochs: int) -> dict[str, RunConfig]:
    """The preset with its code model, and the same experiment with the catalog's stack."""
    code = load_experiment("tutorial-net", [f"train.epochs={epochs}"])
    catalog = code.copy()
    catalog.model = ModelConfig(layers=[LayerSpec(layer.type, params=dict(layer.params)) for layer in CATALOG_STACK])
    return {"code": code, "catalog": validate(catalog)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=6, help="per run (default 6: about 2 s on a laptop CPU)")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="workbench-bench-"))
    configs = experiments(args.epochs)
    for config in configs.values():  # imports, thread pools, the allocator's first blocks: not counted
        warm_up(config, args.device or "cpu", 0)
    load_before = os.getloadavg()
    rates: dict[str, list[float]] = {name: [] for name in configs}
    names = list(configs)
    for index in range(args.rounds):
        for name in names[index % 2 :] + names[: index % 2]:
            rates[name].append(engine_samples_per_s(configs[name], args.device))
    ratios = [code / catalog for code, catalog in zip(rates["code"], rates["catalog"], strict=True)]
    print(
        f"tutorial Net (code) against the same stack from the catalog: {counted(args.rounds, 'round')} of {counted(args.epochs, 'epoch')}"
    )
    print(f"load average before {_load(load_before)}, after {_load(os.getloadavg())} ({os.cpu_count()} cores)")
    for name, values in rates.items():
        print(f"{name:<8} median {statistics.median(values):9,.0f} samples/s   spread {min(values):,.0f}-{max(values):,.0f}")
    median = statistics.median(ratios)
    verdict = "meets" if median >= TARGET else "misses"
    print(f"code / catalog per round: {' '.join(f'{r:.3f}' for r in ratios)}")
    print(f"code / catalog median {median:.3f}: {verdict} the target of {TARGET}")


def _load(values: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in values)


if __name__ == "__main__":
    main()
