"""The queue's feeder: a process of its own that starts queued runs as slots free up.

``workbench queue feed`` runs :func:`feed`, started detached (like a run) by whoever queues
something. It holds the queue folder's lock for as long as it feeds, so there is one feeder at
a time; a second one exits at once, and one started after a feeder was killed takes over where
it stopped (its claims are recovered: each entry runs once). Every half second, and at once
when a run's process ends, it looks at the files: the queue's live runs (slots in use), the
waiting entries, the sweeps. It starts the first entries while slots are free (``parallel``; by
default one per GPU, one on a machine without), on a GPU of their own when there are several;
stops the worst half of a sweep's points at its halving epochs; tells the sweep's ``--notify``
when a sweep has ended, and the queue's when the queue has run dry. Then it exits: nothing
waits in the background for nothing. It trains nothing itself and imports no torch.
"""

from __future__ import annotations

import json
import sys
import time

from workbench.atomic import atomic_write_bytes
from workbench.errors import WorkbenchError, describe_error
from workbench.formatting import counted
from workbench.outputs.notify import deliver
from workbench.paths import runs_dir
from workbench.runs.folder import RunDir
from workbench.runs.liveness import RunBusyError, RunLock, lock_is_held
from workbench.runs.process_control import send_request
from workbench.runs.resume_rules import starts_over
from workbench.runs.status import INTERRUPTED, LIVE_STATES, RunStatus
from workbench.runs.store import remove_abandoned_creations, runs_with_status
from workbench.scheduling import queue
from workbench.scheduling.launch import gpu_count, workers_of
from workbench.scheduling.plan import carry_out, plan_new_run, plan_resume
from workbench.scheduling.sweep import ENDED, SweepDir, all_sweeps, queue_lost_points, sweep_progress, sweeps_dir
from workbench.scheduling.sweep_table import sweep_table
from workbench.schema.monitor import higher_is_better, split_monitor

POLL_S = 0.5
#: How often the feeder looks whether a training run's process has ended (a lock probe each).
WAKE_S = 0.05
HALVING_FILE = "halving.json"


def free_gpu(gpus: int, in_use: set[str]) -> str:
    """``cuda:N`` of the first GPU no queue run uses, or "" (one GPU or none: the run's own device)."""
    if gpus < 2:
        return ""
    return next((f"cuda:{i}" for i in range(gpus) if f"cuda:{i}" not in in_use), "")


def feed(poll_s: float = POLL_S) -> int:
    """Feed the queue until it is empty and its runs have ended; 0, or 1 if another feeder has it."""
    folder = queue.queue_dir()
    folder.mkdir(parents=True, exist_ok=True)
    lock = RunLock(folder)
    try:
        lock.acquire("queue")
    except RunBusyError:
        print("another feeder is feeding the queue", flush=True)
        return 1
    gpus = gpu_count()
    devices: dict[str, str] = {}  # run id -> the GPU this feeder gave it
    restarts: dict[str, int] = {}  # run id -> times this feeder started it again
    started = 0
    try:
        for entry_id in queue.recover_claims():
            print(f"{entry_id}: back in the queue (its feeder stopped before starting it)", flush=True)
        for root in (runs_dir(), sweeps_dir()):  # what creations killed meanwhile left
            remove_abandoned_creations(root)
        for entry_id in queue_lost_points():
            print(f"{entry_id}: queued (the command that started its sweep stopped before queueing it)", flush=True)
        while True:
            settings = queue.read_settings()
            slots = queue.slot_count(settings, gpus)
            runs = queue.queue_runs()
            if _restart_lost_starts(runs, slots, restarts, gpus):
                runs = queue.queue_runs()  # those started again are live now
            live = [(run, status) for run, status, state in runs if state in LIVE_STATES]
            listing = queue.read_queue()
            _end_sweeps(listing)
            apply_halving(live)
            if not listing.entries and not live:
                break
            in_use = {devices.get(run.id) or status.device for run, status in live}
            for entry in listing.entries[: max(0, slots - len(live))]:
                gpu = free_gpu(gpus, in_use)
                run = _start(entry, gpu, gpus)
                if run is not None:
                    started += 1
                    devices[run.id] = gpu
                    in_use.add(gpu)
            _wait_for_a_slot(live, poll_s)
        if started:
            _end_queue(started)
    finally:
        lock.release()
    return 0


#: How often one feeder starts again a run that died before it trained (a crash at start-up that
#: repeats is left interrupted after this, with its log to read).
RESTARTS = 3


def _restart_lost_starts(runs: list[tuple[RunDir, RunStatus, str]], slots: int, restarts: dict[str, int], gpus: int) -> bool:
    """Start again, from scratch and as the same runs, the queue's runs whose process died before
    they trained an epoch (or was never started: a feeder killed between making a point's folder
    and starting it), while slots are free. They ran out of turn, so they come
    before the waiting entries; a run that failed (it said why) is left as it is. ``runs``: the
    queue's runs as just listed (:func:`queue.queue_runs`); ``gpus``: this machine's; True when
    it started any."""
    free = slots - sum(state in LIVE_STATES for _, _, state in runs)
    again = False
    for run, status, state in runs:
        if free <= 0:
            break
        if state != INTERRUPTED or restarts.get(run.id, 0) >= RESTARTS or not starts_over(run, status):
            continue
        restarts[run.id] = restarts.get(run.id, 0) + 1
        try:
            carry_out(plan_resume(run, gpus=lambda: gpus))
        except WorkbenchError as error:  # taken meanwhile by a resume, or its folder damaged
            print(f"{run.id}: not started again: {describe_error(error)}", flush=True)
            continue
        print(f"{run.id}: started again (its process ended before it trained)", flush=True)
        free -= 1
        again = True
    return again


def _wait_for_a_slot(live: list[tuple[RunDir, RunStatus]], poll_s: float) -> None:
    """Wait ``poll_s``, or less: until one of the training runs lets go of its lock (its process
    has ended), checked every :data:`WAKE_S`, so that the next point starts at once."""
    training = [run for run, _ in live if lock_is_held(run.path)]
    deadline = time.monotonic() + poll_s
    while time.monotonic() < deadline:
        time.sleep(WAKE_S)
        if any(not lock_is_held(run.path) for run in training):
            return


def _start(entry: queue.QueueEntry, gpu: str, gpus: int) -> RunDir | None:
    """Claim the entry and start its run (on ``gpu``, when one is given; ``gpus``: this
    machine's); None when it was cancelled meanwhile, or when it can no longer start (its
    experiment refused now, a dataset file gone, more workers than GPUs): then it is set aside,
    with the reason, in the queue's refused/ folder, and the queue goes on."""
    if not queue.claim(entry):
        return None
    try:
        experiment = entry.experiment()
        workers = workers_of(experiment)
        # A GPU of its own only for a one-worker experiment that would take any GPU (several
        # workers take one GPU each themselves); its --device wins.
        any_gpu = experiment.train.device in ("auto", "cuda") and not workers.distributed
        device = entry.device or (gpu if any_gpu else "")
        plan = plan_new_run(
            experiment, gpus=lambda: gpus, device=device, workers=workers, sweep=entry.sweep, queue_entry=entry.id
        )
        launched = carry_out(plan)
    except WorkbenchError as error:
        reason = describe_error(error)
        queue.refuse_claim(entry.id, reason)
        print(f"{entry.id}: not started, set aside in {queue.queue_dir() / queue.REFUSED}: {reason}", flush=True)
        return None
    queue.release_claim(entry.id)
    print(f"{entry.id}: started run {launched.id}", flush=True)
    return launched.run


# ----------------------------------------------------------------------------- sweeps


def _end_sweeps(listing: queue.QueueListing) -> None:
    """Stamp every sweep whose points have all ended, and tell its ``--notify``."""
    runs = None
    for sweep in all_sweeps():
        meta = sweep.read_meta()
        if not meta or meta.get("ended_ts") is not None:
            continue
        if runs is None:
            runs = runs_with_status()
        progress = sweep_progress(sweep, listing, runs)
        if progress.state != ENDED:
            continue
        text = sweep_end_text(sweep)
        sweep.mark_ended(text)
        print(text, flush=True)
        if meta.get("notify"):
            deliver(str(meta["notify"]), {"sweep": sweep.id, "folder": str(sweep.path), "state": "ended", "text": text})


def sweep_end_text(sweep: SweepDir) -> str:
    """``sweep X ended: 4 points: 4 ended; best val_loss 0.0812: optimizer.lr=0.01 (run ...)``."""
    table = sweep_table(sweep)
    text = f"sweep {sweep.id} ended: {table.progress.text()}"
    if table.best_index is not None:
        cells = dict(zip(table.header(), table.rows()[table.order.index(table.best_index)], strict=True))
        values = " ".join(f"{axis}={cells[axis]}" for axis in table.axes)
        text += f"; best {table.best_text()}: {values} (run {cells['run']})"
    return text


def _end_queue(started: int) -> None:
    text = f"the queue has run dry: the {counted(started, 'run')} it started have ended"
    print(text, flush=True)
    atomic_write_bytes(queue.queue_dir() / queue.ENDED_FILE, json.dumps({"ended_ts": time.time(), "text": text}).encode())
    target = queue.read_settings().notify
    if target:
        deliver(target, {"queue": str(queue.queue_dir()), "state": "ended", "text": text})


# ----------------------------------------------------------------------------- successive halving


def apply_halving(live: list[tuple[RunDir, RunStatus]]) -> None:
    """At each halving epoch of its sweep, stop a live point that is in the worst half of the
    sweep's points that reached that epoch (by the monitored metric at that epoch). Points are
    judged as they arrive (asynchronous halving): the first to arrive always goes on."""
    for run, status in live:
        if not status.sweep:
            continue
        sweep = SweepDir(sweeps_dir() / status.sweep)
        rungs = [r for r in sweep.read_meta().get("halving", []) if isinstance(r, int) and r <= status.epochs_done]
        if not rungs:
            continue
        decided = _read_decisions(sweep)
        new = [rung for rung in rungs if rung not in decided.get(run.id, [])]
        if not new:
            continue  # decided already: nothing to write (the feeder polls twice a second)
        for rung in new:
            decided.setdefault(run.id, []).append(rung)
            if _in_worst_half(run, status, rung, sweep):
                try:
                    send_request(run, "stop")
                    print(f"{run.id}: stopped at epoch {rung} (worst half of sweep {status.sweep})", flush=True)
                except WorkbenchError as error:
                    print(f"{run.id}: {error}", file=sys.stderr, flush=True)
                break
        atomic_write_bytes(sweep.path / HALVING_FILE, json.dumps(decided).encode("utf-8"))


def _read_decisions(sweep: SweepDir) -> dict[str, list[int]]:
    try:
        data = json.loads((sweep.path / HALVING_FILE).read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _in_worst_half(run: RunDir, status: RunStatus, rung: int, sweep: SweepDir) -> bool:
    monitor = status.monitor
    values = {}
    for other, other_status in runs_with_status():
        if other_status.sweep == sweep.id:
            value = metric_at(other, monitor, rung)
            if value is not None:
                values[other.id] = value
    if run.id not in values or len(values) < 2:
        return False
    ranked = sorted(values, key=values.__getitem__, reverse=higher_is_better(monitor))
    keep = (len(ranked) + 1) // 2
    return ranked.index(run.id) >= keep


def metric_at(run: RunDir, monitor: str, epoch: int) -> float | None:
    """The monitored metric at the end of ``epoch``, from the run's metrics.jsonl."""
    split, metric = split_monitor(monitor)
    for record in run.read_events():
        if record.get("event") == "EpochEnded" and record.get("epoch") == epoch:
            value = (record.get(split) or {}).get(metric)
            return float(value) if isinstance(value, int | float) else None
    return None
