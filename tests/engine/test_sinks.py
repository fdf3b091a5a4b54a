"""The run recorder: every event worth keeping in metrics.jsonl, and status.json kept current."""

from __future__ import annotations

import json

from workbench.engine.sinks import RunRecorder
from workbench.experiment.presets import load_experiment
from workbench.runs import events as ev
from workbench.runs.listing import list_runs
from workbench.runs.store import create_run


def _run():
    return create_run(load_experiment("digits-mlp"))


def test_the_recorder_logs_events_flushed_per_line_and_survives_a_torn_line() -> None:
    run = _run()
    recorder = RunRecorder(run)
    recorder(ev.RunWarning("first"))
    run.metrics_path.write_text(run.metrics_path.read_text() + '{"event": "Epoch')  # a crash mid-line
    RunRecorder(run)(ev.RunWarning("after the crash"))
    lines = run.metrics_path.read_text().splitlines()
    assert json.loads(lines[-1])["message"] == "after the crash"
    assert [e["message"] for e in run.read_events()] == ["first", "after the crash"]


def test_status_follows_the_run_from_start_to_failure() -> None:
    run = _run()
    recorder = RunRecorder(run)
    recorder(ev.StateChanged("paused", 1, 3))
    assert run.read_status().state == "paused"
    recorder(ev.RunFailed("the loss became nan at epoch 1, step 4", 1, 4, ""))
    status = run.read_status()
    assert status.state == "failed" and "step 4" in status.message and status.ended_at
    assert list_runs()[0].message.startswith("the loss became nan")
