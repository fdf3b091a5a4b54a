"""Presets: ready experiments as TOML files.

The project ships presets in the top-level ``presets/`` folder (packaged into the wheel as
``workbench/_presets``); users add their own ``*.toml`` in the user config dir's ``presets/``.
A user preset with the name of a shipped one shadows it, and listings say so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ConfigError
from workbench.experiment.naming import identity, model_outline
from workbench.experiment.validation import validate
from workbench.paths import user_presets_dir
from workbench.schema import config as config_io
from workbench.schema.config import RunConfig

DEFAULT_PRESET = "digits-cnn"

_PRESET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class PresetEntry:
    name: str
    path: Path
    source: str  # "shipped" | "user"
    shadows: bool  # a user preset that hides a shipped one of the same name


def shipped_presets_dir() -> Path:
    """The shipped presets: inside the installed wheel, or at the top of a source checkout."""
    package_dir = Path(__file__).resolve().parent.parent  # workbench/
    installed = package_dir / "_presets"
    return installed if installed.is_dir() else package_dir.parent / "presets"


def list_presets() -> list[PresetEntry]:
    """Every preset by name; a user preset replaces the shipped one it shadows."""
    shipped = {p.stem: p for p in sorted(shipped_presets_dir().glob("*.toml"))}
    user_dir = user_presets_dir()
    user = {p.stem: p for p in sorted(user_dir.glob("*.toml"))} if user_dir.is_dir() else {}
    entries = {name: PresetEntry(name, path, "shipped", False) for name, path in shipped.items()}
    for name, path in user.items():
        entries[name] = PresetEntry(name, path, "user", name in shipped)
    return sorted(entries.values(), key=lambda e: (e.name != DEFAULT_PRESET, e.name))


def resolve(ref: str) -> Path:
    """A preset name or a path to a TOML file -> the file to read."""
    candidate = Path(ref).expanduser()
    if ref.endswith(".toml") or candidate.is_file():
        if not candidate.is_file():
            raise ConfigError(f"{ref}: no such file")
        return candidate
    for entry in list_presets():
        if entry.name == ref:
            return entry.path
    names = ", ".join(e.name for e in list_presets())
    raise ConfigError(f"{ref!r} is neither a preset nor a TOML file; presets: {names}")


def read_experiment(ref: str) -> RunConfig:
    """Read a preset or file without validating it (the app edits drafts that may be invalid)."""
    return config_io.read(resolve(ref))


def load_experiment(ref: str, overrides: Sequence[str] = (), *, machine: bool = True) -> RunConfig:
    """Read a preset or file, apply ``--set`` overrides and validate: ready to train.

    Overrides that change the data or the model rename the experiment for what it now is
    (:func:`~workbench.experiment.naming.identity`), unless they set the name themselves.
    ``machine=False``: what this machine has (its devices) is not checked, for a run that
    trains on another host (``train --on``), which checks it there."""
    path = resolve(ref)
    experiment = config_io.read(path)
    if overrides:
        origin = experiment
        experiment = config_io.apply_overrides(experiment, list(overrides))
        if not any(item.partition("=")[0].strip() == "name" for item in overrides):
            experiment.name, experiment.description = identity(experiment, origin)
    try:
        return validate(experiment, machine=machine)
    except ConfigError as error:
        raise ConfigError(f"{path.name}: {error}", field=error.field) from None


def save_user_preset(experiment: RunConfig, name: str) -> Path:
    """Save the experiment as a user preset called ``name``; returns its path."""
    if not _PRESET_NAME.match(name):
        raise ConfigError(f"{name!r} is not a usable preset name (letters, digits, - _ .)")
    saved = experiment.copy()
    saved.name = name
    path = user_presets_dir() / f"{name}.toml"
    config_io.write(saved, path)
    return path


def _waits_for_a_path(experiment: RunConfig, problem: ConfigError) -> bool:
    """A preset for the user's own files (an image folder) is ready but for where they are."""
    return problem.field == "data.options.path" and not str(experiment.data.options.get("path", "")).strip()


def preset_rows() -> list[dict]:
    """One row per preset for listings: dataset, task, model, parameters, availability.

    A preset that does not validate still gets a row, with its error, so one broken user preset
    does not hide the others. A preset of the user's own code is not run for the listing (a
    child that imports torch: seconds each, on the first listing of a new machine): its counts
    come from the answers on hand (the app and ``describe`` leave theirs in the cache), else
    they are left out and its availability says "your code".
    """
    from workbench.experiment.validation import check_experiment
    from workbench.usercode.probing import answers_on_hand

    rows = []
    for entry in list_presets():
        row = {
            "name": entry.name,
            "source": entry.source,
            "shadows": entry.shadows,
            "path": str(entry.path),
            "dataset": "?",
            "task": "?",
            "outputs": None,
            "model": "?",
            "params": None,
            "availability": "?",
            "error": "",
        }
        try:
            experiment = config_io.read(entry.path)
            row["dataset"] = experiment.data.dataset
            row["model"] = model_outline(experiment.model)
            with answers_on_hand() as pending:
                checked = check_experiment(experiment)
            if checked.problems and _waits_for_a_path(experiment, checked.problems[0]):
                row["availability"] = "your files"  # once data.options.path says where
            elif pending:
                row["availability"] = "your code"  # counted once it has been run (the app, describe)
            elif checked.problems:
                row["error"] = str(checked.problems[0])
            info, analysis = checked.info, checked.analysis
            if info is not None:
                row["task"] = info.task
                row["outputs"] = info.num_outputs
                row["availability"] = (
                    "offline" if info.offline else ("cached" if info.cached else f"download {info.download_mb:g} MB")
                )
            if analysis is not None and analysis.ok:
                row["params"] = analysis.total_params
        except ConfigError as error:
            row["error"] = str(error)
        except Exception as error:  # noqa: BLE001 - a listing must survive one bad preset
            row["error"] = f"{type(error).__name__}: {error}"
        rows.append(row)
    return rows
