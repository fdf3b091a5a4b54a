"""Following a run: the whole history first, then only what was appended, line by whole line."""

from __future__ import annotations

import json

from workbench.experiment.presets import load_experiment
from workbench.runs import events as ev
from workbench.runs.follow import RunFollower
from workbench.runs.store import create_run


def _line(event: ev.Event, when: float = 1.0) -> bytes:
    return (json.dumps(event.to_dict() | {"time": when}) + "\n").encode()


def test_the_first_poll_backfills_then_each_poll_returns_only_new_events() -> None:
    run = create_run(load_experiment("digits-mlp"))
    follower = RunFollower(run)
    assert follower.poll().events == [] and follower.poll().state == "starting"
    run.metrics_path.write_bytes(_line(ev.RunWarning("one")) + _line(ev.RunWarning("two")))
    assert [e.message for e, _ in follower.poll().events] == ["one", "two"]
    assert follower.poll().events == []
    with run.metrics_path.open("ab") as handle:
        handle.write(_line(ev.RunWarning("three"), when=5.0))
    assert follower.poll().events == [(ev.RunWarning("three"), 5.0)]


def test_a_line_still_being_written_waits_for_its_newline() -> None:
    run = create_run(load_experiment("digits-mlp"))
    follower = RunFollower(run)
    whole = _line(ev.RunWarning("half"))
    run.metrics_path.write_bytes(whole[:10])
    assert follower.read_new() == []
    with run.metrics_path.open("ab") as handle:
        handle.write(whole[10:])
    assert [e.message for e, _ in follower.read_new()] == ["half"]


def test_a_damaged_line_loses_only_itself_and_a_replaced_file_is_read_again() -> None:
    run = create_run(load_experiment("digits-mlp"))
    follower = RunFollower(run)
    run.metrics_path.write_bytes(_line(ev.RunWarning("a")) + b"\xff\xfe{broken\n" + _line(ev.RunWarning("b")))
    assert [e.message for e, _ in follower.read_new()] == ["a", "b"]
    replacement = run.path / "replacement"
    replacement.write_bytes(_line(ev.RunWarning("new")))
    replacement.replace(run.metrics_path)
    assert [e.message for e, _ in follower.read_new()] == ["new"]


def test_a_deleted_run_folder_is_reported_gone() -> None:
    import shutil

    run = create_run(load_experiment("digits-mlp"))
    follower = RunFollower(run)
    shutil.rmtree(run.path)
    update = follower.poll()
    assert update.gone and update.events == []


def test_a_warning_is_recorded_under_the_name_older_runs_used() -> None:
    """The event class no longer shadows the builtin, but metrics.jsonl files keep their word."""
    run = create_run(load_experiment("digits-mlp"))
    run.metrics_path.write_bytes(b'{"event": "Warning", "message": "written by 0.1", "time": 1.0}\n')
    assert RunFollower(run).poll().events == [(ev.RunWarning("written by 0.1"), 1.0)]
    assert ev.RunWarning("now").to_dict()["event"] == "Warning"
