"""One run's folder and the files in it.

```
<data dir>/runs/<run-id>/config.toml     the exact experiment (validated, normalised)
                        /metrics.jsonl    one JSON object per event worth keeping
                        /inside.jsonl     one JSON object per epoch: a look inside the model
                        /status.json      typed, versioned: state, pid, host, times, summary
                        /lock             held by the training process (see liveness.py)
                        /log              what the training process printed
                        /checkpoints/     epoch-NNN.pt, last.pt, best.pt
                        /eval/            <checkpoint>-<split>.json evaluation reports
```
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.atomic import atomic_write_bytes, remove_stale_temp_files
from workbench.runs.liveness import shown_state
from workbench.runs.status import RunStatus
from workbench.schema import config as config_io
from workbench.schema.config import RunConfig


@dataclass(frozen=True)
class RunDir:
    """The folder of one run and the files in it."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def inside_path(self) -> Path:
        """Per epoch, the model's weights, gradients and outputs in figures (runs/inside.py)."""
        return self.path / "inside.jsonl"

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    @property
    def log_path(self) -> Path:
        return self.path / "log"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def eval_dir(self) -> Path:
        return self.path / "eval"

    @property
    def export_dir(self) -> Path:
        """Where ``workbench export --format ...`` writes a model by default."""
        return self.path / "export"

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints_dir / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints_dir / "best.pt"

    def epoch_checkpoint(self, epoch: int) -> Path:
        return self.checkpoints_dir / f"epoch-{epoch:03d}.pt"

    def epoch_checkpoints(self) -> list[tuple[int, Path]]:
        """The kept epoch-NNN.pt files, oldest first (temp files of a crash are not listed)."""
        found = []
        for path in self.checkpoints_dir.glob("epoch-*.pt"):
            match = re.fullmatch(r"epoch-(\d+)\.pt", path.name)
            if match:
                found.append((int(match.group(1)), path))
        return sorted(found)

    def read_config(self) -> RunConfig:
        return config_io.read(self.config_path)

    def read_status(self) -> RunStatus:
        """status.json; a missing or unreadable file reads as a status whose state is unknown."""
        try:
            data = json.loads(self.status_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return RunStatus(problems=("status.json is missing",))
        except (OSError, ValueError) as error:
            return RunStatus(problems=(f"status.json cannot be read ({error})",))
        return RunStatus.from_dict(data)

    def write_status(self, status: RunStatus) -> None:
        atomic_write_bytes(self.status_path, status.to_json())

    def update_status(self, **changes: Any) -> RunStatus:
        """Merge ``changes`` into status.json, atomically (only the training process calls this)."""
        status = self.read_status().changed(**changes)
        self.write_status(status)
        return status

    def state(self) -> str:
        """The state to show: a live state whose process is gone reads ``interrupted``."""
        return shown_state(self.path, self.read_status())

    def read_events(self) -> list[dict[str, Any]]:
        """Every record in metrics.jsonl (none before the first); a line torn by a crash is
        skipped. A file that cannot be read (permissions) raises: nothing is not the same as unreadable."""
        try:
            data = self.metrics_path.read_bytes()
        except FileNotFoundError:
            return []
        return decode_records(data)

    def remove_unrecorded_checkpoints(self, epochs_done: int) -> list[Path]:
        """Remove the epoch-NNN.pt files of epochs after ``epochs_done`` (last.pt's): a save that
        did not finish (a full disk, a kill between its files) wrote them, no record points to
        them, and the resumed run trains those epochs again and writes them anew."""
        orphans = [path for epoch, path in self.epoch_checkpoints() if epoch > epochs_done]
        for path in orphans:
            path.unlink(missing_ok=True)
        return orphans

    def clean_temp_files(self, older_than_s: float = 0.0) -> list[Path]:
        """Remove temp files a crash left behind. The run's trainer removes them all; any other
        command only those older than ``older_than_s``, since the trainer may be writing one."""
        return remove_stale_temp_files(self.path, older_than_s) + remove_stale_temp_files(self.checkpoints_dir, older_than_s)


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line to ``path`` and flush it, so that a reader sees whole lines (the
    writer calls :func:`end_torn_line` once before its first, after a crash)."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, allow_nan=True) + "\n")
        handle.flush()


def end_torn_line(path: Path) -> None:
    """A crash mid-write leaves a line without its newline; end it so the next record stays whole."""
    try:
        with path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            torn = handle.read(1) != b"\n"
    except OSError:
        return
    if torn:
        with path.open("a", encoding="utf-8") as handle:
            handle.write("\n")


def decode_records(data: bytes) -> list[dict[str, Any]]:
    """The JSON objects of whole lines; a damaged line (torn, not UTF-8, not JSON) is skipped alone."""
    found = []
    for line in data.splitlines():
        try:
            record = json.loads(line.decode("utf-8"))
        except ValueError:
            continue
        if isinstance(record, dict):
            found.append(record)
    return found
