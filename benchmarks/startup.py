"""The start-up budget: wall time of ``workbench train digits-cnn`` against ``import torch``.

A run cannot start faster than torch imports, so the budget is stated as a ratio of the two,
measured in the same rounds (interleaved, so machine noise hits both alike): target ≤ 2.0 (issue
31; 2.2 before). A first, untimed run fills the dataset cache, as any user's first run does.

Every row also gives the CPU seconds of its process (user + system, from the kernel's account of
the child): on a shared machine wall time swings with the load, CPU time much less. The row
``import torch, torch._dynamo`` is what any loop with a torch.optim optimizer imports at its
first step (torch/optim/optimizer.py imports torch._dynamo in every ``step``, for a graph break):
a plain PyTorch script pays it too, and no caller of torch.optim can leave it out.
``--compare DIR`` also times the command from another source tree (an older checkout, say) in
the same rounds, for a before/after on one machine at one time.

    python -m benchmarks.startup [--rounds 5] [--compare DIR] [-- extra train arguments]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 2.0
#: What torch.optim's first step adds to ``import torch`` (see the module's docstring).
WITH_DYNAMO = "import torch, torch._dynamo"
ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one process, start to exit; a failure stops the benchmark. It runs in its
    WORKBENCH_HOME: ``python -m`` puts the working folder first on the path, which would shadow
    the PYTHONPATH that chooses the source tree."""
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=env["WORKBENCH_HOME"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def timed_with_cpu(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of one process (as :func:`timed`), and its CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(argv, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def environment(source: Path, home: str) -> dict[str, str]:
    """The process's environment: ``source``'s workbench, the benchmark's own WORKBENCH_HOME."""
    env = dict(os.environ, PYTHONPATH=str(source), WORKBENCH_HOME=home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on any machine: byte code cached
    return env


def describe(name: str, times: list[float]) -> str:
    return f"{name:<24} median {statistics.median(times):6.2f} s   spread {min(times):.2f}-{max(times):.2f} s   n={len(times)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compare", type=Path, help="another source tree to time in the same rounds")
    parser.add_argument("train_args", nargs="*", help="more arguments for `workbench train digits-cnn`")
    args = parser.parse_args()

    train = [sys.executable, "-m", "workbench", "train", "digits-cnn", *args.train_args]
    trees = {"workbench train": ROOT} | ({"compared tree": args.compare.resolve()} if args.compare else {})
    envs = {name: environment(tree, tempfile.mkdtemp(prefix="wb-startup-")) for name, tree in trees.items()}
    for env in envs.values():
        timed(train, env)  # the first run of a home: fills the dataset cache (not timed)

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    baselines = {"import torch": [sys.executable, "-c", "import torch"], WITH_DYNAMO: [sys.executable, "-c", WITH_DYNAMO]}
    times: dict[str, list[float]] = {name: [] for name in [*baselines, *trees]}
    cpu: dict[str, list[float]] = {name: [] for name in times}
    for _ in range(args.rounds):
        runs = [(name, argv, envs["workbench train"]) for name, argv in baselines.items()]
        for name, env in envs.items():
            runs.append((name, train, env))
        for name, argv, env in runs:
            wall, used = timed_with_cpu(argv, env)
            times[name].append(wall)
            cpu[name].append(used)
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    torch_s, torch_cpu = statistics.median(times["import torch"]), statistics.median(cpu["import torch"])
    for name, measured in times.items():
        ratio_text = "" if name == "import torch" else f"   ratio {statistics.median(measured) / torch_s:.2f}"
        cpu_text = f"   cpu {statistics.median(cpu[name]):5.2f} s (ratio {statistics.median(cpu[name]) / torch_cpu:.2f})"
        print(describe(name, measured) + ratio_text + cpu_text)
    ratio = statistics.median(times["workbench train"]) / torch_s
    print(f"start-up ratio {ratio:.2f} (target ≤ {TARGET_RATIO}): {'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    floor = statistics.median(times[WITH_DYNAMO]) / torch_s
    print(
        f"of which torch.optim's import of torch._dynamo alone: {floor - 1:.2f} (no training loop with torch.optim is without it)"
    )


if __name__ == "__main__":
    main()
