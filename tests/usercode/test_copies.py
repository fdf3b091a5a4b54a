"""A run's copy of the user's code: what it imported is copied with its SHA-256, a later process
imports the copy (one line when the original changed since), and a copy this user did not make,
or that changed since, is refused in one line naming the file unless the code is trusted."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from torch import nn

from workbench.schema import config as config_io
from workbench.schema.config import RunConfig
from workbench.usercode.copies import (
    RECORD_NAME,
    UntrustedCodeError,
    check_named_code,
    keep_code_copy,
    read_code_record,
    runs_user_code,
    trust_named_code,
    use_run_code,
)
from workbench.usercode.importing import import_user_class
from workbench.usercode.reference import parse_code_ref

NETS = """
    from torch import nn
    import copies_helper

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(x) * copies_helper.SCALE
"""


@pytest.fixture(autouse=True)
def fresh_modules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Bytecode is written, as by a plain Python; the user's modules leave sys.modules after
    each test (each test has its own folder of files with the same module names)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as Python starts, unless told otherwise
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "")
    yield
    for name in ("copies_nets", "copies_helper"):
        sys.modules.pop(name, None)


@pytest.fixture
def trained(tmp_path: Path) -> tuple[Path, Path, RunConfig]:
    """A user folder, an experiment naming its Net, and a run folder whose training imported it and kept the copy."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "copies_nets.py").write_text(textwrap.dedent(NETS))
    (folder / "copies_helper.py").write_text("SCALE = 1\n")
    (folder / "unused.py").write_text("raise SystemExit('never imported')\n")
    config = RunConfig()
    config.model.code = f"{folder}/copies_nets.py:Net"
    import_user_class(parse_code_ref(config.model.code, "model.code"), nn.Module, "nn.Module")
    run = tmp_path / "runs" / "run-1"
    run.mkdir(parents=True)
    keep_code_copy(run, config)
    for name in ("copies_nets", "copies_helper"):  # a later process has imported nothing yet
        sys.modules.pop(name)
    return folder, run, config


def test_the_modules_a_run_imported_from_the_users_folder_are_copied_with_their_sha256(
    trained: tuple[Path, Path, RunConfig],
) -> None:
    folder, run, _ = trained
    assert sorted(p.name for p in (run / "code").iterdir()) == ["copies_helper.py", "copies_nets.py"]
    record = json.loads((run / RECORD_NAME).read_text())
    assert record["uid"] == os.getuid()
    assert record["folders"] == {str(folder.resolve()): "code"}
    for file in record["files"]:
        assert hashlib.sha256((run / file["copy"]).read_bytes()).hexdigest() == file["sha256"]
        assert Path(file["original"]).parent == folder.resolve()


def test_an_experiment_without_code_of_the_users_keeps_no_copy(tmp_path: Path) -> None:
    assert keep_code_copy(tmp_path, RunConfig()) is None
    assert not (tmp_path / RECORD_NAME).exists() and not (tmp_path / "code").exists()


def test_a_later_process_imports_the_runs_copy_and_says_the_original_changed(trained: tuple[Path, Path, RunConfig]) -> None:
    folder, run, config = trained
    (folder / "copies_helper.py").write_text("SCALE = 1000\n")  # the user edits their file after the run
    note = use_run_code(run, config)
    assert note == f"copies_helper.py has changed since run run-1 copied its code; it uses its copy ({run.resolve() / 'code'})"
    net = import_user_class(parse_code_ref(config.model.code, "model.code"), nn.Module, "nn.Module")()
    assert sys.modules["copies_helper"].SCALE == 1  # the copy's, not the edited file's
    assert Path(sys.modules["copies_nets"].__file__ or "").parent == (run / "code").resolve()
    assert not (run / "code" / "__pycache__").exists()  # nothing written into the checked copy
    assert net.fc.in_features == 4


def test_an_altered_copy_is_refused_naming_the_file_unless_trusted(trained: tuple[Path, Path, RunConfig]) -> None:
    _, run, config = trained
    copied = run / "code" / "copies_helper.py"
    copied.write_text("SCALE = 2\n")
    with pytest.raises(UntrustedCodeError, match=f"^{copied}: changed since the run copied it .*add --trust-code"):
        use_run_code(run, config)
    assert use_run_code(run, config, trust=True) is None
    import_user_class(parse_code_ref(config.model.code, "model.code"), nn.Module, "nn.Module")
    assert sys.modules["copies_helper"].SCALE == 2  # trusted: the copy as it is


def test_a_file_added_to_the_copy_is_refused(trained: tuple[Path, Path, RunConfig]) -> None:
    _, run, config = trained
    planted = run / "code" / "numpy.py"  # the copy's folder is first on sys.path: it would shadow numpy
    planted.write_text("print('not yours')\n")
    with pytest.raises(UntrustedCodeError, match=f"^{planted}: not part of the run's copy"):
        use_run_code(run, config)


def test_a_run_another_user_made_is_refused(trained: tuple[Path, Path, RunConfig]) -> None:
    _, run, config = trained
    record = json.loads((run / RECORD_NAME).read_text())
    record["uid"] = os.getuid() + 4242
    (run / RECORD_NAME).write_text(json.dumps(record))
    with pytest.raises(UntrustedCodeError, match=f"copied by another user \\(uid {os.getuid() + 4242}\\)"):
        use_run_code(run, config)
    use_run_code(run, config, trust=True)


@pytest.mark.skipif(os.getuid() != 0, reason="only root can give a folder to another user")
def test_a_run_folder_owned_by_another_user_is_refused(trained: tuple[Path, Path, RunConfig]) -> None:
    _, run, config = trained
    os.chown(run, 4242, 4242)
    with pytest.raises(UntrustedCodeError, match="another user \\(uid 4242\\)"):
        use_run_code(run, config)


def test_a_damaged_record_is_one_line(trained: tuple[Path, Path, RunConfig]) -> None:
    _, run, config = trained
    (run / RECORD_NAME).write_text("{")
    with pytest.raises(Exception, match=f"^{run / RECORD_NAME}: the record of the run's code copy cannot be read"):
        read_code_record(run)


def test_a_run_whose_experiment_cannot_be_read_still_uses_its_checked_copy(trained: tuple[Path, Path, RunConfig]) -> None:
    _, run, _ = trained
    (run / "code" / "copies_nets.py").write_text("changed = True\n")
    with pytest.raises(UntrustedCodeError, match="copies_nets.py: changed since the run copied it"):
        use_run_code(run, None)  # its record alone says the run runs code


def test_whether_a_run_runs_the_users_code_is_told_without_running_it(
    trained: tuple[Path, Path, RunConfig], tmp_path: Path
) -> None:
    _, run, _ = trained
    assert runs_user_code(run)
    catalog = tmp_path / "catalog-run"
    catalog.mkdir()
    (catalog / "config.toml").write_text(config_io.dumps(RunConfig()))
    assert not runs_user_code(catalog)
    (catalog / "config.toml").write_text("[model\n")  # unreadable: the safe side
    assert runs_user_code(catalog)


def test_code_named_by_a_checkpoint_outside_a_run_runs_only_if_it_is_this_users_alone(
    trained: tuple[Path, Path, RunConfig], tmp_path: Path
) -> None:
    """`eval RUN --checkpoint FILE` with a file from elsewhere: no checked copy comes with it, so
    the files its experiment names must be this user's and writable by no one else."""
    folder, _, config = trained
    checkpoint = tmp_path / "given.pt"
    nets = folder / "copies_nets.py"
    trust_named_code(False)  # as a command without --trust-code says (a test before may have said it)
    nets.chmod(0o644)
    folder.chmod(0o755)
    check_named_code(config, checkpoint)  # the user's own file, theirs alone: it runs
    nets.chmod(0o666)
    with pytest.raises(
        UntrustedCodeError,
        match=f"^{checkpoint}: its experiment runs copies_nets.py:Net, and others may write {nets}; add --trust-code",
    ):
        check_named_code(config, checkpoint)
    nets.chmod(0o644)
    folder.chmod(0o777)
    with pytest.raises(UntrustedCodeError, match=f"others may write {folder}"):
        check_named_code(config, checkpoint)
    trust_named_code(True)  # --trust-code
    check_named_code(config, checkpoint)
    trust_named_code(False)
    folder.chmod(0o755)
