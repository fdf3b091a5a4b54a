"""Checkpoint files: atomic, versioned, and refused when corrupt, foreign, newer or hostile."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest
import torch

from workbench.atomic import TEMP_PREFIX
from workbench.engine.checkpoint_io import FORMAT_VERSION, encode_checkpoint, read_checkpoint, write_checkpoint
from workbench.engine.trainer import Trainer
from workbench.errors import CheckpointError
from workbench.runs import events as ev
from workbench.runs.store import find_run

from .tiny import Recorder, tiny_spirals


def _state(**extra) -> dict:
    return {"config": {"name": "x"}, "model": {"w": torch.arange(4.0)}, "epoch": 1, "step": 0, **extra}


class Payload:
    """Unpickling this would create ``marker``: the attack a weights-only load must stop."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_checkpoint_round_trips_with_its_format_header(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    write_checkpoint(encode_checkpoint(_state()), [path])
    loaded = read_checkpoint(path)
    assert loaded["format"] == "workbench-checkpoint" and loaded["format_version"] == FORMAT_VERSION
    assert torch.equal(loaded["model"]["w"], torch.arange(4.0))
    assert isinstance(loaded["torch_version"], str) and loaded["workbench_version"]
    assert not list(tmp_path.glob(TEMP_PREFIX + "*"))


@pytest.mark.parametrize("how", ["torch.save", "raw pickle"])
def test_a_hostile_checkpoint_is_refused_and_its_payload_never_runs(tmp_path: Path, how: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "best.pt"
    evil = {"format": "workbench-checkpoint", "format_version": 1, "model": Payload(marker)}
    if how == "torch.save":
        torch.save(evil, path)
    else:
        path.write_bytes(pickle.dumps(evil))
    with pytest.raises(CheckpointError) as refused:
        read_checkpoint(path)
    assert str(path) in str(refused.value) and "refused" in str(refused.value)
    assert "weights_only" not in str(refused.value)  # no advice to load it unsafely
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda good: good[: len(good) // 2], "corrupt or truncated"),
        (lambda good: b"", "corrupt or truncated"),
        (lambda good: b"not a checkpoint at all", "corrupt or truncated|refused: not a checkpoint"),
    ],
    ids=["truncated", "empty", "text"],
)
def test_a_truncated_or_garbage_file_is_refused_naming_it(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "last.pt"
    path.write_bytes(content(encode_checkpoint(_state())))
    with pytest.raises(CheckpointError, match=message) as refused:
        read_checkpoint(path)
    assert str(path) in str(refused.value)


def test_a_foreign_torch_file_is_not_taken_for_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, path)
    with pytest.raises(CheckpointError, match="not a Workbench checkpoint"):
        read_checkpoint(path)


def test_a_checkpoint_from_a_newer_format_asks_for_an_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    buffer = io.BytesIO()
    torch.save({"format": "workbench-checkpoint", "format_version": FORMAT_VERSION + 1, **_state()}, buffer)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError, match="newer Workbench.*upgrade"):
        read_checkpoint(path)


def test_a_missing_checkpoint_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        read_checkpoint(tmp_path / "nope.pt")


def test_a_crash_mid_write_leaves_the_old_checkpoint_and_its_temp_file_is_ignored_then_cleaned() -> None:
    rec = Recorder()
    Trainer(tiny_spirals("train.epochs=1"), [rec]).run()
    run = find_run(rec.of(ev.RunStarted)[0].run_id)
    before = run.last_checkpoint.read_bytes()
    # What a crash during the next write leaves behind: a partial temp file beside the intact one.
    leftover = run.checkpoints_dir / f"{TEMP_PREFIX}last.pt.abc123"
    leftover.write_bytes(before[:100])
    assert read_checkpoint(run.last_checkpoint)["epoch"] == 1
    assert [e for e, _ in run.epoch_checkpoints()] == [1]
    resumed = Trainer.resume(run, epochs=2)
    assert not leftover.exists()  # cleaned when the run is opened for training
    assert resumed.run().epochs_done == 2


def test_resume_refuses_a_hostile_last_checkpoint_without_running_it(tmp_path: Path) -> None:
    rec = Recorder()
    Trainer(tiny_spirals("train.epochs=1"), [rec]).run()
    run = find_run(rec.of(ev.RunStarted)[0].run_id)
    marker = tmp_path / "pwned"
    torch.save({"format": "workbench-checkpoint", "model": Payload(marker)}, run.last_checkpoint)
    with pytest.raises(CheckpointError, match="refused"):
        Trainer.resume(run, epochs=3)
    assert not marker.exists()
