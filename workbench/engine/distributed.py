"""A run trained by several worker processes (DistributedDataParallel, launched by torchrun).

torchrun starts one process per worker and tells each its place through the environment
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``). :class:`Team` is
what the trainer knows of the others: alone (one process, the usual run) it does nothing and
costs nothing; with others it joins the process group (NCCL on CUDA, gloo on the CPU) and
offers the few collective steps the loop needs:

- :meth:`Team.agree`, at a step every worker reaches: the epoch's metric totals summed over the
  workers, a stop or pause any of them was asked for, and when to agree next (the first worker
  sets the interval, so that agreements come a few times a second and never every step);
- :meth:`Team.sum_totals` for validation and the end of an epoch, :meth:`Team.gather` for
  the test's outputs and the workers' random states, :meth:`Team.share` for what the first
  worker decides (the run folder, a checkpoint's weights).

Only the first worker (rank 0) writes the run folder; the others train, validate their share
and stay silent. A worker that dies makes the others' next collective step fail, which ends
the run as failed with its last checkpoint intact; torchrun ends the rest.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from workbench.data.sharding import Shard
from workbench.engine.control import Control
from workbench.engine.metrics import MetricTotals
from workbench.errors import ConfigError
from workbench.formatting import counted

T = TypeVar("T")

#: How long a worker waits for the others in one collective step. A pause holds the others in
#: one for at most PAUSE_BEAT_S; a checkpoint of a large model on slow storage may take minutes.
COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=30)
#: During a pause the first worker tells the others every this many seconds that it goes on.
PAUSE_BEAT_S = 10.0


@dataclass(frozen=True)
class Place:
    """Where this process stands among a run's workers, as torchrun's environment says."""

    rank: int = 0
    workers: int = 1
    local_rank: int = 0
    local_workers: int = 1  # the workers on this machine

    @property
    def alone(self) -> bool:
        return self.workers == 1

    @property
    def first(self) -> bool:
        """The worker that writes the run folder and talks to the sinks."""
        return self.rank == 0

    @property
    def shard(self) -> Shard:
        return Shard(self.rank, self.workers)


def place_from_environment() -> Place:
    """This process's place: torchrun's variables, or alone."""
    workers = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if workers <= 1:
        return Place()
    local = int(os.environ.get("LOCAL_WORLD_SIZE", str(workers)))
    return Place(int(os.environ.get("RANK", "0")), workers, int(os.environ.get("LOCAL_RANK", "0")), local)


def worker_device(place: Place, device: torch.device) -> torch.device:
    """The device a worker trains on: with several GPUs on a machine, its own (cuda:LOCAL_RANK)."""
    if place.alone or device.type != "cuda":
        return device
    count = torch.cuda.device_count()
    if place.local_rank >= count:
        raise ConfigError(
            f"worker {place.rank} wants GPU {place.local_rank} but this machine has {counted(count, 'CUDA device')}; "
            f"start at most {count} workers per machine (--nproc-per-node {count})",
            field="train.device",
        )
    torch.cuda.set_device(place.local_rank)
    return torch.device("cuda", place.local_rank)


@dataclass(frozen=True)
class Agreement:
    """What the workers agreed at one step: their summed totals, a stop or pause, the next step.
    ``met``: the workers met (a collective step), so the totals are read anyway, and every worker
    checks them, to fail on a non-finite loss together; alone, nothing was read."""

    totals: MetricTotals
    stop: bool
    pause: bool
    next_step: int
    met: bool


ALONE = Place()


class Team:
    """This process and the other workers of its run (none when alone)."""

    def __init__(self, place: Place = ALONE) -> None:
        self.place = place
        self.joined = False
        #: Where this worker's collective tensors live: NCCL moves only CUDA tensors.
        self.device = torch.device("cpu")

    @property
    def alone(self) -> bool:
        return self.place.alone

    @property
    def first(self) -> bool:
        return self.place.first

    def join(self, device: torch.device) -> None:
        """Join the process group; NCCL for CUDA, gloo otherwise. Alone: nothing."""
        if self.alone or self.joined:
            return
        backend = "nccl" if device.type == "cuda" else "gloo"
        if backend == "nccl" and not dist.is_nccl_available():
            raise ConfigError("this PyTorch has no NCCL: train the workers on the CPU (--device cpu) or install a CUDA build")
        dist.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT, device_id=device if device.type == "cuda" else None)
        self.joined = True
        self.device = device

    def leave(self) -> None:
        if self.joined:
            dist.destroy_process_group()
            self.joined = False

    # ------------------------------------------------------------------ the model

    def wrap(self, module: nn.Module, device: torch.device, sync_batchnorm: bool) -> tuple[nn.Module, list[str]]:
        """The model the loop calls: DistributedDataParallel around ``module`` (whose weights the
        first worker's become); SyncBatchNorm where asked and possible. Alone: ``module``."""
        if self.alone:
            return module, []
        warnings = []
        has_batchnorm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())
        if sync_batchnorm and has_batchnorm:
            if device.type == "cuda":
                module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
            else:
                warnings.append(
                    "train.sync_batchnorm applies on CUDA only; on the CPU each worker's BatchNorm uses its own share of a batch"
                )
        ids = [device.index] if device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(module, device_ids=ids), warnings

    def share_weights(self, module: nn.Module) -> None:
        """Give every worker the first worker's parameters and buffers (after it loaded a checkpoint)."""
        if self.alone:
            return
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)

    # ------------------------------------------------------------------ agreeing as the loop goes

    def agree(self, totals: MetricTotals, control: Control, step: int, steps_apart: Callable[[], int]) -> Agreement:
        """One collective step: the totals summed, a stop or pause asked of any worker, and the
        step of the next agreement (``steps_apart()`` after this one, as the first worker
        proposes it). Alone: this process's own, with no step shared and nothing read or worked
        out, and the next agreement at the next step (its control is looked at after every step,
        a flag read)."""
        pause = control.paused and not control.stop_requested
        if self.alone:
            return Agreement(totals, control.stop_requested, pause, step + 1, met=False)
        proposal = float(step + steps_apart()) if self.first else 0.0
        summed, numbers = self._sum_with(totals, [float(control.stop_requested), float(pause), proposal])
        stop, paused, agreed_next = numbers
        return Agreement(summed, stop > 0, paused > 0, max(int(agreed_next), step + 1), met=True)

    def sum_totals(self, totals: MetricTotals) -> MetricTotals:
        """The totals of every worker summed (the workers' own left as they are). Alone: ``totals``."""
        if self.alone:
            return totals
        return self._sum_with(totals, [])[0]

    def _sum_with(self, totals: MetricTotals, numbers: list[float]) -> tuple[MetricTotals, list[float]]:
        """One all-reduce of the totals (their sample count included) and a few more numbers."""
        extra = torch.tensor(numbers, dtype=totals.loss.dtype, device=totals.loss.device)
        vector = torch.cat([totals.as_vector(), extra])
        if not self.alone:
            dist.all_reduce(vector)  # sync: the workers meet here
        width = vector.numel() - len(numbers)
        return totals.from_vector(vector[:width]), vector[width:].tolist()  # sync: read on the host

    def hold_pause(self, control: Control) -> None:
        """The workers wait out a pause together, until it ends or becomes a stop (in ``control``).
        The first worker waits on its control and tells the others every PAUSE_BEAT_S whether it
        goes on. Alone: a wait on the control."""
        if self.alone:
            control.wait_while_paused()
            return
        while True:
            if self.first:
                control.wait_while_paused(timeout_s=PAUSE_BEAT_S)
            state = torch.tensor([float(control.stop_requested), float(control.paused)], dtype=torch.float64, device=self.device)
            dist.broadcast(state, src=0)
            stop, paused = state.tolist()
            if stop > 0:
                control.stop()
                return
            if paused == 0:
                control.resume()
                return

    # ------------------------------------------------------------------ the first worker's decisions

    def share(self, value: T) -> T:
        """The first worker's ``value`` (the others' is ignored). Alone: ``value``."""
        if self.alone:
            return value
        box = [value if self.first else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]  # type: ignore[return-value]

    def gather_apart(self, value: T) -> list[T] | None:
        """Every worker's ``value`` where there are several (a checkpoint keeps each worker's
        random state); None alone, where the checkpoint's own is the one."""
        return None if self.alone else self.gather(value)

    def gather(self, value: T) -> list[T]:
        """Every worker's ``value``, in rank order. Alone: ``[value]``."""
        if self.alone:
            return [value]
        gathered: list[Any] = [None] * self.place.workers
        dist.all_gather_object(gathered, value)
        return gathered


#: The team of a process that trains alone: every collective step is nothing.
SOLO = Team()


def worker_lost(error: BaseException) -> bool:
    """Whether ``error`` is another worker of the run gone (its collective step failed)."""
    return isinstance(error, dist.DistError) or (
        isinstance(error, RuntimeError) and any(word in str(error) for word in ("Connection closed", "Connection reset", "gloo"))
    )
