"""The layer rule of DESIGN.md: nothing below the UI imports textual or rich, and the
torch-free modules stay torch-free (the app paints before torch has loaded)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import workbench

UI_PACKAGES = ("workbench.tui", "workbench.cli", "workbench.__main__")
TORCH_FREE = (
    "workbench.config",
    "workbench.validation",
    "workbench.presets",
    "workbench.params",
    "workbench.model.catalog",
    "workbench.model.shapes",
    "workbench.model.codegen",
    "workbench.optim.catalog",
    "workbench.data.registry",
)


def _modules_below_the_ui() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(workbench.__path__, "workbench.")]
    return [n for n in names if not n.startswith(UI_PACKAGES)]


def _loaded_after_importing(modules: list[str] | tuple[str, ...], probe: str = "") -> set[str]:
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + probe + "print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_engine_data_model_and_store_never_import_textual_or_rich() -> None:
    modules = _modules_below_the_ui()
    assert "workbench.runs.events" in modules
    loaded = _loaded_after_importing(modules)
    assert "textual" not in loaded
    assert "rich" not in loaded


def test_validating_an_experiment_does_not_import_torch() -> None:
    probe = (
        "from workbench.presets import read_experiment\n"
        "from workbench.config import problems\n"
        "assert problems(read_experiment('digits-cnn')) == []\n"
    )
    loaded = _loaded_after_importing(TORCH_FREE, probe)
    assert "torch" not in loaded


def test_the_runs_package_never_imports_the_engine_or_torch() -> None:
    """Runs are started as processes (`workbench train`), never by importing the trainer: the app
    and `workbench runs` list, follow and control runs without loading torch."""
    names = [m.name for m in pkgutil.walk_packages(workbench.__path__, "workbench.") if m.name.startswith("workbench.runs")]
    assert "workbench.runs.launch" in names and "workbench.runs.process_control" in names
    loaded = _loaded_after_importing(names)
    assert not {m for m in loaded if m.startswith("workbench.engine")}
    assert "torch" not in loaded
