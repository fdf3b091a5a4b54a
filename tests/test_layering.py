"""The layers of ARCHITECTURE.md, statically and at run time.

The import contracts in pyproject.toml (import-linter) state which package may import which;
these tests run them, show that an upward import breaks them, and find import cycles, which the
contracts do not see inside a package. The subprocess tests check what is really loaded: nothing
below the UI imports textual or rich, and the torch-free modules stay torch-free (the app paints
before torch has loaded).
"""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import workbench

ROOT = Path(__file__).resolve().parents[1]

UI_PACKAGES = ("workbench.tui", "workbench.render", "workbench.cli", "workbench.__main__")
TORCH_FREE = (
    "workbench.schema.config",
    "workbench.experiment.validation",
    "workbench.experiment.presets",
    "workbench.schema.params",
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


@pytest.mark.slow
def test_engine_data_model_and_store_never_import_textual_or_rich() -> None:
    modules = _modules_below_the_ui()
    assert "workbench.runs.events" in modules
    loaded = _loaded_after_importing(modules)
    assert "textual" not in loaded
    assert "rich" not in loaded


@pytest.mark.slow
def test_validating_an_experiment_does_not_import_torch() -> None:
    probe = (
        "from workbench.experiment.presets import read_experiment\n"
        "from workbench.experiment.validation import problems\n"
        "assert problems(read_experiment('digits-cnn')) == []\n"
    )
    loaded = _loaded_after_importing(TORCH_FREE, probe)
    assert "torch" not in loaded


@pytest.mark.slow
def test_the_run_packages_never_import_the_engine_or_torch() -> None:
    """Runs are started as processes (`workbench train`), never by importing the trainer: the app
    and `workbench runs` list, follow, control, queue and export runs without loading torch."""
    run_packages = ("workbench.runs", "workbench.scheduling", "workbench.outputs")
    names = [m.name for m in pkgutil.walk_packages(workbench.__path__, "workbench.") if m.name.startswith(run_packages)]
    assert {"workbench.scheduling.launch", "workbench.runs.process_control", "workbench.outputs.notify"} <= set(names)
    loaded = _loaded_after_importing(names)
    assert not {m for m in loaded if m.startswith("workbench.engine")}
    assert "torch" not in loaded


def _lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """import-linter's contracts of pyproject.toml, over the package found in ``package_parent``."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--config",
            str(ROOT / "pyproject.toml"),
            "--no-cache",
        ],
        capture_output=True,
        text=True,
        cwd=package_parent,
        env={"PYTHONPATH": str(package_parent), "PATH": ""},
    )


@pytest.mark.slow
def test_the_import_contracts_hold() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


@pytest.mark.slow
def test_an_upward_import_breaks_the_layer_contract(tmp_path: Path) -> None:
    """The schema importing the app, in a copy of the package: the contracts must say so."""
    shutil.copytree(ROOT / "workbench", tmp_path / "workbench", ignore=shutil.ignore_patterns("__pycache__"))
    schema = tmp_path / "workbench" / "schema" / "config.py"
    schema.write_text(schema.read_text() + "\nimport workbench.tui.app  # an upward import\n")
    done = _lint_imports(tmp_path)
    assert done.returncode == 1
    assert "workbench.schema.config -> workbench.tui.app" in done.stdout


def test_no_module_imports_itself_through_others() -> None:
    """No import cycle anywhere, counting imports inside functions and type-only ones: each was
    once a loop that only worked because of where an import happened to stand."""
    graph = grimp.build_graph("workbench")
    cycles = [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]
    assert cycles == []


def _strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm over the module graph (grimp finds the imports, not the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            groups.append(group)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups
