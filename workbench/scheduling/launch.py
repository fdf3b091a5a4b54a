"""The processes that train a run: one, or several workers through torchrun, detached or not.

A launch is planned in :mod:`workbench.scheduling.plan` (the app, the CLI and the queue's feeder
all go through it); this module starts what the plan says. :func:`spawn_detached` starts a
Workbench command in a process session of its own: no controlling terminal, its output going to
the run's ``log``. Closing the app, the terminal or the SSH connection that started it does not
stop it. Nothing here imports the engine: a run is trained by a command.

A run of several workers (:class:`Workers`) is the same command started through torchrun,
which starts one process per worker; the first worker records the run. In the foreground
(:func:`train_in_foreground`), a Ctrl+C reaches only this process, which asks the first worker
to stop (it checkpoints and the others stop with it), where torchrun would end every worker
at once.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.formatting import counted
from workbench.runs.folder import RunDir
from workbench.runs.liveness import HandedLock
from workbench.schema.config import RunConfig


@dataclass(frozen=True)
class Workers:
    """How many processes train one run, on how many machines: torchrun's options.

    ``endpoint``: host:port of the first machine, where the workers of several machines meet.
    """

    per_node: int = 1
    nodes: int = 1
    node_rank: int = 0
    endpoint: str = ""

    @property
    def total(self) -> int:
        return self.per_node * self.nodes

    @property
    def distributed(self) -> bool:
        return self.total > 1

    def check(self) -> None:
        """Refuse impossible numbers in one line each, before anything starts."""
        if self.per_node < 1:
            raise ConfigError(f"--nproc-per-node {self.per_node}: a run needs at least 1 worker per machine")
        if self.nodes < 1:
            raise ConfigError(f"--nnodes {self.nodes}: a run needs at least 1 machine")
        if not 0 <= self.node_rank < self.nodes:
            raise ConfigError(f"--node-rank {self.node_rank}: with --nnodes {self.nodes} it is 0 to {self.nodes - 1}")
        if self.nodes > 1:
            host, _, port = self.endpoint.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ConfigError(
                    f"--rdzv-endpoint {self.endpoint or '(missing)'}: several machines meet at the first one's HOST:PORT, "
                    "e.g. --rdzv-endpoint node1:29500"
                )
            if self.node_rank == 0:
                _check_port_free(int(port), self.endpoint)

    def check_devices(self, device: str, gpus: int) -> None:
        """One GPU per worker (``device``: the run's, ``gpus``: this machine's CUDA devices):
        refuse more workers than GPUs, one GPU named for several, or Apple's mps."""
        if not self.distributed:
            return
        device = device.strip().lower()
        on_gpus = device.startswith("cuda") or (device == "auto" and gpus > 0)
        if device.startswith("cuda:"):
            raise ConfigError(f"--device {device}: several workers each take a GPU of their own; use --device cuda")
        if on_gpus and self.per_node > gpus:
            raise ConfigError(
                f"{self.per_node} workers on this machine but it has {counted(gpus, 'CUDA device')}, one per worker; "
                f"use {counted(gpus, 'worker')} (--nproc-per-node, train.workers), or the CPU (--device cpu)"
            )
        if device == "mps":
            raise ConfigError("several workers need CUDA GPUs or the CPU; Apple's mps trains with one (--device cpu for workers)")

    def command(self, args: list[str]) -> list[str]:
        """The command line that runs the Workbench command ``args`` with these workers."""
        if not self.distributed:
            return training_command(args)
        # torchrun itself, but one line rather than a traceback when a signal stops it.
        torchrun = [sys.executable, "-m", "workbench.engine.torchrun_agent", f"--nproc-per-node={self.per_node}"]
        if self.nodes == 1:
            torchrun.append("--standalone")  # a free port on this machine: nothing to collide with
        else:
            torchrun += [f"--nnodes={self.nodes}", f"--node-rank={self.node_rank}", f"--rdzv-endpoint={self.endpoint}"]
        return [*torchrun, "-m", "workbench", *args]

    def environment(self) -> dict[str, str]:
        """The environment the command runs in: output unbuffered (a run's log follows it live);
        one CPU thread per worker unless the user chose otherwise (torchrun's default too, said
        in a banner otherwise; two threads' OpenMP teams oversubscribe the cores, DESIGN.md)."""
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if self.distributed:
            environment.setdefault("OMP_NUM_THREADS", "1")
        return environment


ONE_WORKER = Workers()


def workers_of(config: RunConfig) -> Workers:
    """The workers an experiment asks for on this machine (``train.workers``): a plan's default."""
    return Workers(per_node=config.train.workers)


def gpu_count() -> int:
    """GPUs this machine offers, without torch: CUDA_VISIBLE_DEVICES when set, else nvidia-smi."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(line.startswith("GPU ") for line in listed.splitlines())


def _check_port_free(port: int, endpoint: str) -> None:
    """The first machine listens on the endpoint's port: one line if something already does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("", port))
        except OSError:
            raise ConfigError(f"--rdzv-endpoint {endpoint}: port {port} is in use on this machine; choose another port") from None


def training_command(args: list[str]) -> list[str]:
    """The command line of a Workbench command run by this same interpreter."""
    return [sys.executable, "-m", "workbench", *args]


def train_in_foreground(workers: Workers, args: list[str], run: RunDir | None) -> int:
    """Run the command ``args`` with ``workers`` on this terminal, and return its exit status.

    It runs in a session of its own, so a Ctrl+C or a closed terminal reaches this process only:
    the first asks the run's first worker to stop (``run``'s recorded pid; the others stop with
    it, after a checkpoint); a second, or one before that worker is known, asks torchrun to end
    the workers. ``run`` is None on a machine other than the first (the run is recorded there)."""
    process = subprocess.Popen(workers.command(args), env=workers.environment(), start_new_session=True)
    asked = 0

    def forward(signum: int, frame: Any) -> None:
        nonlocal asked
        asked += 1
        pid = run.read_status().pid if run is not None and asked == 1 else None
        try:
            os.kill(pid or process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    stop_signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, forward) for sig in stop_signals}
    try:
        return process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def spawn_detached(args: list[str], log_path: Path, workers: Workers = ONE_WORKER, lock: HandedLock | None = None) -> None:
    """Start the Workbench command ``args`` (with ``workers``) in a session of its own, its
    output going to ``log_path``; ``lock``, when it holds a run's lock, goes to the process."""
    lock = lock or HandedLock()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            workers.command(args),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # setsid: no controlling terminal, no SIGHUP when it closes
            close_fds=True,
            pass_fds=lock.descriptors,
            env={**workers.environment(), **lock.environment()},
        )
    # Reap it when it ends, so that a long-lived launcher (the app) keeps no zombie around.
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
