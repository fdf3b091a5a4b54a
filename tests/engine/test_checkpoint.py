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


def _real_state() -> dict:
    """What a trainer saves, in small: a model's weights, Adam's state after a step, an RNG state."""
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 8)).sum().backward()
    optimizer.step()
    return _state(model=model.state_dict(), optimizer=optimizer.state_dict(), rng={"torch": torch.get_rng_state()})


def corruption_outcomes(tries: int, seed: int = 0) -> dict[str, int]:
    """Flip one to four random bytes of a real checkpoint ``tries`` times and read it back each time.

    ``refused``: a CheckpointError naming the file; ``same``: read, with exactly the original
    content (the damage fell where nothing is stored); ``accepted``: read with different content
    (silent corruption); ``escaped``: any other exception. The last two must stay at 0."""
    import random
    import tempfile

    original = _real_state()
    data = encode_checkpoint(original)
    rng = random.Random(seed)
    outcomes = {"refused": 0, "same": 0, "accepted": 0, "escaped": 0}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "last.pt"
        for _ in range(tries):
            damaged = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
            path.write_bytes(bytes(damaged))
            try:
                loaded = read_checkpoint(path)
            except CheckpointError as error:
                outcomes["refused"] += str(path) in str(error)
                outcomes["escaped"] += str(path) not in str(error)
                continue
            except Exception:  # noqa: BLE001 - counting what escapes is the point
                outcomes["escaped"] += 1
                continue
            same = all(_equal(original[key], loaded[key]) for key in original)
            outcomes["same" if same else "accepted"] += 1
    return outcomes


def _equal(a, b) -> bool:
    """Equal content, tensors by value (``==`` on dicts of tensors is ambiguous)."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return isinstance(b, list | tuple) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_random_damage_to_a_checkpoint_is_refused_never_loaded_silently() -> None:
    """Before the checksum, 448 of 2,000 random corruptions of a real checkpoint loaded silently
    (eval printed loss inf; resume trained on damaged weights) and 156 escaped as other errors."""
    outcomes = corruption_outcomes(200)
    assert outcomes["accepted"] == 0 and outcomes["escaped"] == 0, outcomes
    assert outcomes["refused"] > 100  # the damage was real


def test_a_checkpoint_whose_checksum_does_not_match_is_refused(tmp_path: Path) -> None:
    state = _real_state()
    buffer = io.BytesIO()
    torch.save({"format": "workbench-checkpoint", "format_version": FORMAT_VERSION, "checksum": "sha256:0", **state}, buffer)
    path = tmp_path / "last.pt"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        read_checkpoint(path)
