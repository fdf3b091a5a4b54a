"""What a command loads, in a real process: a command pays for the libraries it uses, no more.

torch takes about two seconds to import, torchvision half of one: listing presets must not
import torch, and a digits run must import neither torchvision nor scikit-learn (no longer a
dependency: the bundled sets ship as files; it cost a second with scipy).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # each starts a Python process to see what it imports


def loaded_by_command(*argv: str) -> set[str]:
    """The modules loaded after ``workbench ARGV`` ran to success in a fresh process."""
    code = (
        "import contextlib, io, sys\n"
        "from workbench.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    status = main({list(argv)!r})\n"
        "assert status == 0, status\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_importing_the_cli_does_not_import_torch() -> None:
    code = "import sys, workbench.cli\nprint(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert "workbench.cli" in loaded
    assert "torch" not in loaded


def test_listing_presets_does_not_import_torch() -> None:
    loaded = loaded_by_command("presets")
    assert "workbench.experiment.presets" in loaded
    assert "torch" not in loaded


def test_describe_imports_torch_for_the_lr_table_alone() -> None:
    """The learning rate per epoch comes from torch's real schedulers; nothing else of a
    description needs torch, a dataset's files or the model builder."""
    loaded = loaded_by_command("describe", "digits-cnn")
    assert {"workbench.optim.preview", "torch"} <= loaded
    assert not {"torchvision", "sklearn", "workbench.model.build", "workbench.engine.setup"} & loaded
    code = "import sys, workbench.experiment.describe\nprint('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_listing_runs_does_not_import_torch() -> None:
    loaded = loaded_by_command("runs")
    assert "workbench.runs.listing" in loaded
    assert "torch" not in loaded


def test_a_digits_run_even_the_first_imports_neither_scikit_learn_scipy_nor_torchvision() -> None:
    loaded = loaded_by_command("train", "digits-cnn", "--epochs", "1", "--set", "data.subset=64")
    assert "workbench.engine.trainer" in loaded
    assert not {"sklearn", "scipy", "joblib", "torchvision"} & loaded


def test_a_training_command_that_ends_without_teardown_still_prints_everything_and_its_status() -> None:
    """Run as the program, `workbench train` ends with os._exit once torch is loaded: its output
    must be whole (flushed) and its exit status the command's."""
    import json

    from workbench.runs.listing import list_runs

    argv = [sys.executable, "-m", "workbench", "train", "digits-cnn", "--epochs", "1", "--set", "data.subset=64", "--json"]
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["state"] == "finished" and summary["test"]
    assert "run " + summary["run_id"] in done.stderr  # the view's last line, on stderr with --json
    assert [s.state for s in list_runs()] == ["finished"]
