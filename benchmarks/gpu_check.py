"""The GPU paths, checked once on a machine with NVIDIA GPUs (issue 12): run it, paste its output.

Each check is a real ``workbench`` command in a process of its own, in a fresh WORKBENCH_HOME
(the dataset cache is shared from ``--cache``, default the user's), and reports what a person
would look at:

- precision: digits-cnn trained in fp32, bf16 and fp16 (loss scaling): samples/s, test accuracy;
- channels_last and torch.compile: samples/s beside plain fp32 (compile: its first epoch too);
- the out-of-memory message: a batch far too large, refused in one line;
- the memory stat: the peak GPU memory the run reported;
- DDP: digits-mlp with every GPU (``--nproc-per-node N``) beside one process: epoch losses
  and samples/s (NCCL sums in another order than one process: equal to about 1e-4);
- cifar10-resnet to its stated accuracy (90%) with its wall time, where CIFAR-10 is in the cache.

    python -m benchmarks.gpu_check [--quick] [--cache DIR]

Without CUDA it says so and stops: the tests cover the CPU paths.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.measured_runs import train, workbench
from workbench import paths


def line(name: str, result: dict[str, Any]) -> str:
    if "error" in result:
        return f"{name:<28} FAILED: {result['error']}"
    speeds = result["samples_per_s"]
    steady = sorted(speeds[1:] or speeds)[len(speeds[1:] or speeds) // 2]
    acc = result["test_acc"]
    return (
        f"{name:<28} {steady:>9,}/s steady (first epoch {speeds[0]:,}/s)  test acc {acc:.4f}  "
        f"peak {result['peak_gib']:.2f} GiB  wall {result['wall_s']} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer epochs; skip cifar10-resnet")
    parser.add_argument("--cache", type=Path, default=paths.cache_dir(), help="dataset cache to share (default: yours)")
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        print("no CUDA device here: nothing to check (the tests cover the CPU paths)")
        return 1
    gpus = torch.cuda.device_count()
    names = ", ".join(torch.cuda.get_device_name(i) for i in range(gpus))
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {gpus} GPU(s): {names}")
    print(f"bf16 supported: {torch.cuda.is_bf16_supported()}   load average {os.getloadavg()[0]:.2f}")

    home = Path(tempfile.mkdtemp(prefix="wb-gpu-check-"))
    if args.cache.is_dir():
        shutil.copytree(args.cache, home / "cache", dirs_exist_ok=True)
    epochs = "3" if args.quick else "6"
    cnn = ["--epochs", epochs, "--device", "cuda"]

    print("\n-- precision, memory format, compile (digits-cnn) --")
    results = {
        "fp32": train(home, "digits-cnn", *cnn),
        "bf16": train(home, "digits-cnn", *cnn, "--set", "train.precision=bf16"),
        "fp16 (loss scaling)": train(home, "digits-cnn", *cnn, "--set", "train.precision=fp16"),
        "channels_last": train(home, "digits-cnn", *cnn, "--set", "train.channels_last=true"),
        "compile": train(home, "digits-cnn", *cnn, "--set", "train.compile=true"),
    }
    for name, result in results.items():
        print(line(name, result))

    print("\n-- the out-of-memory message --")
    # Offline data and a layer far too wide for the batch: the estimate refuses it before anything
    # is allocated, or CUDA runs out of memory and the run fails; either way one line.
    huge = ["--set", "model.layers.1.out_features=1048576", "--set", "data.batch_size=65536"]
    status, _, err, _ = workbench(["train", "digits-mlp", "--device", "cuda", "--epochs", "1", *huge], home)
    lines = err.strip().splitlines()
    print(f"exit {status}, {len(lines)} line(s) on stderr: {lines[-1] if lines else '(none)'}")

    print(f"\n-- DDP: digits-mlp, 1 process vs {gpus} workers (NCCL) --")
    mlp = ["--epochs", "3", "--device", "cuda", "--set", f"data.batch_size={32 * gpus}"]
    alone = train(home, "digits-mlp", *mlp)
    together = train(home, "digits-mlp", *mlp, "--nproc-per-node", str(gpus))
    print(line("1 process", alone))
    print(line(f"{gpus} workers", together))
    if "losses" in alone and "losses" in together:
        gap = max(abs(a - b) for a, b in zip(alone["losses"], together["losses"], strict=True))
        print(f"largest epoch-loss difference: {gap:.2e}")

    if not args.quick:
        print("\n-- cifar10-resnet to its stated accuracy (90%) --")
        cifar = train(home, "cifar10-resnet", "--device", "cuda")
        print(line("cifar10-resnet", cifar) if "error" not in cifar else f"skipped or failed: {cifar['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
