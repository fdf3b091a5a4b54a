"""The queue's feeder: a process of its own that starts queued runs as slots free up.

``workbench queue feed`` runs :func:`feed`, started detached (like a run) by whoever queues
something. It holds the queue folder's lock for as long as it feeds, so there is one feeder at
a time; a second one exits at once, and one started after a feeder was killed takes over where
it stopped (its claims are recovered: each entry runs once). Every half second, and at once
when a run's process ends, it looks at the files: the queue's live runs (slots in use), the
waiting entries, the sweeps. It starts the first entries while slots are free (``parallel``; by
default one per GPU, one on a machine without), on a GPU of their own when there are several;
a sweep's entry takes its point from the sweep's Optuna study when it starts (ask), each
point's epoch metrics go to its trial and its pruner may stop it (report), and the study is
told how each point's run ended (tell: :mod:`workbench.scheduling.sweep_study`); it tells the
sweep's ``--notify`` when a sweep has ended, and the queue's when the queue has run dry. Then it
exits: nothing waits in the background for nothing. It trains nothing itself and imports no
torch.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from workbench.atomic import atomic_write_bytes
from workbench.errors import WorkbenchError, describe_error
from workbench.experiment.sweep_points import checked_base, point_config
from workbench.formatting import counted
from workbench.outputs.notify import deliver
from workbench.paths import runs_dir
from workbench.runs.folder import RunDir
from workbench.runs.liveness import RunBusyError, RunLock, lock_is_held
from workbench.runs.process_control import send_request
from workbench.runs.resume_rules import starts_over
from workbench.runs.status import INTERRUPTED, LIVE_STATES, PRUNE_MARK, RunStatus
from workbench.runs.store import remove_abandoned_creations, runs_with_status
from workbench.scheduling import queue
from workbench.scheduling.launch import gpu_count, workers_of
from workbench.scheduling.plan import carry_out, plan_new_run, plan_resume
from workbench.scheduling.sweep import ENDED, SweepDir, all_sweeps, queue_lost_points, sweep_progress, sweeps_dir
from workbench.scheduling.sweep_study import STUDY_FILE, Studies, storage_errors
from workbench.scheduling.sweep_table import sweep_table
from workbench.schema.config import RunConfig
from workbench.schema.sweep import SweepSpec

T = TypeVar("T")
P = ParamSpec("P")

POLL_S = 0.5
#: How often the feeder looks whether a training run's process has ended (a lock probe each).
WAKE_S = 0.05


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
    studies = SweepStudies()
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
            studies.tell_ended(runs, restarts)
            listing = queue.read_queue()
            _end_sweeps(listing)
            studies.prune(live)
            if not listing.entries and not live:
                break
            in_use = {devices.get(run.id) or status.device for run, status in live}
            for entry in listing.entries[: max(0, slots - len(live))]:
                gpu = free_gpu(gpus, in_use)
                run = _start(entry, gpu, gpus, studies)
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


def _start(entry: queue.QueueEntry, gpu: str, gpus: int, studies: SweepStudies) -> RunDir | None:
    """Claim the entry and start its run (on ``gpu``, when one is given; ``gpus``: this
    machine's); None when it was cancelled meanwhile, when its sweep's study has no point left
    for it (its points all taken, here or on other machines), or when it can no longer start
    (its experiment refused now, a dataset file gone, more workers than GPUs): then it is set
    aside, with the reason, in the queue's refused/ folder, and the queue goes on."""
    if not queue.claim(entry):
        return None
    try:
        experiment = entry.experiment()
        if entry.sweep:
            try:
                point = studies.point_of(entry, experiment)
            except StudyUnreachableError:
                queue.unclaim(entry.id)
                return None
            if point is None:
                queue.release_claim(entry.id)
                return None
            experiment = point
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
        studies.give_back(entry)
        queue.refuse_claim(entry.id, reason)
        print(f"{entry.id}: not started, set aside in {queue.queue_dir() / queue.REFUSED}: {reason}", flush=True)
        return None
    queue.release_claim(entry.id)
    print(f"{entry.id}: started run {launched.id}", flush=True)
    studies.note_run(entry, launched.id)
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


# ----------------------------------------------------------------------------- the sweeps' studies


class StudyUnreachableError(Exception):
    """A sweep's study did not answer: its entry goes back in line."""


class SweepStudies:
    """The feeder's side of its sweeps' studies: the point an entry takes, the epochs reported
    and the pruner obeyed while a point trains, how it ended told once it has. A sweep whose
    study cannot be reached (a database gone) is named once a minute and skipped meanwhile: its
    entries wait, its runs go on, and nothing is told until it answers."""

    def __init__(self) -> None:
        self.studies = Studies()
        self.told: set[str] = set()  # run ids whose end was told (or found told)
        self.specs: dict[str, tuple[SweepDir, RunConfig, SweepSpec] | None] = {}
        self.said: dict[str, float] = {}  # sweep id -> when its problem was last printed

    def _sweep(self, sweep_id: str) -> tuple[SweepDir, RunConfig, SweepSpec] | None:
        if sweep_id not in self.specs:
            sweep = SweepDir(sweeps_dir() / sweep_id)
            try:
                base, spec = sweep.read_spec()
            except WorkbenchError as error:
                self._say(sweep_id, f"sweep {sweep_id}: {describe_error(error)}")
                return None
            # A sweep made before sweeps had studies: its entries are its points, nothing to ask or tell.
            studied = sweep.storage or (sweep.path / STUDY_FILE).exists()
            self.specs[sweep_id] = None if spec is None or not studied else (sweep, base, spec)
        return self.specs[sweep_id]

    def _say(self, sweep_id: str, text: str) -> None:
        if time.monotonic() - self.said.get(sweep_id, -3600.0) >= 60.0:
            self.said[sweep_id] = time.monotonic()
            print(text, file=sys.stderr, flush=True)

    def _tell(
        self,
        sweep: SweepDir,
        spec: SweepSpec,
        call: Callable[Concatenate[Path, SweepSpec, str, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T | None:
        """What ``call`` (one of :attr:`studies`' calls) returns on the sweep's study, or None when
        the study cannot be reached: the feeder names it (once a minute) and goes on, and the
        caller tries again on a later look."""
        try:
            return call(sweep.path, spec, sweep.storage, *args, **kwargs)
        except storage_errors() as error:
            self._say(sweep.id, f"sweep {sweep.id}: its study cannot be told: {describe_error(error)}")
            return None

    def point_of(self, entry: queue.QueueEntry, experiment: RunConfig) -> RunConfig | None:
        """The experiment of the point the study gives the entry, validated; None when it has none
        left (or its study cannot be reached: the entry waits). A point refused raises."""
        found = self._sweep(entry.sweep)
        if found is None:
            return experiment  # a sweep folder of an older version: its entries are its points
        sweep, _, spec = found
        integer = checked_base(experiment, spec)[1]
        try:
            asked = self.studies.ask(sweep.path, spec, sweep.storage, entry.id, entry.point, integer)
        except storage_errors() as error:  # a database out of reach, a damaged journal
            self._say(sweep.id, f"sweep {sweep.id}: its study cannot be asked, its points wait: {describe_error(error)}")
            raise StudyUnreachableError(sweep.id) from None
        if asked is None:
            print(f"{entry.id}: not started: sweep {sweep.id} has no point left for it (all taken)", flush=True)
            return None
        return point_config(experiment, asked.trial + 1, asked.values).config

    def give_back(self, entry: queue.QueueEntry) -> None:
        """The entry could not start: its trial is told failed (when the study answers)."""
        found = self._sweep(entry.sweep) if entry.sweep else None
        if found is not None:
            sweep, _, spec = found
            self._tell(sweep, spec, self.studies.give_back, entry.id)

    def note_run(self, entry: queue.QueueEntry, run_id: str) -> None:
        """Name the entry's run on its trial (told again at its end, if the study is away now)."""
        found = self._sweep(entry.sweep) if entry.sweep else None
        if found is not None:
            sweep, _, spec = found
            self._tell(sweep, spec, self.studies.note_run, entry.id, run_id)

    def prune(self, live: list[tuple[RunDir, RunStatus]]) -> None:
        """Report each live point's new epochs to its trial; stop those its pruner prunes (they
        keep a checkpoint and end ``pruned``)."""
        for run, status in live:
            found = self._sweep(status.sweep) if status.sweep and status.queue_entry else None
            if found is None or (run.path / PRUNE_MARK).exists():
                continue
            if status.epochs and status.epochs_done >= status.epochs:
                continue  # its last epoch: it is ending anyway, told when it has
            sweep, _, spec = found
            if not self._tell(sweep, spec, self.studies.report, run, status):
                continue  # not pruned, or its study away (then reported again once it answers)
            atomic_write_bytes(run.path / PRUNE_MARK, json.dumps({"epoch": status.epochs_done, "ts": time.time()}).encode())
            try:
                send_request(run, "stop")
            except WorkbenchError:  # it ended meanwhile: told as it ended
                (run.path / PRUNE_MARK).unlink(missing_ok=True)
                continue
            print(
                f"{run.id}: pruned at epoch {status.epochs_done} (sweep {status.sweep}'s {spec.pruner_name} pruner)", flush=True
            )

    def tell_ended(self, runs: list[tuple[RunDir, RunStatus, str]], restarts: dict[str, int]) -> None:
        """Tell each sweep point's trial how its run ended, once. A run that died before it
        trained waits while this feeder may start it again."""
        for run, status, state in runs:
            if run.id in self.told or not status.sweep or state in LIVE_STATES:
                continue
            if state == INTERRUPTED and starts_over(run, status) and restarts.get(run.id, 0) < RESTARTS:
                continue
            found = self._sweep(status.sweep)
            if found is None:
                self.told.add(run.id)
                continue
            sweep, _, spec = found
            told = self._tell(sweep, spec, self.studies.tell, status, state)
            if told is None:
                continue  # its study away: told once it answers
            self.told.add(run.id)
            if told:
                print(f"{run.id}: told sweep {sweep.id}'s study: {told}", flush=True)
