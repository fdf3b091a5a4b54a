"""The GPU paths, checked once on a machine with NVIDIA GPUs (issue 12): run it, paste its output.

Each check is a real ``workbench`` command in a process of its own, in a fresh WORKBENCH_HOME
(the dataset cache is shared from ``--cache``, default the user's), and reports what a person
would look at:

- the devices the Train screen offers (each GPU with its name and memory);
- precision: digits-cnn trained in fp32, bf16 and fp16 (loss scaling): samples/s, test accuracy;
- channels_last, torch.compile and deterministic kernels: samples/s beside plain fp32 (compile:
  its first epoch too); fp32 and deterministic each trained twice: are the epoch losses equal?
- the memory stat: the peak GPU memory each run reported;
- a GPU checkpoint evaluated on the CPU and on the GPU: the test accuracy training reported;
- an fp16 run of 2 epochs resumed to 3, beside 3 straight (the loss scaler's state travels);
- out of memory, both ways: a model the estimate refuses before anything is allocated, and a
  run that really runs out (this script holds all but 3 GiB of the card): one line each, the
  run marked failed;
- DDP: digits-mlp with every GPU (``--nproc-per-node N``) beside one process: epoch losses
  and samples/s (NCCL sums in another order than one process: equal to about 1e-4);
- ``workbench bench`` on the GPU: the engine against a plain loop, with the GPU memory line;
- (not with --quick) a conv-heavy model, where precision, memory format and compile should pay:
  cifar10-resnet's network on MNIST-shaped data (random pixels when MNIST is not cached: speed
  only), 2 epochs each way, and ``workbench bench`` on it;
- (not with --quick) cifar10-resnet to its stated accuracy (90%) with its wall time, where
  CIFAR-10 is in the cache.

    python -m benchmarks.gpu_check [--quick] [--cache DIR]

Without CUDA it says so and stops: the tests cover the CPU paths.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.measured_runs import resume, steady, train, workbench
from benchmarks.standin_mnist import write_standin
from workbench import paths
from workbench.data.registry import is_cached


def line(name: str, result: dict[str, Any]) -> str:
    if "error" in result:
        return f"{name:<28} FAILED: {result['error']}"
    speeds = result["samples_per_s"]
    return (
        f"{name:<28} {steady(speeds):>9,.0f}/s steady (first epoch {speeds[0]:,}/s)  test acc {result['test_acc']:.4f}  "
        f"peak {result['peak_gib']:.2f} GiB  wall {result['wall_s']} s"
    )


def last_line(err: str) -> str:
    lines = err.strip().splitlines()
    return f"{len(lines)} line(s) on stderr: {lines[-1] if lines else '(none)'}"


def latest_state(home: Path) -> str:
    status, out, _, _ = workbench(["runs", "--json"], home)
    runs = json.loads(out) if status == 0 else []
    return runs[-1]["state"] if runs else "(no run)"


def check_devices() -> None:
    from workbench.engine.device import available_devices

    print("\n-- the devices the Train screen offers --")
    for name, description in available_devices():
        print(f"{name:<8} {description}")


def check_precisions(home: Path, epochs: str) -> dict[str, dict[str, Any]]:
    print("\n-- precision, memory format, compile (digits-cnn) --")
    cnn = ["--epochs", epochs, "--device", "cuda"]
    results = {
        "fp32": train(home, "digits-cnn", *cnn),
        "bf16": train(home, "digits-cnn", *cnn, "--set", "train.precision=bf16"),
        "fp16 (loss scaling)": train(home, "digits-cnn", *cnn, "--set", "train.precision=fp16"),
        "channels_last": train(home, "digits-cnn", *cnn, "--set", "train.channels_last=true"),
        "compile": train(home, "digits-cnn", *cnn, "--set", "train.compile=true"),
        "deterministic": train(home, "digits-cnn", *cnn, "--set", "train.deterministic=true"),
        "deterministic, again": train(home, "digits-cnn", *cnn, "--set", "train.deterministic=true"),
        "fp32, again": train(home, "digits-cnn", *cnn),
    }
    for name, result in results.items():
        print(line(name, result))
    for name in ("fp32", "deterministic"):
        first, again = results[name], results[f"{name}, again"]
        if "losses" in first and "losses" in again:
            print(f"{name} twice, every epoch's loss equal: {first['losses'] == again['losses']}")
    return results


def check_portable_checkpoint(home: Path, trained: dict[str, Any]) -> None:
    print("\n-- the fp32 run's checkpoint evaluated on each device --")
    if "error" in trained:
        print("skipped: the fp32 run failed")
        return
    for device in ("cpu", "cuda"):
        status, out, err, _ = workbench(["eval", trained["run_id"], "--device", device, "--json"], home)
        found = f"test acc {json.loads(out)['metrics']['acc']:.4f}" if status == 0 else f"FAILED: {last_line(err)}"
        print(f"on {device:<5} {found}   (training reported {trained['test_acc']:.4f})")


def check_fp16_resume(home: Path) -> None:
    # digits-mlp's step schedule does not depend on the number of epochs, so the first two epochs
    # of both runs are the same run.
    print("\n-- fp16 (digits-mlp): 2 epochs, then resumed to 3, beside 3 straight --")
    fp16 = ["--device", "cuda", "--set", "train.precision=fp16"]
    straight = train(home, "digits-mlp", "--epochs", "3", *fp16)
    first = train(home, "digits-mlp", "--epochs", "2", *fp16)
    if "error" in straight or "error" in first:
        print(f"FAILED: {straight.get('error') or first.get('error')}")
        return
    resumed = resume(home, first["run_id"], "--epochs", "3")
    if "error" in resumed:
        print(f"resume FAILED: {resumed['error']}")
        return
    gap = max(abs(a - b) for a, b in zip(straight["losses"], resumed["losses"], strict=True))
    print(f"epoch losses, straight: {', '.join(f'{x:.6f}' for x in straight['losses'])}")
    print(f"epoch losses, resumed:  {', '.join(f'{x:.6f}' for x in resumed['losses'])}   largest gap {gap:.2e}")


def check_out_of_memory(home: Path) -> None:
    import torch

    print("\n-- out of memory --")
    huge = ["--set", "model.layers.1.out_features=1048576", "--set", "data.batch_size=65536"]
    status, _, err, _ = workbench(["train", "digits-mlp", "--device", "cuda", "--epochs", "1", *huge], home)
    print(f"refused by the estimate: exit {status}, {last_line(err)}")

    free, _ = torch.cuda.mem_get_info()
    held = torch.empty(max(0, free - 3 * 2**30), dtype=torch.uint8, device="cuda")
    wide = ["--set", "model.layers.1.out_features=1048576", "--set", "data.batch_size=1024"]
    try:
        status, _, err, _ = workbench(["train", "digits-mlp", "--device", "cuda", "--epochs", "1", *wide], home)
    finally:
        del held
        torch.cuda.empty_cache()
    print(f"ran out (3 GiB left free): exit {status}, {last_line(err)}; the run is {latest_state(home)}")


def check_ddp(home: Path, gpus: int) -> None:
    print(f"\n-- DDP: digits-mlp, 1 process vs {gpus} worker(s) (NCCL) --")
    mlp = ["--epochs", "3", "--device", "cuda", "--set", f"data.batch_size={32 * gpus}"]
    alone = train(home, "digits-mlp", *mlp)
    together = train(home, "digits-mlp", *mlp, "--nproc-per-node", str(gpus))
    print(line("1 process", alone))
    print(line(f"{gpus} worker(s)", together))
    if "losses" in alone and "losses" in together:
        gap = max(abs(a - b) for a, b in zip(alone["losses"], together["losses"], strict=True))
        print(f"largest epoch-loss difference: {gap:.2e}")


def check_bench(home: Path, preset: str, *options: str) -> None:
    """``workbench bench PRESET --device cuda OPTIONS``: its report, or its one line of failure."""
    print("\n-- " + " ".join(["workbench bench", preset, "--device cuda", *options]) + " --")
    status, out, err, _ = workbench(["bench", preset, "--device", "cuda", *options], home)
    print(out.rstrip() if status == 0 else f"FAILED: {last_line(err)}")


def check_conv_model(home: Path) -> None:
    print("\n-- a conv-heavy model: cifar10-resnet's network on 57,000 MNIST-shaped images, 2 epochs each --")
    if not is_cached("mnist"):
        print(f"MNIST is not cached: random-pixel stand-in written to {write_standin()} (the accuracies below mean nothing)")
    resnet = ["--epochs", "2", "--device", "cuda", "--set", "data.dataset=mnist"]
    bf16 = ["--set", "train.precision=bf16"]
    ways = {
        "fp32": [],
        "bf16": bf16,
        "bf16 + channels_last": [*bf16, "--set", "train.channels_last=true"],
        "bf16 + compile": [*bf16, "--set", "train.compile=true"],
    }
    for name, options in ways.items():
        result = train(home, "cifar10-resnet", *resnet, *options)
        print(line(name, result))
        if name == "fp32" and "epoch_s" in result:
            seconds = result["epoch_s"][-1]
            print(
                f"  an epoch took {seconds} s with validation: cifar10-resnet's 18 epochs of CIFAR-10 (50,000 3x32x32 "
                f"images, a like amount of work) would take about {18 * seconds / 60:.1f} min at this speed"
            )
    check_bench(home, "cifar10-resnet", "--set", "data.dataset=mnist", "--rounds", "2")


def check_cifar(home: Path) -> None:
    print("\n-- cifar10-resnet to its stated accuracy (90%) --")
    if not is_cached("cifar10"):
        print("skipped: CIFAR-10 is not in the cache (workbench train cifar10-resnet downloads it once)")
        return
    print(line("cifar10-resnet", train(home, "cifar10-resnet", "--device", "cuda")))


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
    os.environ["WORKBENCH_HOME"] = str(home)

    check_devices()
    results = check_precisions(home, "3" if args.quick else "6")
    check_portable_checkpoint(home, results["fp32"])
    check_fp16_resume(home)
    check_out_of_memory(home)
    check_ddp(home, gpus)
    check_bench(home, "digits-cnn")
    if not args.quick:
        check_conv_model(home)
        check_cifar(home)
    return 0


if __name__ == "__main__":
    sys.exit(main())
