"""Evaluation reports saved next to a run: ``eval/<checkpoint>-<split>.json``.

The engine computes an evaluation (:mod:`workbench.engine.evaluate`); this module only files it,
so that the app shows a saved report without recomputing and without importing torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.atomic import atomic_write_bytes
from workbench.runs.folder import RunDir


def report_path(run: RunDir, checkpoint_name: str, split: str) -> Path:
    return run.eval_dir / f"{checkpoint_name}-{split}.json"


def write_report(run: RunDir, report: dict[str, Any]) -> Path:
    """Save an evaluation's report (its ``to_dict()``) next to the run, atomically; returns its path."""
    path = report_path(run, report["checkpoint_name"], report["split"])
    atomic_write_bytes(path, (json.dumps(report, indent=1) + "\n").encode("utf-8"))
    return path


def read_reports(run: RunDir) -> list[dict[str, Any]]:
    """Every saved report of a run (for the app), oldest first; unreadable files are skipped."""
    found = []
    for path in sorted(run.eval_dir.glob("*.json")):
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(found, key=lambda r: r.get("created_at", ""))
