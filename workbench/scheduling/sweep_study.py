"""A sweep's Optuna study: where its points come from, and what it learns from their runs.

Every sweep keeps one study, named after the sweep. By default it is Optuna's journal file in
the sweep's folder (``<sweep>/study.log``: no server); with ``--storage URL`` (PostgreSQL,
MySQL, SQLite) it lives in that database, where queues on several machines feed it at once
(``workbench sweep work``). The queue's feeder, the only process of a home that writes to it:

- **asks** the study for a point when a slot frees and it claims one of the sweep's entries
  (:meth:`Studies.ask`). The grid's and the random points are planned before any starts and
  put in the study as waiting trials, point *n* as trial *n - 1*; the entry of point *n* takes
  that trial, so cancelling or moving an entry acts on its point. A learning sampler (TPE,
  CMA-ES, GP) draws each point when asked. The trial's number is written in the sweep's
  ``trials.json`` before the run is made, so a feeder killed and started again asks nothing
  twice: the entry takes its recorded trial again.
- **reports** each epoch's monitored metric of a point's run to its trial, and stops the run
  (with a checkpoint) when the pruner says so (:meth:`Studies.report`).
- **tells** the study how the run ended (:meth:`Studies.tell`): its best monitored value,
  pruned, or failed (failed, interrupted, stopped by hand). A trial is told once: one already
  told is left alone, so a feeder started again tells only what was not told.

Each trial carries the host and home that ran it (``workbench sweep show`` lists them). Optuna
is imported here alone, when a sweep is planned or fed: listing runs or opening the app does
not load it. Torch-free (the GP sampler loads torch inside the feeder, when chosen).
"""

from __future__ import annotations

import json
import logging
import math
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.atomic import atomic_write_bytes
from workbench.errors import WorkbenchError
from workbench.paths import data_dir, runs_dir
from workbench.runs.folder import RunDir
from workbench.runs.status import FINISHED, PRUNED, RunStatus
from workbench.schema.monitor import higher_is_better, split_monitor
from workbench.schema.sweep import SweepSpec

if TYPE_CHECKING:
    import optuna

#: The journal file of a sweep whose study is kept with it.
STUDY_FILE = "study.log"
#: entry id -> trial number, written by the feeder before it makes the entry's run ("asking"
#: while it asks the study for a new trial).
TRIALS_FILE = "trials.json"
ASKING = "asking"
#: A trial asked for but never named (its feeder killed at once) is taken as orphaned after this
#: long in a shared database, where another machine's feeder may be naming its own just then.
ORPHAN_AFTER_S = 60.0
#: The study's user attribute holding the sweep's file (sweep.toml): what another machine's
#: ``workbench sweep work`` rebuilds the sweep from.
SWEEP_FILE_ATTR = "workbench_sweep_toml"
BUDGET_ATTR = "workbench_points"


class StudyError(WorkbenchError):
    """A study that cannot be opened or created (a database out of reach, a name not there)."""


def storage_of(folder: Path, url: str) -> optuna.storages.BaseStorage:
    """The study's storage: the database at ``url``, else the journal file in ``folder``."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if url:
        try:
            return optuna.storages.RDBStorage(url)
        except storage_errors() as error:
            raise StudyError(f"--storage {redacted(url)}: cannot open it: {first_line(error)}") from None
    return optuna.storages.JournalStorage(JournalFileBackend(str(folder / STUDY_FILE)))


def storage_errors() -> tuple[type[BaseException], ...]:
    """What a study's storage raises when it cannot answer: a database out of reach or refusing
    (SQLAlchemy's errors, the driver's inside them), a journal file unreadable, Optuna's own, a
    study missing from it (:class:`StudyError`)."""
    import optuna
    import sqlalchemy.exc

    return (OSError, ValueError, KeyError, StudyError, optuna.exceptions.OptunaError, sqlalchemy.exc.SQLAlchemyError)


def redacted(url: str) -> str:
    """The URL without its password, to print."""
    scheme, sep, rest = url.partition("://")
    credentials, at, place = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.partition(':')[0]}:***@{place}"


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def sampler_for(spec: SweepSpec) -> optuna.samplers.BaseSampler:
    """The spec's sampler. The grid's and random points are planned (waiting trials), so their
    sampler is never consulted for them; random stands in."""
    import optuna

    name = spec.sampler_name
    if name == "tpe":
        return optuna.samplers.TPESampler(
            seed=spec.seed, n_startup_trials=start_up_points(spec), multivariate=True, constant_liar=True
        )
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=spec.seed, warn_independent_sampling=False)
    if name == "gp":
        quiet_gp_fallback()
        return optuna.samplers.GPSampler(seed=spec.seed, n_startup_trials=start_up_points(spec), warn_independent_sampling=False)
    return optuna.samplers.RandomSampler(seed=spec.seed)


def start_up_points(spec: SweepSpec) -> int:
    """How many points a learning sampler (TPE, GP) draws at random before it learns from those
    that ended: a tenth of the sweep's points, 2 to 10. Optuna's default, 10, suits a study of
    many trials: a sweep of 8 points was random search under another name, and one of 36 spent
    over a quarter of its points before learning anything (benchmarks/sweep_search: with
    pruning, 4 start-up points needed fewer epochs to the grid's best than 10; README)."""
    return min(10, max(2, round(spec.samples / 10)))


def quiet_gp_fallback() -> None:
    """Keep Optuna's GP sampler from warning, in the feeder's log or ``sweep work``'s terminal,
    that the optional ``greenlet`` package is missing. Without it the sampler optimises its
    acquisition function from one start point after another instead of all at once: the same
    search, about 0.1-0.2 s a suggestion (three axes, 30 trials) where a point trains for
    seconds to hours. Nothing a user can act on; the module logs it once, when first imported."""
    logging.getLogger("optuna._gp.batched_lbfgsb").setLevel(logging.ERROR)


def pruner_for(spec: SweepSpec) -> optuna.pruners.BasePruner:
    """The spec's pruner; epochs are the pruners' steps. Halving stops the worst half at the
    first halving epoch, then at twice it, and so on (Optuna's asynchronous successive halving).
    Median judges a point from its 2nd epoch on: after one epoch the learning rates that end
    best can still be the worst (on benchmarks/sweep_search, near 1.1 where poorer points were
    at 0.3-0.6), and judging there took TPE with it a median of 360 epochs to the grid's best
    over 10 seeds (4 within 1%), from the 2nd 206 (6 within 1%)."""
    import optuna

    name = spec.pruner_name
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=spec.halving[0] if spec.halving else 1, reduction_factor=2)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, reduction_factor=3)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2)
    return optuna.pruners.NopPruner()


def budget(spec: SweepSpec) -> int:
    """How many points the sweep runs (every trial beyond is refused)."""
    return math.prod(len(axis.values) for axis in spec.axes) if spec.is_grid else spec.samples


def create_study(
    folder: Path, name: str, spec: SweepSpec, monitor: str, url: str, planned: list[dict[str, Any]], sweep_file: str
) -> None:
    """Create the sweep's study (once: one that exists is left as it is) with the planned points
    as waiting trials, point n as trial n - 1, and the sweep's file for other machines."""
    import optuna

    storage = storage_of(folder, url)
    direction = optuna.study.StudyDirection.MAXIMIZE if higher_is_better(monitor) else optuna.study.StudyDirection.MINIMIZE
    try:
        study = optuna.create_study(storage=storage, study_name=name, direction=direction, load_if_exists=True)
    except storage_errors() as error:
        raise StudyError(f"study {name}: cannot create it in {redacted(url) or folder}: {first_line(error)}") from None
    if study.user_attrs.get(SWEEP_FILE_ATTR):
        return
    for number, values in enumerate(planned):
        study.enqueue_trial(values, user_attrs={"point": number + 1})
    study.set_user_attr(BUDGET_ATTR, budget(spec))
    study.set_user_attr(SWEEP_FILE_ATTR, sweep_file)  # last: a study with it is whole


def load_sweep_file(name: str, url: str) -> str:
    """The sweep's file as the study ``name`` at ``url`` keeps it (``workbench sweep work``)."""
    import optuna

    storage = storage_of(Path("."), url)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise StudyError(f"no study named {name} in {redacted(url)}; its sweep's id is its name") from None
    text = study.user_attrs.get(SWEEP_FILE_ATTR)
    if not isinstance(text, str):
        raise StudyError(f"study {name} in {redacted(url)} is not a workbench sweep (or is still being created)")
    return text


@dataclass(frozen=True)
class Asked:
    """A point the study gave for an entry: its trial number and the axes' values."""

    trial: int
    values: dict[str, float | int]


@dataclass(frozen=True)
class TrialRow:
    """One trial of the study, as ``workbench sweep show`` lists it."""

    number: int
    state: str  # complete, pruned, fail, running, waiting
    value: float | None
    values: dict[str, Any]
    host: str
    home: str
    run: str
    steps: int  # epochs reported


class Studies:
    """The studies of the sweeps a feeder feeds, opened once each (the journal is read anew only
    past what was read). ``sweeps``: the sweeps folder of this home."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[optuna.Study, optuna.storages.BaseStorage, int, SweepSpec]] = {}
        self._reported: dict[str, int] = {}  # run id -> last epoch reported

    def study(self, folder: Path, spec: SweepSpec, url: str) -> tuple[optuna.Study, optuna.storages.BaseStorage, int]:
        import optuna

        key = str(folder)
        if key not in self._open:
            storage = storage_of(folder, url)
            try:
                study = optuna.load_study(
                    study_name=folder.name, storage=storage, sampler=sampler_for(spec), pruner=pruner_for(spec)
                )
            except KeyError:
                raise StudyError(f"sweep {folder.name}: its study is missing from {redacted(url) or folder}") from None
            self._open[key] = (study, storage, storage.get_study_id_from_name(folder.name), spec)
        study, storage, study_id, _ = self._open[key]
        return study, storage, study_id

    # ------------------------------------------------------------------------- ask

    def ask(self, folder: Path, spec: SweepSpec, url: str, entry_id: str, point: int, integer: dict[str, bool]) -> Asked | None:
        """The point for a claimed entry (``point``: its planned point, 0 for any); None when the
        study has no point left for it (all asked, here or on other machines). The trial's
        number is recorded for the entry before this returns."""
        import optuna
        from optuna.trial import TrialState

        study, storage, study_id = self.study(folder, spec, url)
        recorded = read_trials(folder).get(entry_id)
        trial: optuna.Trial | None = None
        if recorded == ASKING:  # a feeder was killed while it asked: the trial it got, if any, is this entry's
            recorded = _orphan(study, url)
        if isinstance(recorded, int):  # asked before this feeder (or its predecessor) was stopped
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, recorded)
            frozen = storage.get_trial(trial_id)
            if frozen.state == TrialState.WAITING:  # a planned point, not taken yet
                trial = self._take_waiting(study, storage, study_id, recorded)
            elif frozen.state == TrialState.RUNNING and _is_ours(frozen, entry_id, url):
                trial = optuna.Trial(study, trial_id)
            if trial is None:
                return None  # told already (its run ended), or taken by another machine's queue
        elif point and spec.planned:
            write_trial(folder, entry_id, point - 1)  # before taking it: a feeder killed then takes it again
            trial = self._take_waiting(study, storage, study_id, point - 1)
            if trial is None:
                return None  # taken by another machine's queue
        else:
            total = budget(spec)
            trials = study.get_trials(deepcopy=False)
            if len(trials) >= total and not any(t.state == TrialState.WAITING for t in trials):
                return None
            write_trial(folder, entry_id, ASKING)
            trial = study.ask()
            if trial.number >= total:  # another machine asked meanwhile: over the sweep's points
                trial.set_user_attr("over_budget", True)
                study.tell(trial, state=TrialState.FAIL)
                return None
        values = {axis.setting: suggest(trial, axis, integer[axis.setting]) for axis in spec.axes}
        trial.set_user_attr("entry", entry_id)
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("home", str(data_dir()))
        write_trial(folder, entry_id, trial.number)
        return Asked(trial.number, values)

    @staticmethod
    def _take_waiting(
        study: optuna.Study, storage: optuna.storages.BaseStorage, study_id: int, number: int
    ) -> optuna.Trial | None:
        import optuna
        from optuna.trial import TrialState

        try:
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
        except KeyError:
            return None
        if storage.get_trial(trial_id).state != TrialState.WAITING:
            return None
        if not storage.set_trial_state_values(trial_id, TrialState.RUNNING):  # atomic: one taker
            return None
        return optuna.Trial(study, trial_id)

    def give_back(self, folder: Path, spec: SweepSpec, url: str, entry_id: str) -> None:
        """The entry's run could not be made (its experiment refused): its trial is told failed."""
        from optuna.trial import TrialState

        number = read_trials(folder).get(entry_id)
        if isinstance(number, int):
            study, storage, study_id = self.study(folder, spec, url)
            if storage.get_trial(storage.get_trial_id_from_study_id_trial_number(study_id, number)).state == TrialState.RUNNING:
                study.tell(number, state=TrialState.FAIL)

    def note_run(self, folder: Path, spec: SweepSpec, url: str, entry_id: str, run_id: str) -> None:
        """Name the entry's run on its trial (the host's run, as sweep show lists it)."""
        number = read_trials(folder).get(entry_id)
        if isinstance(number, int):
            study, storage, study_id = self.study(folder, spec, url)
            storage.set_trial_user_attr(storage.get_trial_id_from_study_id_trial_number(study_id, number), "run", run_id)

    # ------------------------------------------------------------------------- report and prune

    def report(self, folder: Path, spec: SweepSpec, url: str, run: RunDir, status: RunStatus) -> bool:
        """Report the run's new epochs to its trial; True when the pruner says to stop it."""
        import optuna

        if self._reported.get(run.id, 0) >= status.epochs_done:
            return False  # nothing new: the feeder looks twice a second
        number = read_trials(folder).get(status.queue_entry)
        if not isinstance(number, int):
            return False
        study, storage, study_id = self.study(folder, spec, url)
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
        frozen = storage.get_trial(trial_id)
        if frozen.state.is_finished():
            return False
        trial = optuna.Trial(study, trial_id)
        for epoch, value in epoch_values(run, status.monitor).items():
            if epoch not in frozen.intermediate_values:
                trial.report(value, epoch)
        self._reported[run.id] = status.epochs_done
        return spec.pruner_name != "" and trial.should_prune()

    # ------------------------------------------------------------------------- tell

    def tell(self, folder: Path, spec: SweepSpec, url: str, status: RunStatus, state: str) -> str:
        """Tell the trial of an ended run how it ended (once); returns what was told, or ""."""
        import optuna
        from optuna.trial import TrialState

        number = read_trials(folder).get(status.queue_entry)
        if not isinstance(number, int):
            return ""
        study, storage, study_id = self.study(folder, spec, url)
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
        frozen = storage.get_trial(trial_id)
        if frozen.state != TrialState.RUNNING:
            return ""
        storage.set_trial_user_attr(trial_id, "run", status.id)  # named at launch too, unless killed just then
        run = RunDir(runs_dir() / status.id)
        trial = optuna.Trial(study, trial_id)
        for epoch, reached in epoch_values(run, status.monitor).items():  # those it ended before the feeder saw
            if epoch not in frozen.intermediate_values:
                trial.report(reached, epoch)
        if spec.pruner_name and state == FINISHED:
            trial.should_prune()  # records the rungs it reached, which later points are judged against
        value = status.best_value
        if state == PRUNED:
            study.tell(number, state=TrialState.PRUNED)
            return "pruned"
        if state == FINISHED and value is not None and math.isfinite(value):
            study.tell(number, value)
            return "complete"
        study.tell(number, state=TrialState.FAIL)
        return "failed"


def _is_ours(trial: optuna.trial.FrozenTrial, entry_id: str, url: str) -> bool:
    """Whether a running trial recorded for the entry is this home's: named on the entry here,
    or named on none (its feeder killed before it named it; see :func:`_orphan`)."""
    import datetime

    if "entry" in trial.user_attrs:
        return trial.user_attrs["entry"] == entry_id and trial.user_attrs.get("home") == str(data_dir())
    started = trial.datetime_start or datetime.datetime.now()
    return not url or (datetime.datetime.now() - started).total_seconds() > ORPHAN_AFTER_S


def _orphan(study: optuna.Study, url: str) -> int | None:
    """The number of a running trial no entry was named on (asked by a feeder killed before it
    named it), or None: any such trial of a study kept in the sweep's folder (this home's feeder
    alone asks it), one older than :data:`ORPHAN_AFTER_S` in a shared database."""
    import datetime

    from optuna.trial import TrialState

    now = datetime.datetime.now()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        started = trial.datetime_start or now
        if "entry" not in trial.user_attrs and (not url or (now - started).total_seconds() > ORPHAN_AFTER_S):
            return trial.number
    return None


def suggest(trial: optuna.Trial, axis: Any, integer: bool) -> float | int:
    """The trial's value for an axis (a planned point's value comes back as planned)."""
    if axis.kind == "values":
        return trial.suggest_categorical(axis.setting, list(axis.values))
    log = axis.kind == "log-uniform"
    if integer:
        return trial.suggest_int(axis.setting, math.ceil(axis.low), math.floor(axis.high), log=log)
    return trial.suggest_float(axis.setting, axis.low, axis.high, log=log)


def epoch_values(run: RunDir, monitor: str) -> dict[int, float]:
    """What the run's trial is told at each epoch's end (:func:`best_so_far`), from the run's
    metrics.jsonl."""
    split, metric = split_monitor(monitor)
    values: dict[int, float] = {}
    for record in run.read_events():
        if record.get("event") == "EpochEnded" and isinstance(record.get("epoch"), int):
            value = (record.get(split) or {}).get(metric)
            if isinstance(value, int | float) and math.isfinite(value):
                values[record["epoch"]] = float(value)
    return best_so_far(values, monitor)


def best_so_far(values: dict[int, float], monitor: str) -> dict[int, float]:
    """The best monitored value up to each epoch (``values``: the metric at each epoch's end).

    A point's value is its best epoch's (the checkpoint its run keeps, what it is told when it
    ends), so this is what the point is worth after each epoch: a pruner compares points on the
    same measure that they are finally judged on, and a pruned point's last value, which TPE
    ranks it by, is its run's best. With the raw metric of each epoch, a noisy validation metric
    (a few hundred samples) made a point that had been best at its 4th epoch look poor at its
    8th, and pruned it, while the one that had never been good went on."""
    better = max if higher_is_better(monitor) else min
    best: dict[int, float] = {}
    running: float | None = None
    for epoch in sorted(values):
        running = values[epoch] if running is None else better(values[epoch], running)
        best[epoch] = running
    return best


def read_trials(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / TRIALS_FILE).read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_trial(folder: Path, entry_id: str, number: int | str) -> None:
    atomic_write_bytes(folder / TRIALS_FILE, json.dumps(read_trials(folder) | {entry_id: number}, indent=1).encode("utf-8"))


def trial_rows(folder: Path, spec: SweepSpec, url: str) -> list[TrialRow]:
    """Every trial of the sweep's study, from whichever machine ran it, in trial order (the
    planned points not yet taken as waiting)."""
    import optuna

    storage = storage_of(folder, url)
    try:
        study = optuna.load_study(study_name=folder.name, storage=storage)
    except KeyError:
        return []
    rows = []
    for trial in study.get_trials(deepcopy=False):  # numbered from 0: point n is trial n - 1
        if trial.user_attrs.get("over_budget"):
            continue
        rows.append(
            TrialRow(
                number=trial.number,
                state=trial.state.name.lower(),
                value=trial.value if trial.state.name == "COMPLETE" else None,
                values=dict(trial.params),
                host=str(trial.user_attrs.get("host", "")),
                home=str(trial.user_attrs.get("home", "")),
                run=str(trial.user_attrs.get("run", "")),
                steps=len(trial.intermediate_values),
            )
        )
    return rows
