"""Every command that names a run, on a run folder damaged in each way a crash, a full disk or a
hand edit leaves one: one readable line or a correct answer, never a traceback, and the other
runs unharmed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tui.runs import train_run
from workbench.atomic import TEMP_PREFIX
from workbench.cli import main
from workbench.runs.folder import RunDir
from workbench.runs.listing import list_runs


def _garbage_status(run: RunDir) -> None:
    run.status_path.write_bytes(b"\xff\xfe{not json")


def _no_config(run: RunDir) -> None:
    (run.path / "config.toml").unlink()


def _broken_metrics(run: RunDir) -> None:
    with run.metrics_path.open("ab") as handle:
        handle.write(b'\xff\xfe garbage\n{"event": "EpochEnded", "epoch": "two"}\n{"torn')


def _no_checkpoints(run: RunDir) -> None:
    shutil.rmtree(run.path / "checkpoints")


def _corrupt_checkpoint(run: RunDir) -> None:
    for checkpoint in (run.path / "checkpoints").glob("*.pt"):
        data = bytearray(checkpoint.read_bytes())
        data[len(data) // 2] ^= 0xFF
        checkpoint.write_bytes(bytes(data))


DAMAGES: dict[str, Callable[[RunDir], None]] = {
    "garbage status.json": _garbage_status,
    "no config.toml": _no_config,
    "broken metrics.jsonl": _broken_metrics,
    "no checkpoints": _no_checkpoints,
    "corrupt checkpoints": _corrupt_checkpoint,
}
#: Each command naming the run; ``{run}`` the damaged one, ``{other}`` a healthy one.
COMMANDS = (
    ["runs"],
    ["logs", "{run}"],
    ["eval", "{run}"],
    ["resume", "{run}"],
    ["export", "{run}"],
    ["compare", "{run}", "{other}"],
    ["pause", "{run}"],
    ["continue", "{run}"],
    ["stop", "{run}"],
    ["delete", "{run}", "--yes"],
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished digits run (checkpoints, metrics, status), trained once for the module."""
    home = tmp_path_factory.mktemp("trained-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(home))
        train_run("digits-mlp", epochs=1)
    return home


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_every_command_on_a_damaged_run_says_one_line_or_answers(
    trained: Path, workbench_home: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    shutil.copytree(trained, workbench_home, dirs_exist_ok=True)
    (folder,) = (workbench_home / "data" / "runs").iterdir()
    other = folder.with_name(folder.name + "-healthy")
    shutil.copytree(folder, other)
    RunDir(other).update_status(id=other.name)
    DAMAGES[damage](RunDir(folder))
    for argv in COMMANDS:
        argv = [arg.format(run=folder.name, other=other.name) for arg in argv]
        status = main(argv)
        out, err = capsys.readouterr()
        said = f"{damage}: workbench {' '.join(argv)} -> {status}: {err.strip() or out.strip()[:200]}"
        assert "Traceback" not in out + err, said
        if status != 0:
            assert len(err.strip().splitlines()) == 1 and err.startswith("error:"), said
            assert "--verbose" not in err, said  # a line the command chose, not an unexpected error caught
    assert other.name in {s.id for s in list_runs()}  # the healthy run is untouched
    assert main(["eval", other.name]) == 0


def test_a_runs_folder_that_cannot_be_written_is_one_line_naming_it(
    workbench_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The machine's errors (a read-only or full disk, a file where a folder should be) were
    'OSError: [Errno 30] ... (run with --verbose for details)'; they name the file and the reason."""
    (workbench_home / "data").mkdir()
    (workbench_home / "data" / "runs").write_text("a file where the runs folder should be")
    assert main(["train", "spirals-mlp", "--epochs", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {workbench_home / 'data' / 'runs'}") and len(err.splitlines()) == 1, err
    assert "--verbose" not in err and "Errno" not in err


def test_a_status_json_that_is_a_folder_is_named_not_the_temp_file_beside_it(
    trained: Path, workbench_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """resume named '.tmp-status.json.8an1p7da: is a directory', a file the user never made."""
    shutil.copytree(trained, workbench_home, dirs_exist_ok=True)
    (folder,) = (workbench_home / "data" / "runs").iterdir()
    (folder / "status.json").unlink()
    (folder / "status.json").mkdir()
    assert main(["resume", folder.name, "--epochs", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {folder / 'status.json'}: is a directory", err
    assert not [p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)]
