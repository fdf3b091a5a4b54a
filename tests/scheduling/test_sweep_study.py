"""A sweep's Optuna study as the queue's feeder asks, reports to and tells it: the point an entry
takes, kept across a feeder's restart; a point its pruner stops, shown pruned. Recorded runs
(the engine's own recorder, no torch) and a stand-in trainer holding a run's lock."""

from __future__ import annotations

import signal

import optuna
import pytest

from tests.processes import hold_lock
from tests.tui.runs import recorded_run
from workbench.cli import main
from workbench.engine.sinks import RunRecorder
from workbench.experiment.presets import load_experiment
from workbench.runs import events as ev
from workbench.runs.listing import STATE_STYLES, list_runs, listing_cells
from workbench.runs.status import PRUNE_MARK
from workbench.scheduling import queue
from workbench.scheduling.feeder import SweepStudies
from workbench.scheduling.sweep import start_sweep
from workbench.scheduling.sweep_study import STUDY_FILE, read_trials, storage_of
from workbench.schema.sweep import SweepSpec, parse_axis

#: Slow: a process holds the queue's lock, standing in for its feeder.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("feeder_stand_in")]


def study_of(sweep_path: object) -> optuna.Study:
    from pathlib import Path

    path = Path(str(sweep_path))
    return optuna.load_study(study_name=path.name, storage=storage_of(path, ""))


def test_a_grid_sweeps_points_wait_in_its_study_and_each_entry_takes_its_own_point() -> None:
    base = load_experiment("spirals-mlp")
    spec = SweepSpec((parse_axis("optimizer.lr=0.01,0.1,0.3"),))
    sweep, points = start_sweep(base, spec)
    assert (sweep.path / STUDY_FILE).is_file()
    study = study_of(sweep.path)
    assert [t.state.name for t in study.trials] == ["WAITING"] * 3
    third = queue.read_queue().entries[2]
    studies = SweepStudies()
    experiment = studies.point_of(third, third.experiment())
    assert experiment is not None and experiment.optimizer.lr == 0.3  # its own point, not the oldest waiting
    assert read_trials(sweep.path) == {third.id: 2}
    assert [t.state.name for t in study_of(sweep.path).trials] == ["WAITING", "WAITING", "RUNNING"]


def test_an_entry_asked_before_a_feeder_was_killed_takes_the_same_trial_again() -> None:
    base = load_experiment("spirals-mlp")
    spec = SweepSpec((parse_axis("optimizer.lr=log-uniform:1e-3:1e-1"),), samples=3, sampler="tpe")
    sweep, points = start_sweep(base, spec)
    assert points == [] and len(queue.read_queue().entries) == 3  # drawn as slots free, not planned
    entry = queue.read_queue().entries[0]
    first = SweepStudies().point_of(entry, entry.experiment())
    again = SweepStudies().point_of(entry, entry.experiment())  # a new feeder: nothing in memory
    assert first is not None and again is not None and first.optimizer.lr == again.optimizer.lr
    assert len(study_of(sweep.path).trials) == 1  # asked once


def test_a_pruned_point_stops_at_its_rung_and_is_shown_pruned(capsys: pytest.CaptureFixture[str]) -> None:
    base = load_experiment("spirals-mlp", ["train.checkpoint.monitor=val_acc"])
    spec = SweepSpec((parse_axis("optimizer.lr=0.01,0.1,0.3"),), halving=(1,))
    sweep, _ = start_sweep(base, spec)
    first, second, _ = queue.read_queue().entries
    studies = SweepStudies()
    for entry in (first, second):
        assert studies.point_of(entry, entry.experiment()) is not None
    good = recorded_run("good", "spirals-mlp", val_acc=(0.9,), sweep=sweep.id, queue_entry=first.id)
    studies.tell_ended([(good, good.read_status(), "finished")], {})
    bad = recorded_run("bad", "spirals-mlp", val_acc=(0.2,), finish=False, sweep=sweep.id, queue_entry=second.id)
    trainer = hold_lock(bad)  # its stand-in trainer: the stop request is a SIGTERM to it
    studies.prune([(bad, bad.read_status())])
    assert trainer.wait(timeout=30) == -signal.SIGTERM
    assert (bad.path / PRUNE_MARK).is_file()
    RunRecorder(bad)(ev.RunFinished(state="stopped", epochs_done=1, best_epoch=1, best_value=0.2, monitor="val_acc"))
    assert bad.read_status().state == "pruned"
    studies.tell_ended([(bad, bad.read_status(), "pruned")], {})
    assert [t.state.name for t in study_of(sweep.path).trials] == ["COMPLETE", "PRUNED", "WAITING"]
    assert main(["runs"]) == 0
    shown = capsys.readouterr().out
    assert any("bad" in line and "pruned" in line for line in shown.splitlines())
    row = listing_cells(next(summary for summary in list_runs() if summary.id == bad.id))
    assert row["state"] == "pruned" and STATE_STYLES.get(row["state"]) == "yellow"  # the app's colour: stopped, resumable


def test_a_points_trial_is_told_its_best_value_so_far_at_each_epoch() -> None:
    base = load_experiment("spirals-mlp", ["train.checkpoint.monitor=val_acc"])
    spec = SweepSpec((parse_axis("optimizer.lr=0.01,0.1"),), halving=(2,))
    sweep, _ = start_sweep(base, spec)
    first, _ = queue.read_queue().entries
    studies = SweepStudies()
    assert studies.point_of(first, first.experiment()) is not None
    dips = recorded_run("dips", "spirals-mlp", val_acc=(0.5, 0.9, 0.6), finish=False, sweep=sweep.id, queue_entry=first.id)
    studies.prune([(dips, dips.read_status())])  # the first point at its rung: it goes on
    assert not (dips.path / PRUNE_MARK).exists()
    # Its 3rd epoch is worth its 2nd's 0.9 (the checkpoint it keeps), not the 0.6 it measured.
    assert study_of(sweep.path).trials[0].intermediate_values == {1: 0.5, 2: 0.9, 3: 0.9}


def test_a_point_that_failed_or_was_interrupted_is_told_failed_once() -> None:
    base = load_experiment("spirals-mlp")
    spec = SweepSpec((parse_axis("optimizer.lr=0.01,0.1"),))
    sweep, _ = start_sweep(base, spec)
    first, second = queue.read_queue().entries
    studies = SweepStudies()
    for entry in (first, second):
        assert studies.point_of(entry, entry.experiment()) is not None
    failed = recorded_run("failed", "spirals-mlp", val_acc=(0.5,), finish=False, sweep=sweep.id, queue_entry=first.id)
    RunRecorder(failed)(ev.RunFailed(message="loss is NaN"))
    gone = recorded_run("gone", "spirals-mlp", val_acc=(0.5,), finish=False, sweep=sweep.id, queue_entry=second.id)
    ended = [(failed, failed.read_status(), "failed"), (gone, gone.read_status(), "interrupted")]  # gone trained an epoch
    studies.tell_ended(ended, {})
    assert [t.state.name for t in study_of(sweep.path).trials] == ["FAIL", "FAIL"]
    SweepStudies().tell_ended(ended, {})  # a feeder started again: told already, nothing changes
    assert [t.state.name for t in study_of(sweep.path).trials] == ["FAIL", "FAIL"]


def test_listing_runs_and_sweeps_does_not_load_optuna() -> None:
    from tests.test_startup_imports import loaded_by_command

    start_sweep(load_experiment("spirals-mlp"), SweepSpec((parse_axis("optimizer.lr=0.01,0.1"),)))
    for command in (("runs",), ("sweep", "list")):
        loaded = loaded_by_command(*command)
        assert "optuna" not in loaded and "sqlalchemy" not in loaded, command


def test_a_trial_asked_by_a_feeder_killed_before_it_named_it_is_taken_by_the_same_entry() -> None:
    from workbench.scheduling.sweep_study import ASKING, write_trial

    spec = SweepSpec((parse_axis("optimizer.lr=log-uniform:1e-3:1e-1"),), samples=2, sampler="tpe")
    sweep, _ = start_sweep(load_experiment("spirals-mlp"), spec)
    entry = queue.read_queue().entries[0]
    write_trial(sweep.path, entry.id, ASKING)  # as the feeder does just before it asks...
    study_of(sweep.path).ask()  # ...and the study's answer, never named: the feeder was killed here
    experiment = SweepStudies().point_of(entry, entry.experiment())
    trials = study_of(sweep.path).trials
    assert experiment is not None and len(trials) == 1 and trials[0].user_attrs["entry"] == entry.id
    assert read_trials(sweep.path) == {entry.id: 0}


def test_a_planned_point_taken_by_a_feeder_killed_before_it_named_it_is_taken_again_by_its_entry() -> None:
    from optuna.trial import TrialState

    from workbench.scheduling.sweep_study import write_trial

    sweep, _ = start_sweep(load_experiment("spirals-mlp"), SweepSpec((parse_axis("optimizer.lr=0.01,0.1,0.3"),)))
    second = queue.read_queue().entries[1]
    write_trial(sweep.path, second.id, 1)  # as the feeder does before it takes point 2's trial...
    storage = storage_of(sweep.path, "")
    study_id = storage.get_study_id_from_name(sweep.id)
    storage.set_trial_state_values(storage.get_trial_id_from_study_id_trial_number(study_id, 1), TrialState.RUNNING)
    experiment = SweepStudies().point_of(second, second.experiment())  # ...killed there; a new feeder
    assert experiment is not None and experiment.optimizer.lr == 0.1
    trials = study_of(sweep.path).trials
    assert [t.state.name for t in trials] == ["WAITING", "RUNNING", "WAITING"] and trials[1].user_attrs["entry"] == second.id
