"""A run's status.json is typed and read defensively: one bad field never hides the run."""

from __future__ import annotations

import json

from workbench.experiment.presets import load_experiment
from workbench.runs.listing import list_runs
from workbench.runs.status import STATUS_VERSION, RunStatus
from workbench.runs.store import create_run


def test_a_status_round_trips_through_json_with_its_version() -> None:
    status = RunStatus(id="r", state="running", pid=12, best_value=0.5, test={"acc": 0.9}).changed(epochs_done=3)
    again = RunStatus.from_dict(json.loads(status.to_json()))
    assert again == status and again.version == STATUS_VERSION and again.problems == ()


def test_a_wrong_typed_field_keeps_its_default_and_is_named() -> None:
    status = RunStatus.from_dict({"state": "finished", "created_ts": "yesterday", "epochs_done": True, "test": {"acc": "high"}})
    assert status.state == "finished" and status.created_ts == 0.0 and status.epochs_done == 0 and status.test == {}
    assert [p.split(":")[1].split()[0] for p in status.problems] == ["created_ts", "epochs_done", "test"]


def test_integers_written_for_a_number_field_read_as_numbers() -> None:
    assert RunStatus.from_dict({"train_seconds": 3, "best_value": 1}).train_seconds == 3.0


def test_a_damaged_status_lists_its_run_as_damaged_beside_the_healthy_ones() -> None:
    healthy = create_run(load_experiment("digits-mlp"))
    damaged = create_run(load_experiment("spirals-mlp"))
    damaged.status_path.write_text(json.dumps({"state": "running", "created_ts": "soon"}))
    unreadable = create_run(load_experiment("digits-cnn"))
    unreadable.status_path.write_bytes(b"\xff\xfe not json")
    by_id = {s.id: s for s in list_runs()}
    assert by_id[healthy.id].state == "starting"
    assert by_id[damaged.id].state == "damaged" and "created_ts" in by_id[damaged.id].message
    assert by_id[unreadable.id].state == "damaged" and "cannot be read" in by_id[unreadable.id].message
