"""The commands that run a run's copy of the user's code (resume, eval, export, predict) use
that copy after the user edited or broke their file, saying so in one line; they refuse, in one
line naming the file, a copy that was altered or a run another user made, unless --trust-code."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.usercode.user_files import forget_user_modules, write_user_code
from workbench.cli import main
from workbench.runs.folder import RunDir
from workbench.runs.store import find_run

#: Probe children, training and evaluation: real processes and whole runs.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def user_modules_leave(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The user's modules these in-process runs imported leave this process with the module's tests."""
    yield
    forget_user_modules(tmp_path_factory.getbasetemp())


#: Every command that builds a run's model from its code, with what it needs besides the run.
COMMANDS = {
    "eval": ["eval", "{run}"],
    "resume": ["resume", "{run}", "--epochs", "3"],
    "resume --detach": ["resume", "{run}", "--epochs", "3", "--detach"],  # refused here, not in its process's log
    "export": ["export", "{run}", "--format", "script", "--out", "{tmp}/model.py"],
    "predict": ["predict", "{run}", "{tmp}/rows.csv"],
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A run of the user's Net on their Points data, trained once for the module: its home and
    the user's folder."""
    home = tmp_path_factory.mktemp("code-home")
    experiment = write_user_code(tmp_path_factory.mktemp("user") / "mine")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(home))
        assert main(["train", str(experiment)]) == 0
    return home, experiment.parent


@pytest.fixture
def run(trained: tuple[Path, Path], workbench_home: Path) -> RunDir:
    """This test's own copy of the trained run, in its home."""
    shutil.copytree(trained[0] / "data", workbench_home / "data")
    return find_run("latest")


def command(name: str, run: RunDir, tmp_path: Path, *extra: str) -> list[str]:
    (tmp_path / "rows.csv").write_text("a,b,c,d\n0.1,0.2,0.3,0.4\n")
    return [*(arg.format(run=run.id, tmp=tmp_path) for arg in COMMANDS[name]), *extra]


def test_eval_and_resume_use_the_runs_copy_after_the_user_broke_their_file(
    trained: tuple[Path, Path], run: RunDir, capsys: pytest.CaptureFixture[str]
) -> None:
    nets = trained[1] / "nets.py"
    kept = nets.read_text()
    try:
        nets.write_text(kept + "\ndef broken(:\n")  # the user goes on editing their file
        assert main(["eval", run.id]) == 0
        out, err = capsys.readouterr()
        note = f"note: nets.py has changed since run {run.id} copied its code; it uses its copy ({run.path / 'code'})"
        assert err.strip() == note and "test  loss" in out
        assert main(["resume", run.id, "--epochs", "3"]) == 0
    finally:
        nets.write_text(kept)
    warnings = [record["message"] for record in run.read_events() if record.get("event") == "Warning"]
    assert any(w.startswith(f"nets.py has changed since run {run.id} copied its code") for w in warnings), warnings
    assert run.read_status().epochs_done == 3


@pytest.mark.parametrize("name", list(COMMANDS))
def test_an_altered_copy_is_refused_naming_the_file_before_anything_runs(
    run: RunDir, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    copied = run.path / "code" / "nets.py"
    copied.write_text(copied.read_text() + "\nprint('someone else was here')\n")
    assert main(command(name, run, tmp_path)) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {copied}: changed since the run copied it (its SHA-256 is not the recorded one); add --trust-code to run it anyway"
    )
    assert run.read_status().state == "finished" and run.read_status().epochs_done == 2
    assert not run.log_path.exists()  # no process was started to refuse it in its log


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_run_another_user_made_is_refused(run: RunDir, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    record = json.loads((run.path / "code.json").read_text())
    record["uid"] = os.getuid() + 4242
    (run.path / "code.json").write_text(json.dumps(record))
    assert main(command(name, run, tmp_path)) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        f"error: {run.path / 'code.json'}: this run's code was copied by another user (uid {os.getuid() + 4242})"
    )
    assert err.endswith("add --trust-code to run it anyway") and len(err.splitlines()) == 1


def test_trust_code_runs_an_altered_copy(run: RunDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads((run.path / "code.json").read_text())
    record["uid"] = os.getuid() + 4242
    (run.path / "code.json").write_text(json.dumps(record))
    assert main(command("eval", run, tmp_path, "--trust-code")) == 0
    assert main(command("resume", run, tmp_path, "--trust-code")) == 0
    assert run.read_status().epochs_done == 3


def test_every_launcher_of_a_resume_refuses_an_altered_copy_through_the_plan(run: RunDir) -> None:
    """The app's r and the queue plan a resume as the CLI does: an altered copy is one line there
    too, before a process is started to say it only in the run's log."""
    from workbench.errors import WorkbenchError
    from workbench.scheduling.plan import plan_resume

    copied = run.path / "code" / "nets.py"
    copied.write_text(copied.read_text() + "\n# changed\n")
    with pytest.raises(WorkbenchError, match="changed since the run copied it"):
        plan_resume(run, epochs=3)
    assert plan_resume(run, epochs=3, trust_code=True).trust_code
    assert not run.log_path.exists()


def test_a_checkpoint_file_from_outside_the_run_runs_code_only_this_users_alone(
    trained: tuple[Path, Path], run: RunDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`eval RUN --checkpoint FILE`: a file from elsewhere brings no checked copy; the code its
    experiment names is refused where others may write it, unless --trust-code."""
    given = tmp_path / "given.pt"
    shutil.copyfile(run.best_checkpoint, given)
    nets = trained[1] / "nets.py"
    mode = nets.stat().st_mode
    try:
        nets.chmod(0o666)
        assert main(["eval", run.id, "--checkpoint", str(given)]) == 1
        err = capsys.readouterr().err.strip()
        assert (
            err
            == f"error: {given}: its experiment runs nets.py:Net, and others may write {nets}; add --trust-code to run it anyway"
        )
        assert main(["eval", run.id, "--checkpoint", str(given), "--trust-code"]) == 0
        assert "test  loss" in capsys.readouterr().out
    finally:
        nets.chmod(mode)
