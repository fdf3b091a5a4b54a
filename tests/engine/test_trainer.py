"""The training loop: events, control, resume identity, failures, early stopping, checkpoints."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path

import pytest
import torch

from workbench.engine.checkpoint_io import read_checkpoint
from workbench.engine.control import Control
from workbench.engine.evaluate import evaluate_checkpoint
from workbench.engine.sinks import PROGRESS_LOG_INTERVAL_S
from workbench.engine.trainer import Trainer, TrainingFailed
from workbench.errors import ConfigError
from workbench.outputs.reports import read_reports
from workbench.runs import events as ev
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory, finished_text
from workbench.runs.store import find_run

from .tiny import DETERMINISTIC, Recorder, tiny_digits, tiny_spirals


def train(config, control: Control | None = None, *sinks, **kwargs) -> tuple[ev.RunFinished, Recorder]:
    recorder = Recorder()
    finished = Trainer(config, [recorder, *sinks], control, **kwargs).run()
    return finished, recorder


def run_of(recorder: Recorder) -> RunDir:
    return find_run(recorder.of(ev.RunStarted)[0].run_id)


# ----------------------------------------------------------------------------- events and files


def test_a_run_emits_start_epochs_checkpoints_and_finish_in_order() -> None:
    finished, rec = train(tiny_spirals("train.epochs=2"))
    assert rec.kinds() == ["RunStarted", "EpochEnded", "CheckpointSaved", "EpochEnded", "CheckpointSaved", "RunFinished"]
    started = rec.of(ev.RunStarted)[0]
    assert (started.epochs, started.start_epoch, started.task) == (2, 1, "classification")
    assert started.train_size + started.val_size == 96 and started.test_size == 24
    epochs = rec.of(ev.EpochEnded)
    assert [e.epoch for e in epochs] == [1, 2]
    assert set(epochs[0].train) == {"loss", "acc"} and set(epochs[0].val) == {"loss", "acc"}
    assert finished.state == "finished" and finished.epochs_done == 2
    assert set(finished.test) == {"loss", "acc"}
    assert finished.checkpoint.endswith("best.pt")


def test_metrics_file_keeps_every_event_but_progress_and_status_records_the_result() -> None:
    finished, rec = train(tiny_spirals("train.epochs=2"), progress_interval_s=0)
    run = run_of(rec)
    logged = [line["event"] for line in map(json.loads, run.metrics_path.read_text().splitlines())]
    assert [k for k in logged if k != "Progress"] == rec.kinds()
    # Thinned to one per PROGRESS_LOG_INTERVAL_S, however often the trainer reports.
    assert logged.count("Progress") <= 1 + finished.duration_s / PROGRESS_LOG_INTERVAL_S < len(rec.of(ev.Progress))
    status = run.read_status()
    assert status.state == "finished" and status.epochs_done == 2
    assert status.test == finished.test
    assert status.num_params == rec.of(ev.RunStarted)[0].num_params
    assert run.config_path.read_text().count("spirals") >= 1
    assert sorted(p.name for p in run.checkpoints_dir.iterdir()) == ["best.pt", "epoch-001.pt", "epoch-002.pt", "last.pt"]


def test_progress_is_sent_at_a_bounded_rate_never_per_step_by_default() -> None:
    _, every_step = train(tiny_spirals("train.epochs=1"), progress_interval_s=0)
    steps = every_step.of(ev.RunStarted)[0].steps_per_epoch
    progress = every_step.of(ev.Progress)
    assert [p.step for p in progress] == list(range(1, steps + 1))
    assert all(p.loss > 0 and 0 <= p.acc <= 1 and p.lr > 0 for p in progress)
    _, bounded = train(tiny_spirals("train.epochs=1"), progress_interval_s=3600)
    assert bounded.of(ev.Progress) == []


# ----------------------------------------------------------------------------- stop and resume


def _final_state(finished: ev.RunFinished) -> dict:
    return read_checkpoint(finished.checkpoint.replace("best.pt", "last.pt"))


def _assert_identical(a: dict, b: dict) -> None:
    """Two checkpoints hold the same run state: weights, optimizer (its state and its param groups,
    where the learning rate lives), schedule, grad scaler, position and random generators."""
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    for sa, sb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values(), strict=True):
        for key in sa:
            assert torch.equal(torch.as_tensor(sa[key]), torch.as_tensor(sb[key])), key
    assert a["optimizer"]["param_groups"] == b["optimizer"]["param_groups"]
    assert a["schedule"] == b["schedule"]
    assert a["scaler"] == b["scaler"]
    assert (a["epoch"], a["step"], a["global_step"]) == (b["epoch"], b["step"], b["global_step"])
    _assert_same_rng(a["rng"], b["rng"])


def _assert_same_rng(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    assert a["python"] == b["python"]
    assert a["numpy"] == b["numpy"]
    assert torch.equal(a["torch"], b["torch"])
    for sa, sb in zip(a.get("cuda", []), b.get("cuda", []), strict=True):
        assert torch.equal(sa, sb)


@pytest.mark.parametrize("part", ["lr", "rng", "scaler", "position"])
def test_the_resume_check_sees_a_difference_in_each_part_it_compares(part: str) -> None:
    finished, _ = train(tiny_spirals("train.epochs=1"))
    saved = _final_state(finished)
    changed = copy.deepcopy(saved)
    if part == "lr":
        changed["optimizer"]["param_groups"][0]["lr"] *= 2
    elif part == "rng":
        changed["rng"]["torch"][-1] ^= 1
    elif part == "scaler":
        changed["scaler"] = {"scale": 65536.0}
    else:
        changed["global_step"] += 1
    _assert_identical(saved, copy.deepcopy(saved))
    with pytest.raises(AssertionError):
        _assert_identical(saved, changed)


def _stop_when(control: Control, predicate) -> callable:
    def sink(event: ev.Event) -> None:
        if predicate(event):
            control.stop()

    return sink


def test_stop_after_epoch_two_and_resume_is_bit_identical_to_training_straight_through() -> None:
    straight, straight_rec = train(tiny_digits(DETERMINISTIC))

    control = Control()
    stopped, first = train(
        tiny_digits(DETERMINISTIC), control, _stop_when(control, lambda e: isinstance(e, ev.EpochEnded) and e.epoch == 2)
    )
    assert (stopped.state, stopped.epochs_done, stopped.test) == ("stopped", 2, {})
    run = run_of(first)
    assert run.read_status().state == "stopped"

    second = Recorder()
    resumed = Trainer.resume(run, [second]).run()
    assert second.of(ev.RunStarted)[0].start_epoch == 3
    _assert_identical(_final_state(straight), _final_state(resumed))
    tail = [(e.epoch, e.train, e.val, e.lr) for e in straight_rec.of(ev.EpochEnded)[2:]]
    assert [(e.epoch, e.train, e.val, e.lr) for e in second.of(ev.EpochEnded)] == tail
    assert resumed.test == straight.test


def test_an_epoch_checkpointed_but_not_recorded_before_a_crash_is_recorded_once_on_resume() -> None:
    """kill -9 between an epoch's durable checkpoint and its record left the history without that
    epoch for good: the resumed run went on from the next one."""
    control = Control()
    _, first = train(tiny_spirals(), control, _stop_when(control, lambda e: isinstance(e, ev.EpochEnded) and e.epoch == 2))
    run = run_of(first)
    assert read_checkpoint(run.epoch_checkpoint(2))["epoch_ended"]["epoch"] == 2  # written at the epoch's end
    lines = run.metrics_path.read_text().splitlines()
    epoch_two = next(i for i, line in enumerate(lines) if '"EpochEnded"' in line and '"epoch": 2,' in line)
    run.metrics_path.write_text("\n".join(lines[:epoch_two]) + "\n")  # what the crash left on disk

    second = Recorder()
    Trainer.resume(run, [second]).run()
    assert [e.epoch for e in second.of(ev.EpochEnded)] == [2, 3]
    recorded = [json.loads(line) for line in run.metrics_path.read_text().splitlines()]
    assert [r["epoch"] for r in recorded if r["event"] == "EpochEnded"] == [1, 2, 3]
    straight = [e for e in first.of(ev.EpochEnded) if e.epoch == 2][0]
    assert second.of(ev.EpochEnded)[0] == straight  # the very record the crash lost


def test_an_epoch_file_a_failed_save_left_is_removed_at_resume_not_kept_beside_an_older_last() -> None:
    """A save that failed between its files (a full disk at last.pt) left a complete epoch-002.pt
    while last.pt, the status and the metrics said 1 epoch: the next resume neither used nor
    removed it. Here last.pt is a folder when epoch 2 is saved: a real failure of that write."""
    run_dir: list[RunDir] = []

    def break_last_after_epoch_one(event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            run_dir.append(find_run(event.run_id))
        if isinstance(event, ev.CheckpointSaved) and event.epoch == 1:
            last = run_dir[0].last_checkpoint
            last.rename(last.with_suffix(".kept"))
            last.mkdir()

    with pytest.raises(TrainingFailed, match="last.pt: Is a directory"):
        train(tiny_spirals("train.checkpoint.every=1"), None, break_last_after_epoch_one)
    (run,) = run_dir
    assert [epoch for epoch, _ in run.epoch_checkpoints()] == [1, 2] and run.read_status().epochs_done == 1
    run.last_checkpoint.rmdir()
    run.last_checkpoint.with_suffix(".kept").rename(run.last_checkpoint)  # the disk has room again

    control = Control()
    control.stop()  # resume, and stop before the first step: what the resume did with the files shows
    second = Recorder()
    Trainer.resume(run, [second], control).run()
    assert [epoch for epoch, _ in run.epoch_checkpoints()] == [1]
    (said,) = [w.message for w in second.of(ev.RunWarning) if "epoch-002.pt" in w.message]
    assert said == (
        "checkpoints/epoch-002.pt was written by a save that did not finish and no record points to it; "
        "removed (epoch 2 trains again)"
    )


def test_stop_mid_epoch_and_resume_is_bit_identical_to_training_straight_through() -> None:
    straight, straight_rec = train(tiny_digits(DETERMINISTIC))

    control = Control()
    at_step_3 = _stop_when(control, lambda e: isinstance(e, ev.Progress) and (e.epoch, e.step) == (3, 3))
    stopped, first = train(tiny_digits(DETERMINISTIC), control, at_step_3, progress_interval_s=0)
    assert stopped.state == "stopped"
    saved = read_checkpoint(run_of(first).last_checkpoint)
    assert (saved["epoch"], saved["step"]) == (2, 3)

    second = Recorder()
    resumed = Trainer.resume(run_of(first), [second]).run()
    assert (second.of(ev.RunStarted)[0].start_epoch, second.of(ev.RunStarted)[0].start_step) == (3, 3)
    _assert_identical(_final_state(straight), _final_state(resumed))
    # The interrupted epoch's training metrics include the steps done before the stop.
    tail = [(e.epoch, e.train, e.val) for e in straight_rec.of(ev.EpochEnded)[2:]]
    assert [(e.epoch, e.train, e.val) for e in second.of(ev.EpochEnded)] == tail
    assert resumed.test == straight.test


def test_resume_with_a_larger_total_extends_a_finished_run() -> None:
    finished, rec = train(tiny_spirals("train.epochs=2"))
    run = run_of(rec)
    with pytest.raises(ConfigError, match="has done all 2 epochs"):
        Trainer.resume(run)
    with pytest.raises(ConfigError, match="larger total"):
        Trainer.resume(run, epochs=2)
    more = Recorder()
    extended = Trainer.resume(run, [more], epochs=4).run()
    assert [e.epoch for e in more.of(ev.EpochEnded)] == [3, 4]
    assert extended.epochs_done == 4
    assert run.read_config().train.epochs == 4
    assert run.read_status().epochs == 4


# ----------------------------------------------------------------------------- pause


def test_pause_takes_effect_between_steps_and_marks_the_run_paused_until_resumed() -> None:
    control = Control()
    seen_on_disk: list[str] = []
    happened: list[int | str] = []  # the steps reported, the state changes and the resume, in order

    def resume() -> None:
        happened.append("resume")
        control.resume()

    def pause_at_step_2(event: ev.Event) -> None:
        if isinstance(event, ev.Progress):
            happened.append(event.step)
            if (event.epoch, event.step) == (1, 2):
                control.pause()
        if isinstance(event, ev.StateChanged):
            happened.append(event.state)
            if event.state == "paused":
                seen_on_disk.append(RunDir(find_run("latest").path).read_status().state)
                threading.Timer(0.3, resume).start()  # time enough for a loop that ignores the pause to step on

    finished, rec = train(tiny_spirals("train.epochs=1"), control, pause_at_step_2, progress_interval_s=0)
    changes = rec.of(ev.StateChanged)
    assert [(c.state, c.epoch, c.step) for c in changes] == [("paused", 1, 2), ("running", 1, 2)]
    assert seen_on_disk == ["paused"]
    steps = rec.of(ev.RunStarted)[0].steps_per_epoch
    assert happened == [1, 2, "paused", "resume", "running", *range(3, steps + 1)]  # no step until resumed, none lost
    assert finished.state == "finished" and run_of(rec).read_status().state == "finished"


def test_stop_while_paused_checkpoints_and_ends_stopped() -> None:
    control = Control()

    def pause_then_stop(event: ev.Event) -> None:
        if isinstance(event, ev.Progress) and (event.epoch, event.step) == (2, 1):
            control.pause()
        if isinstance(event, ev.StateChanged):
            threading.Timer(0.1, control.stop).start()

    finished, rec = train(tiny_spirals(), control, pause_then_stop, progress_interval_s=0)
    assert finished.state == "stopped" and finished.epochs_done == 1
    saved = read_checkpoint(run_of(rec).last_checkpoint)
    assert (saved["epoch"], saved["step"]) == (1, 1)
    assert rec.kinds()[-2:] == ["CheckpointSaved", "RunFinished"]


# ----------------------------------------------------------------------------- failures


DIVERGING = ["optimizer.name=sgd", "optimizer.lr=3.0", "schedule.name=constant", "schedule.warmup_epochs=2", "train.epochs=4"]


def _diverging_regression():
    """Linear regression on diabetes whose warmup pushes SGD past stability during epoch 2."""
    from workbench.experiment.presets import load_experiment

    config = load_experiment("diabetes-regression", DIVERGING)
    config.model.layers = config.model.layers[-1:]  # one Linear: the loss grows geometrically to inf
    return config


def test_a_non_finite_loss_stops_the_run_naming_epoch_step_and_last_good_checkpoint() -> None:
    named = []
    for interval in (0, 3600):  # the host looks after every step, or only at the end of the epoch
        rec = Recorder()
        with pytest.raises(TrainingFailed) as failure:
            Trainer(_diverging_regression(), [rec], progress_interval_s=interval).run()
        failed = rec.of(ev.RunFailed)[0]
        run = run_of(rec)
        assert f"at epoch 2, step {failed.step}" in str(failure.value)
        assert "last good checkpoint" in str(failure.value).lower() and str(run.last_checkpoint) in str(failure.value)
        assert failed.last_checkpoint == str(run.last_checkpoint)
        assert read_checkpoint(run.last_checkpoint)["epoch"] == 1  # intact; nothing non-finite was saved
        status = run.read_status()
        assert status.state == "failed" and f"epoch 2, step {failed.step}" in status.message
        named.append((failed.epoch, failed.step))
    assert named[0] == named[1] and named[0][1] > 1  # the same step however rarely the host looks


# ----------------------------------------------------------------------------- early stopping, best, policy


def test_early_stopping_ends_when_the_monitor_stops_improving_and_tests_the_best_epoch() -> None:
    config = tiny_spirals(
        "train.epochs=10",
        "train.early_stopping.enabled=true",
        "train.early_stopping.patience=2",
        "train.early_stopping.min_delta=100.0",  # nothing after the first epoch counts as better
    )
    finished, rec = train(config)
    assert finished.state == "early_stopped"
    assert [e.epoch for e in rec.of(ev.EpochEnded)] == [1, 2, 3]
    assert finished.checkpoint.endswith("best.pt")
    assert read_checkpoint(finished.checkpoint)["epoch"] == finished.best_epoch
    assert run_of(rec).read_status().state == "finished"
    assert run_of(rec).read_status().outcome == "early_stopped"


def test_without_restore_best_the_test_uses_the_last_weights() -> None:
    finished, _ = train(tiny_spirals("train.epochs=2", "train.early_stopping.restore_best=false"))
    assert finished.checkpoint.endswith("last.pt")


@pytest.mark.parametrize(
    "overrides",
    [
        ("train.early_stopping.restore_best=false",),  # last.pt: the file just written, not read back
        ("train.early_stopping.enabled=true", "train.early_stopping.patience=2", "train.early_stopping.min_delta=100.0"),
    ],  # best.pt of epoch 1 while the model is at epoch 3: read back
    ids=["just-written", "earlier-epoch"],
)
def test_the_test_metrics_are_those_of_the_chosen_checkpoint_file(overrides: tuple[str, ...]) -> None:
    """The end-of-run test skips reading back the checkpoint it has just written (the model holds
    it already); either way its figures are those an evaluation of the file gives."""
    finished, rec = train(tiny_spirals("train.epochs=3", *overrides))
    evaluation = evaluate_checkpoint(Path(finished.checkpoint))
    assert evaluation.metrics == finished.test
    (report,) = read_reports(run_of(rec))
    assert report["epoch"] == evaluation.epoch == read_checkpoint(finished.checkpoint)["epoch"]


def test_checkpoints_follow_every_and_keep_last_and_best_follows_the_monitors_direction() -> None:
    config = tiny_spirals(
        "train.epochs=5",
        "train.checkpoint.every=1",
        "train.checkpoint.keep_last=2",
        "train.checkpoint.monitor=val_acc",
        "train.early_stopping.monitor=val_acc",
    )
    finished, rec = train(config)
    run = run_of(rec)
    assert [e for e, _ in run.epoch_checkpoints()] == [4, 5]
    accs = [e.val["acc"] for e in rec.of(ev.EpochEnded)]
    best_epoch = accs.index(max(accs)) + 1  # higher is better; the first epoch to reach the maximum
    assert finished.best_epoch == best_epoch and finished.best_value == max(accs)
    assert read_checkpoint(run.best_checkpoint)["epoch"] == best_epoch
    assert [e.is_best for e in rec.of(ev.EpochEnded)][best_epoch - 1]
    assert read_checkpoint(run.last_checkpoint)["epoch"] == 5


def test_gradient_clipping_bounds_how_far_each_step_moves_the_weights() -> None:
    config = tiny_spirals("train.epochs=1", "optimizer.name=sgd", "optimizer.lr=1.0", "train.grad_clip=0.001")
    trainer = Trainer(config)
    finished = trainer.run()
    first = read_checkpoint(finished.checkpoint)
    steps = first["global_step"]
    from workbench.engine.setup import build_parts

    initial = build_parts(config, for_training=False).prepared.module.state_dict()
    moved = torch.sqrt(sum(((first["model"][k] - initial[k].cpu()) ** 2).sum() for k in initial))
    assert 0 < moved <= steps * 1.0 * 0.001 * 1.0001


def test_the_plateau_schedule_reads_the_metric_it_monitors() -> None:
    config = tiny_spirals(
        "schedule.name=plateau",
        "schedule.monitor=train_loss",
        "schedule.patience=0",
        "schedule.factor=0.5",
        "schedule.threshold=10.0",  # no epoch improves by 1000%: every epoch after the first is a plateau
    )
    _, rec = train(config)
    lrs = [e.lr for e in rec.of(ev.EpochEnded)]
    assert lrs == pytest.approx([0.01, 0.005, 0.0025])


# ----------------------------------------------------------------------------- speed, elapsed time and ETA

#: Fake seconds between an epoch's last training step and the next epoch's first: validation and checkpoints.
SLOW_VALIDATION_S = 1000.0


class FakeClock:
    """Monotonic time that moves only when the test moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class OneSecondSteps(Control):
    """A control whose poll moves the fake clock by one second. The trainer polls once as each
    epoch's training starts and after every step but the epoch's last, so each training step
    takes exactly one fake second, and nothing else (validation, checkpoints) takes any."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    @property
    def pending(self) -> bool:
        self.clock.now += 1.0
        return super().pending


def _slow_validation(clock: FakeClock) -> ev.Sink:
    """Each epoch's end takes SLOW_VALIDATION_S of fake time (the sink runs between its
    validation and its checkpoint's record)."""

    def sink(event: ev.Event) -> None:
        if isinstance(event, ev.EpochEnded):
            clock.now += SLOW_VALIDATION_S

    return sink


def test_speed_covers_training_steps_only_and_eta_counts_steps_and_epoch_ends_apart() -> None:
    """After a slow validation the speed shown fell (57 samples/s against 383 for the epoch) and
    the ETA jumped: both came from the session's time, validation included."""
    clock = FakeClock(100.0)
    config = tiny_spirals("train.epochs=3")
    _, rec = train(config, OneSecondSteps(clock), _slow_validation(clock), progress_interval_s=0, clock=clock)
    started = rec.of(ev.RunStarted)[0]
    steps, batch, epochs = started.steps_per_epoch, config.data.batch_size, 3
    last_batch = started.train_size - (steps - 1) * batch
    second = [p for p in rec.of(ev.Progress) if p.epoch == 2]
    assert [p.step for p in second] == list(range(1, steps + 1))
    for report in second:
        # One step, one fake second: the 1000 s of validation before the epoch are in no report's speed...
        assert report.samples_per_s == (batch if report.step < steps else last_batch)
        # ...nor in its ETA, which is the steps left at 1 s each plus the epoch ends left at 1000 s each.
        steps_left = (epochs - 2) * steps + steps - report.step
        assert report.eta_s == pytest.approx(steps_left + SLOW_VALIDATION_S * (epochs - 1))
        assert report.elapsed_s == pytest.approx(steps + SLOW_VALIDATION_S + report.step)
    assert rec.of(ev.EpochEnded)[1].samples_per_s == pytest.approx(started.train_size / steps)


def test_elapsed_time_continues_across_a_stop_and_resume() -> None:
    """A resumed run's elapsed time started again from 0."""
    control = OneSecondSteps(FakeClock(100.0))
    stop_after_one = _stop_when(control, lambda e: isinstance(e, ev.EpochEnded) and e.epoch == 1)
    stopped, first = train(tiny_spirals(), control, stop_after_one, progress_interval_s=0, clock=control.clock)
    run = run_of(first)
    steps = first.of(ev.RunStarted)[0].steps_per_epoch
    assert stopped.state == "stopped" and stopped.duration_s == steps + 1  # epoch 1, and epoch 2's first poll
    trained_before = run.read_status().train_seconds
    # The runs listing's "time" is the same figure as the Train screen's (it was the recorder's
    # own wall clock, setup and test included: 4.2 s listed for a run "done in 1.9s").
    assert trained_before == stopped.duration_s

    second = Recorder()
    clock = FakeClock(0.0)  # a new process: its monotonic clock knows nothing of the first
    resumed = Trainer.resume(run, [second], OneSecondSteps(clock), progress_interval_s=0, clock=clock).run()
    first_report = second.of(ev.Progress)[0]
    assert (first_report.epoch, first_report.step) == (2, 1)
    assert first_report.elapsed_s == stopped.duration_s + 1
    assert resumed.duration_s == stopped.duration_s + 2 * steps  # epochs 2 and 3 at one second a step
    assert run.read_status().train_seconds == resumed.duration_s > trained_before
    assert RunHistory.from_records(run.read_events()).elapsed_s == resumed.duration_s


def test_a_stopped_run_says_exactly_where_it_stopped_and_how_to_go_on() -> None:
    """A run stopped at epoch 2, step 2 said 'Stopped after 1 epoch(s)' (and the app 'done in')."""
    control = Control()
    at_step_2 = _stop_when(control, lambda e: isinstance(e, ev.Progress) and (e.epoch, e.step) == (2, 2))
    stopped, rec = train(tiny_spirals(), control, at_step_2, progress_interval_s=0)
    run, steps = run_of(rec), rec.of(ev.RunStarted)[0].steps_per_epoch
    expected = f"Stopped in epoch 2 at step 2/{steps}; 1 epoch done, checkpoint saved; `workbench resume {run.id}` continues it"
    assert finished_text(stopped, run.id) == expected
    history = RunHistory.from_records(run.read_events())
    assert history.log[-1].text == expected and history.state == "stopped"
