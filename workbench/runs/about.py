"""What each run trained on and what it trained, from its config.toml: the words that tell runs apart.

status.json records the data set's name only (``csv``), so two CSV runs listed alike; a
listing also shows the data set with its file (``csv wine.csv``) and the model's outline
(``3 fc``), both from :mod:`workbench.experiment.naming`. Parsing a thousand config.toml files
took 0.2 s, two thirds of `workbench runs`'s budget: ``<runs>/.about-index.json`` keeps each
run's words with the identity of the config.toml they came from, as the status index does
(:mod:`workbench.runs.index`), and a listing re-reads only configs that changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from workbench.errors import ConfigError
from workbench.experiment.naming import data_label, model_outline
from workbench.runs.folder import RunDir
from workbench.runs.index import CachedRead, read_cached

ABOUT_INDEX_NAME = ".about-index.json"
#: Bumped when what an entry holds changes; another version's index is ignored.
ABOUT_INDEX_VERSION = 1


@dataclass(frozen=True)
class RunAbout:
    """The data set with its file, and the model's outline; "" where the config cannot be read."""

    data: str = ""
    model: str = ""


def read_about(run: RunDir) -> RunAbout:
    """``run``'s words, from its config.toml."""
    try:
        config = run.read_config()
    except (ConfigError, OSError):
        return RunAbout()
    return RunAbout(data_label(config.data), model_outline(config.model))


def read_abouts(root: Path, runs: list[RunDir]) -> list[RunAbout]:
    """The words of each of ``runs`` (folders in ``root``), from the index where it is current."""
    what = CachedRead("about", lambda run: run.config_path, read_about, asdict, lambda d: RunAbout(**d))
    return read_cached(root / ABOUT_INDEX_NAME, ABOUT_INDEX_VERSION, runs, what, sound=lambda about: bool(about.data))
