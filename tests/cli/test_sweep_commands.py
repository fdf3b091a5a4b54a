"""`workbench train --sweep | --queue`, `workbench sweep` and `workbench queue` as a user types
them. A stand-in holds the queue's lock, so what is queued waits and nothing trains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.experiment.presets import load_experiment
from workbench.scheduling import queue
from workbench.scheduling.sweep import find_sweep, point_entry_id
from workbench.schema.sweep import SweepSpec, dumps_sweep, parse_axis

#: Slow: each starts a process that holds the queue's lock, standing in for its feeder.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("feeder_stand_in")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_a_sweep_is_queued_with_its_folder_and_listed(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "train", "digits-mlp", "--sweep", "optimizer.lr=0.01,0.1", "--sweep", "train.seed=1,2")
    assert status == 0
    sweep = find_sweep(out.strip())
    assert sweep.id.endswith("-digits-mlp-sweep") and (sweep.path / "sweep.toml").is_file()
    assert [e.id for e in queue.read_queue().entries] == [point_entry_id(sweep.id, n) for n in (1, 2, 3, 4)]
    status, out, _ = run(capsys, "queue")
    assert status == 0 and "queue: 4 waiting, 0 running, 1 at a time" in out and "optimizer.lr=0.1 train.seed=2" in out
    status, out, _ = run(capsys, "sweep", "list")
    assert status == 0 and sweep.id in out and "4 points: 4 queued" in out
    status, out, _ = run(capsys, "sweep", "show", sweep.id)
    assert status == 0 and "no point has started yet" in out


def test_a_bad_sweep_is_one_line_and_queues_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "train", "digits-mlp", "--sweep", "optimizer.lr=0.1,20")
    assert status == 2 and err.strip().endswith("expected a number > 0 and <= 10") and "sweep point 2" in err
    assert len(err.strip().splitlines()) == 1 and not queue.read_queue().entries


def test_a_file_with_a_sweep_table_runs_its_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lr.toml"
    path.write_text(dumps_sweep(load_experiment("digits-mlp"), SweepSpec((parse_axis("optimizer.lr=0.01,0.1,0.3"),))))
    status, out, _ = run(capsys, "train", str(path), "--sweep", "train.seed=1,2")
    assert status == 0
    labels = [e.label for e in queue.read_queue().entries]
    assert len(labels) == 6 and labels[0] == "optimizer.lr=0.01 train.seed=1"
    status, _, err = run(capsys, "describe", str(path))
    assert status == 2 and "is a sweep, not one experiment; `workbench train" in err


def test_queue_moves_and_cancels_entries_and_names_a_damaged_file(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("first", "second"):
        assert run(capsys, "train", "digits-mlp", "--queue", "--name", name)[0] == 0
    second = queue.read_queue().entries[1]
    status, out, _ = run(capsys, "queue", "move", second.id, "top")
    assert status == 0 and out.strip() == f"{second.id} is now #1 of 2"
    (queue.waiting_dir() / "torn.json").write_text("{")
    status, out, _ = run(capsys, "queue")
    assert status == 0 and out.index("second") < out.index("first") and "torn.json: damaged queue entry" in out
    status, out, _ = run(capsys, "queue", "cancel", second.id)
    assert status == 0 and [e.name for e in queue.read_queue().entries] == ["first"]
    status, _, err = run(capsys, "queue", "cancel", second.id)
    assert status == 1 and "nothing queued matches" in err


def test_one_queued_run_is_planned_as_any_launch_its_device_and_workers_in_its_experiment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--queue` skipped what the other launches check and record: --nproc-per-node was dropped
    (the run trained with one worker) and a batch that does not divide among the workers queued."""
    status, out, _ = run(capsys, "train", "digits-mlp", "--queue", "--device", "cpu", "--nproc-per-node", "2")
    assert status == 0
    (entry,) = queue.read_queue().entries
    assert out.strip() == entry.id and entry.device == "cpu"
    assert (entry.experiment().train.device, entry.experiment().train.workers) == ("cpu", 2)
    uneven = ("--nproc-per-node", "2", "--device", "cpu", "--set", "data.batch_size=33")
    status, _, err = run(capsys, "train", "digits-mlp", "--queue", *uneven)
    assert status == 2 and "does not divide among 2 workers" in err and len(err.strip().splitlines()) == 1
    status, out, _ = run(capsys, "train", "digits-mlp", "--queue", "--json")
    assert status == 0 and json.loads(out) == {"queue_entry": queue.read_queue().entries[-1].id}
    assert len(queue.read_queue().entries) == 2


def test_a_sweep_whose_storage_cannot_be_reached_is_one_line_and_leaves_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.scheduling.sweep import all_sweeps

    url = "postgresql+psycopg://sweeper:secret@/sweeps?host=/nonexistent"
    args = ("--sweep", "optimizer.lr=log-uniform:1e-3:1e-1", "--sampler", "tpe", "--samples", "3", "--storage", url)
    status, _, err = run(capsys, "train", "digits-mlp", *args)
    assert status == 1 and len(err.strip().splitlines()) == 1
    assert "--storage postgresql+psycopg://sweeper:***@/sweeps?host=/nonexistent: cannot open it" in err  # no password
    assert not all_sweeps() and not queue.read_queue().entries
