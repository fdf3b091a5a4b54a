"""One way to launch a run: a plan, checked once, carried out the same way by every face.

``workbench train`` and ``resume``, the app's ``s``, ``Q`` and ``r``, and the queue's feeder all
start a run from a :class:`LaunchPlan`: :func:`plan_new_run` or :func:`plan_resume` check and
normalise everything once (the workers and their GPUs, the global batch, a backbone's weights
file, a run that can be resumed) and write into the experiment what its config.toml must say
(the device, the workers). :func:`carry_out` then starts the run in a process of its own, or
puts it in the queue, and says which. A plan trained in the foreground is the CLI's to drive
(the Trainer in its own process, or torchrun on its terminal), from the plan's arguments
(:func:`process_args`, :func:`ready_run`): the engine is not imported here, nor torch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from workbench.data.sharding import check_global_batch
from workbench.errors import ConfigError
from workbench.experiment.validation import check_weights_contents, validate
from workbench.runs.folder import RunDir
from workbench.runs.liveness import HandedLock
from workbench.runs.resume_rules import check_new_total, check_resumable
from workbench.runs.status import STARTING
from workbench.runs.store import create_run
from workbench.scheduling import queue
from workbench.scheduling.launch import ONE_WORKER, Workers, gpu_count, spawn_detached, workers_of
from workbench.schema.config import RunConfig
from workbench.usercode.copies import refuse_untrusted_code

#: How a plan trains: a process of its own (the app, ``--detach``, the feeder), this terminal
#: (``workbench train`` as typed), or the queue (``--queue``, the app's ``Q``).
How = Literal["detached", "foreground", "queued"]
DETACHED: How = "detached"
FOREGROUND: How = "foreground"
QUEUED: How = "queued"


@dataclass(frozen=True)
class LaunchPlan:
    """A launch, checked: what trains (a new run's experiment, or the run to continue), where
    (``device``, ``workers``) and how; made by :func:`plan_new_run` or :func:`plan_resume`.

    ``config``: a new run's experiment as its config.toml will say it (its own copy), or the
    resumed run's config.toml. ``device``: the ``--device`` of the training process (None: the
    experiment's). ``tensorboard``: also write event files, to that folder ("": the run's own
    ``tb/``). ``notify``: a command or URL told when the run ends (a queued run: when the queue
    has run dry, the queue's ``--notify``). ``sweep``, ``queue_entry``: the sweep the run is a
    point of and the queue entry it starts from (the feeder's). ``trust_code``: a resume runs the
    run's copy of the user's code even if another user made it or it changed (``--trust-code``)."""

    how: How
    config: RunConfig
    run: RunDir | None = None
    epochs: int | None = None
    device: str | None = None
    workers: Workers = ONE_WORKER
    tensorboard: str | None = None
    notify: str | None = None
    sweep: str = ""
    queue_entry: str = ""
    trust_code: bool = False


@dataclass(frozen=True)
class Launched:
    """What :func:`carry_out` did: a run started in a process of its own, or an entry queued."""

    run: RunDir | None = None
    entry: queue.QueueEntry | None = None

    @property
    def id(self) -> str:
        """The run's id, or the queue entry's."""
        if self.run is not None:
            return self.run.id
        return self.entry.id if self.entry is not None else ""

    def next_steps(self) -> str:
        """How to see and control what was launched, in the commands that do it (both faces say it)."""
        if self.entry is not None:
            return f"queued: it starts when a slot is free; see: workbench queue · cancel: workbench queue cancel {self.id}"
        return (
            f"training in the background; watch: workbench attach {self.id} · workbench logs {self.id} --follow · "
            f"stop: workbench stop {self.id}"
        )


def plan_new_run(
    config: RunConfig,
    *,
    how: How = DETACHED,
    gpus: Callable[[], int] = gpu_count,
    device: str | None = None,
    workers: Workers | None = None,
    tensorboard: str | None = None,
    notify: str | None = None,
    sweep: str = "",
    queue_entry: str = "",
) -> LaunchPlan:
    """Check a new run of ``config`` and say how it starts. ``gpus`` counts this machine's CUDA
    devices, asked only when several workers each need one (the CLI counts with torch, the app
    what it detected; by default, without torch). ``device`` is written into the experiment, so
    that its config.toml says where it trains and a resume continues there; ``workers`` (default:
    the experiment's ``train.workers`` on this machine) likewise. ``config`` is left as it was."""
    config = config.copy()
    workers = workers if workers is not None else workers_of(config)
    if device:
        config.train.device = device
    _check_workers(workers, config, how, gpus)
    config.train.workers = workers.per_node  # the run's config.toml says how it was trained
    # A weights file that is not what its name says is refused before the run's folder exists.
    check_weights_contents(config)
    return LaunchPlan(
        how,
        config,
        device=device or None,
        workers=workers,
        tensorboard=tensorboard,
        notify=notify,
        sweep=sweep,
        queue_entry=queue_entry,
    )


def plan_resume(
    run: RunDir,
    *,
    how: Literal["detached", "foreground"] = "detached",
    gpus: Callable[[], int] = gpu_count,
    epochs: int | None = None,
    device: str | None = None,
    workers: Workers | None = None,
    tensorboard: str | None = None,
    notify: str | None = None,
    trust_code: bool = False,
) -> LaunchPlan:
    """Check that ``run`` can continue (``epochs``: a new total) and say how; ``gpus``,
    ``workers`` (default: the run's ``train.workers``) as for :func:`plan_new_run`. A run that
    never trained an epoch starts over. The run's copy of the user's code is checked (unless
    ``trust_code``): a copy another user made, or one changed since, is refused in one line
    before anything starts, from the CLI, the app's r and the queue alike. The workers on a
    machine other than the first join a resume the first machine checked (and marked
    starting): the run is not checked there."""
    config = run.read_config()
    workers = workers if workers is not None else workers_of(config)
    if workers.node_rank == 0:
        if not trust_code:  # its process checks again, but would say a refusal only in the run's log
            refuse_untrusted_code(run.path, config)
        check_resumable(run)
        status = run.read_status()
        check_new_total(run.id, status.epochs_done, status.epochs, status.state, epochs)
    _check_workers(workers, config, how, gpus, device)
    return LaunchPlan(
        how,
        config,
        run=run,
        epochs=epochs,
        device=device or None,
        workers=workers,
        tensorboard=tensorboard,
        notify=notify,
        trust_code=trust_code,
    )


def _check_workers(workers: Workers, config: RunConfig, how: How, gpus: Callable[[], int], device: str | None = None) -> None:
    """Workers that can train ``config`` here: possible numbers, one GPU each, and a global
    batch that divides among them; one line for the first that is wrong."""
    workers.check()
    if how == QUEUED and workers.nodes > 1:
        raise ConfigError(
            f"--nnodes {workers.nodes}: the queue starts runs on this machine; "
            "train a run of several machines with workbench train, without --queue"
        )
    if workers.distributed:
        workers.check_devices(device or config.train.device, gpus())
        check_global_batch(config.data.batch_size, workers.total)


def carry_out(plan: LaunchPlan) -> Launched:
    """Start a detached plan's run in a process of its own (its folder made first, or a resumed
    run marked starting; its lock handed to the process), or put a queued plan's experiment in
    the queue and make sure a feeder starts it. A foreground plan is the CLI's to train."""
    if plan.how == QUEUED:
        entry = queue.enqueue(validate(plan.config), device=plan.device or "")
        if plan.notify is not None:
            queue.write_settings(notify=plan.notify)
        queue.ensure_feeder()
        return Launched(entry=entry)
    if plan.how != DETACHED:
        raise ValueError(f"a {plan.how} launch is trained by the command that planned it, not carried out")
    with HandedLock() as lock:
        # torchrun starts the workers and keeps no descriptor for them: its first worker takes the lock.
        run = ready_run(plan, None if plan.workers.distributed else lock)
        spawn_detached(process_args(plan, run), run.log_path, plan.workers, lock)
    return Launched(run=run)


def ready_run(plan: LaunchPlan, lock: HandedLock | None = None) -> RunDir:
    """The plan's run, ready for its training process: a new run's folder made (its experiment
    validated and normalised), or a resumed run marked starting. ``lock``: taken first, to hand
    to that process (None: the process takes the lock itself, as torchrun's first worker does)."""
    if plan.run is None:
        return create_run(plan.config, sweep=plan.sweep, queue_entry=plan.queue_entry, lock=lock)
    run = plan.run
    if lock is not None:
        lock.take(run.path, run.id)
    run.update_status(state=STARTING, pid=None, launched_ts=time.time(), message="", lock_handed=lock is not None)
    return run


def process_args(plan: LaunchPlan, run: RunDir) -> list[str]:
    """The Workbench command that trains the plan's ``run`` (``workbench train --run-dir`` for a
    new one, ``workbench resume`` otherwise), for a process of its own or torchrun's workers.
    A resume names its workers: the process must not plan others from the run's config.toml."""
    if plan.run is None:
        args = ["train", "--run-dir", str(run.path)]
    else:
        args = ["resume", str(run.path), "--nproc-per-node", str(plan.workers.per_node)]
        if plan.epochs is not None:
            args += ["--epochs", str(plan.epochs)]
        if plan.trust_code:
            args.append("--trust-code")
    if plan.device:
        args += ["--device", plan.device]
    if plan.notify:
        args += ["--notify", plan.notify]
    # --tensorboard [DIR] last on the line: its DIR is optional, so nothing may follow it.
    if plan.tensorboard is not None:
        args += ["--tensorboard", plan.tensorboard] if plan.tensorboard else ["--tensorboard"]
    return args
