"""Many runs side by side: how their experiments differ, and a table of runs by setting.

``workbench compare`` and the app's compare view both render what :func:`compare_runs`
computes: every setting whose value differs between the runs, the most telling first (the
dataset, the model, the optimizer, the schedule, the epochs, then the rest), and for each run
its flattened experiment, so a table can show any setting as a column and sort by it.
Torch-free: it reads config.toml and status.json only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError, describe_error
from workbench.runs.folder import RunDir
from workbench.runs.listing import SORT_KEYS, RunSummary, listing_cells, summarize
from workbench.schema import config as config_io
from workbench.usercode.copies import read_code_record

#: What a run whose experiment lacks a setting shows for it.
MISSING = "-"
#: Settings in the order a person asks "what is different?": the data, the model, how it learns,
#: for how long. A prefix ending in "." stands for everything below it. The rest come after, by
#: name; the run's name and description (shown elsewhere) last.
IMPORTANCE = (
    "data.dataset",
    "code ",
    "model.",
    "loss.name",
    "loss.",
    "optimizer.name",
    "optimizer.lr",
    "optimizer.",
    "schedule.name",
    "schedule.",
    "train.epochs",
    "data.batch_size",
)
LAST = ("name", "description")
#: The results every run has, before its settings, in a table of runs.
RESULT_COLUMNS = ("state", "epochs", "best", "test", "time")
#: Results whose natural order is the highest first (the best test figure on top).
BEST_FIRST = frozenset({"test"})
#: A setting's text is cut to this many characters in a table (a description can be long).
CELL_WIDTH = 40


@dataclass(frozen=True)
class Difference:
    """A setting and its value in each run (``MISSING`` where a run's experiment lacks it)."""

    setting: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class ComparedRun:
    summary: RunSummary
    settings: dict[str, Any]  # the experiment, flattened: {"optimizer.lr": 0.1, ...}
    error: str = ""  # why the experiment could not be read (its settings are then empty)


@dataclass(frozen=True)
class Comparison:
    runs: tuple[ComparedRun, ...]
    differences: tuple[Difference, ...]

    @property
    def settings(self) -> list[str]:
        """Every setting any of the runs has, most telling first."""
        return sorted({key for run in self.runs for key in run.settings}, key=importance)

    def cells(self, name: str, width: int = CELL_WIDTH) -> list[str]:
        """What each run shows for a result column (:data:`RESULT_COLUMNS`) or a setting."""
        if name in RESULT_COLUMNS:
            return [listing_cells(run.summary)[name] for run in self.runs]
        return [format_setting(run.settings.get(name, MISSING), width) for run in self.runs]

    def order(self, name: str, *, reverse: bool = False) -> list[int]:
        """The runs' indices sorted by a column: by the figure (not its text) for results,
        numbers before text for settings; runs that lack a value stay last either way."""
        if name in RESULT_COLUMNS:
            keys = [(0, SORT_KEYS[name](run.summary)) for run in self.runs]
            reverse = reverse != (name in BEST_FIRST)
        else:
            keys = [sort_key(run.settings.get(name, MISSING)) for run in self.runs]
        present = sorted((i for i, k in enumerate(keys) if k[0] != 2), key=lambda i: keys[i], reverse=reverse)
        return present + [i for i, k in enumerate(keys) if k[0] == 2]


def experiment_settings(experiment: dict[str, Any]) -> dict[str, Any]:
    """An experiment as settings by path, plus ``model.layers``: the number of layers, the
    first thing that differs between two different models."""
    settings = config_io.flat_settings(experiment)
    settings["model.layers"] = len(experiment.get("model", {}).get("layers", []))
    return settings


def importance(setting: str) -> tuple[int, tuple[Any, ...]]:
    """Sort key of a setting: its rank in :data:`IMPORTANCE`, then its name with numbers in
    numeric order (``model.layers.10`` after ``model.layers.9``)."""
    if setting in LAST:
        rank = len(IMPORTANCE) + 1 + LAST.index(setting)
    else:
        rank = next(
            (i for i, p in enumerate(IMPORTANCE) if setting == p or (p.endswith((".", " ")) and setting.startswith(p))),
            len(IMPORTANCE),
        )
    natural = tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", setting))
    return rank, natural


def differences(settings: Sequence[dict[str, Any]]) -> list[Difference]:
    """Every setting whose value is not the same in all of ``settings``, most telling first."""
    keys = {key for flat in settings for key in flat}
    found = [
        Difference(key, tuple(flat.get(key, MISSING) for flat in settings))
        for key in keys
        if len({repr(flat.get(key, MISSING)) for flat in settings}) > 1
    ]
    return sorted(found, key=lambda d: importance(d.setting))


def code_settings(run: RunDir) -> dict[str, Any]:
    """The user's code a run trained with, as settings: ``code nets.py`` -> the start of its
    SHA-256 (from the run's ``code.json``), so that two runs of one experiment whose file was
    edited between them differ where a person looks first; none for a run without user code."""
    record = read_code_record(run.path)
    if record is None:
        return {}
    return {f"code {Path(copied.original).name}": f"sha256 {copied.sha256[:12]}" for copied in record.files}


def compare_runs(runs: Sequence[RunDir]) -> Comparison:
    """Read the runs' status, experiments and code records; one that cannot be read says why in its row."""
    compared = []
    for run in runs:
        try:
            settings, error = {**experiment_settings(config_io.to_dict(run.read_config())), **code_settings(run)}, ""
        except (WorkbenchError, OSError) as problem:
            settings, error = {}, describe_error(problem)
        compared.append(ComparedRun(summarize(run), settings, error))
    # Differences among the runs that could be read; an unreadable one shows MISSING in each.
    found = [
        Difference(d.setting, tuple(c.settings.get(d.setting, MISSING) for c in compared))
        for d in differences([c.settings for c in compared if not c.error])
    ]
    return Comparison(tuple(compared), tuple(found))


def run_labels(count: int) -> list[str]:
    """Short names for the runs in legends and column headers: A, B, C... (1, 2, 3... past 26)."""
    if count <= 26:
        return [chr(ord("A") + i) for i in range(count)]
    return [str(i + 1) for i in range(count)]


def sort_key(value: Any) -> tuple[int, Any]:
    """Order of a setting's values: numbers by value, then text, then runs that lack it."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value))
    if value == MISSING:
        return (2, "")
    return (1, format_setting(value).lower())


def format_setting(value: Any, width: int = CELL_WIDTH) -> str:
    """A setting's value as the experiment file would spell it, cut to ``width`` characters."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"
