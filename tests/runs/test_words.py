"""A run's words (headline, activity line, end notice) for every state, from plain data: what
the Train screen, the status bar, the end toast and `workbench logs` show (issue 26, item 3)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from workbench.runs import events as ev
from workbench.runs.history import RunHistory
from workbench.runs.words import RunFacts, activity_line, end_notice, headline, state_word

RUN = "20260101-120000-mlp"


def _started(*, test_only: bool = False) -> ev.RunStarted:
    return ev.RunStarted(
        run_id=RUN,
        run_dir="/runs/" + RUN,
        name="mlp",
        device="cpu",
        device_name="CPU",
        num_params=10,
        epochs=10,
        start_epoch=10 if test_only else 1,
        steps_per_epoch=4,
        train_size=40,
        val_size=10,
        test_size=10,
        task="classification",
        test_only=test_only,
    )


def _progress(epoch: int = 3) -> ev.Progress:
    return ev.Progress(
        epoch=epoch,
        step=2,
        steps_per_epoch=4,
        global_step=10,
        loss=0.25,
        acc=0.5,
        lr=0.1,
        samples_per_s=100.0,
        elapsed_s=1.0,
        eta_s=2.0,
    )


def _ended(state: str, test: dict[str, float] | None = None) -> ev.RunFinished:
    return ev.RunFinished(
        state=state,
        epochs_done=2,
        best_epoch=2,
        best_value=0.9,
        monitor="val_acc",
        test=test or {},
        duration_s=5.0,
        epoch=3,
        step=2,
        steps_per_epoch=4,
    )


def _facts(state: str, *events: ev.Event, requested: str = "", message: str = "", log: Path | None = None) -> RunFacts:
    return RunFacts(RUN, state, RunHistory.from_events([(e, None) for e in events]), requested, message, log)


def _line(facts: RunFacts, live_count: int = 1) -> str:
    return "".join(text for text, _style in headline(facts, live_count))


def test_a_starting_run_is_loading_its_data() -> None:
    facts = _facts("starting")
    assert state_word(facts) == "starting"
    assert _line(facts) == f"… {RUN}: loading data and building the model"
    assert activity_line(facts, 1) == "▶ starting"


def test_a_running_run_says_its_epoch_and_loss() -> None:
    facts = _facts("running", _started(), _progress())
    assert _line(facts) == f"▶ training mlp ({RUN})"
    assert activity_line(facts, 1) == "▶ epoch 3/10 loss 0.2500"
    assert activity_line(facts, 2) == "▶ mlp epoch 3/10 loss 0.2500 · 2 training"
    assert _line(facts, 2).endswith("  · 2 runs in progress, n shows the next")


def test_a_test_only_resume_says_it_tests_rather_than_trains() -> None:
    facts = _facts("running", _started(test_only=True))
    assert _line(facts) == f"▶ testing mlp ({RUN}): its training had ended, the final test is left"
    assert activity_line(facts, 1) == "▶ final test"


def test_a_pause_shows_from_the_request_until_the_run_acts_on_it() -> None:
    asked = _facts("running", _started(), _progress(), requested="pause")
    assert state_word(asked) == "pausing…"
    paused = _facts("paused", _started(), _progress())
    assert state_word(paused) == "paused"
    for facts in (asked, paused):
        assert _line(facts) == f"‖ paused mlp ({RUN}): p continues, x stops"
    assert activity_line(paused, 1) == "‖ paused, epoch 3/10"


def test_a_stop_request_then_the_stopped_run_say_where_it_stopped() -> None:
    stopping = _facts("running", _started(), _progress(), requested="stop")
    assert state_word(stopping) == "stopping…"
    assert _line(stopping) == "■ stopping mlp: saving a checkpoint…"
    assert activity_line(stopping, 1) == "■ stopping, epoch 3/10"
    stopped = _facts("stopped", _started(), _ended("stopped"))
    assert state_word(stopped) == "stopped"
    assert _line(stopped).startswith("■ stopped in epoch 3 at step 2/4; 2 epochs done, checkpoint saved · r on the Runs")
    notice = end_notice(stopped)
    assert (notice.title, notice.severity) == (f"Run {RUN} stopped", "warning")
    assert notice.text.startswith("Stopped in epoch 3 at step 2/4")


def test_a_point_its_sweep_pruned_says_pruned_where_it_stopped() -> None:
    pruned = _facts("pruned", _started(), _ended("stopped"))  # its events say stopped, its status pruned
    assert state_word(pruned) == "pruned"
    assert _line(pruned).startswith("■ pruned by its sweep in epoch 3 at step 2/4; 2 epochs done, checkpoint saved · r on")


@pytest.mark.parametrize(("state", "how"), [("finished", "Finished"), ("early_stopped", "Early stopping")])
def test_a_run_that_ended_shows_its_test(state: str, how: str) -> None:
    facts = _facts("finished", _started(), _ended(state, {"loss": 0.5, "acc": 0.75}))
    assert state_word(facts) == state  # as the run itself said
    segments = headline(facts)
    assert segments[0] == ("✓ test ", "bold green") and RUN in segments[-1][0]
    notice = end_notice(facts)
    assert (notice.title, notice.severity) == (f"Run {RUN} {state}", "information")
    assert notice.text.startswith(f"{how} after 2 epochs")
    assert activity_line(facts, 0) == ""  # nothing trains


def test_a_failure_names_its_error_and_log(tmp_path: Path) -> None:
    log = tmp_path / "log"
    facts = _facts("failed", _started(), ev.RunFailed("CUDA out of memory."), log=log)
    assert state_word(facts) == "failed"
    assert _line(facts) == f"✗ failed: CUDA out of memory. Log: {log}"
    notice = end_notice(facts)
    assert (notice.title, notice.text, notice.severity) == (f"Run {RUN} failed", f"CUDA out of memory. Log: {log}", "error")


def test_a_failure_only_status_json_recorded_is_said_from_its_message() -> None:
    facts = _facts("failed", message="the launcher could not start python")
    assert _line(facts) == "✗ failed: the launcher could not start python."


def test_a_run_whose_process_died_is_interrupted_and_told_how_to_resume() -> None:
    facts = _facts("interrupted", _started(), _progress())
    assert state_word(facts) == "interrupted"
    assert _line(facts) == f"✗ interrupted {RUN}: its process is gone; r on the Runs screen resumes it"
    notice = end_notice(facts, resume="`workbench resume X`")
    assert notice.title == f"Run {RUN} interrupted" and notice.severity == "error"
    assert notice.text == "its process ended without finishing (interrupted); `workbench resume X` resumes it"
    assert activity_line(facts, 1) == "1 training"  # another run trains; the one shown does not


def test_a_stale_run_on_a_quiet_host_says_so() -> None:
    facts = _facts("stale", _started())
    assert _line(facts) == f"? no heartbeat {RUN} trains on another host that has gone quiet"


def test_a_deleted_run_says_its_folder_is_gone_even_after_it_ended() -> None:
    facts = replace(_facts("stopped", _started(), _ended("stopped")), state="deleted")
    assert state_word(facts) == "deleted"
    assert _line(facts) == f"✗ deleted {RUN}: its folder is gone"
