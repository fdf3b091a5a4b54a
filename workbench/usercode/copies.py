"""A run's copy of the user's code, its record, and the rule for running it again.

When a run starts training, every module it imported from the user's folders (the folders of
the classes its experiment names) is copied into ``code/`` in its folder, and ``code.json``
records each file's SHA-256, where it came from and who made the copy. The record is a file of
its own rather than part of ``status.json``: it is written once, atomically, after the copies
it describes, and never again, while the status is rewritten all through training; a run
folder whose ``code.json`` exists therefore holds the whole copy.

A later process that builds the run's model or data (resume, eval, export, predict, the app's
evaluation in its child process) imports that copy instead of the user's files, so a run
trained months ago still loads after ``nets.py`` was edited; one line says when an original
changed since. Running a run's copy is running code: it is done only when this user made the
run and every copied file still matches its checksum, else it is refused in one line naming
the file, unless the user says ``--trust-code``.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sys
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from workbench.atomic import atomic_write_bytes
from workbench.errors import WorkbenchError
from workbench.schema import config as config_io
from workbench.schema.config import RunConfig
from workbench.usercode.importing import use_copy
from workbench.usercode.reference import CodeRef, parse_code_ref

#: In a run's folder: the copy of the user's code, and its record.
CODE_FOLDER = "code"
RECORD_NAME = "code.json"
RECORD_VERSION = 1
#: How a refusal ends: the way to go on when the user knows the code.
TRUST_HINT = "add --trust-code to run it anyway"


class UntrustedCodeError(WorkbenchError):
    """A run's code that Workbench will not run without ``--trust-code``: one line naming the file."""


@dataclass(frozen=True)
class CopiedFile:
    """One file of the copy: ``copy`` relative to the run's folder (``code/nets.py``), the
    ``original`` it was copied from, and the SHA-256 of its bytes."""

    copy: str
    original: str
    sha256: str


@dataclass(frozen=True)
class CodeRecord:
    """``code.json``: who made the copy (``uid``, ``user``), when, each user folder's copy
    (``folders``: the original folder -> its copy, relative to the run's folder) and the files."""

    uid: int
    user: str
    copied_at: str
    folders: dict[str, str]
    files: tuple[CopiedFile, ...]

    def to_json(self) -> bytes:
        data = {"version": RECORD_VERSION, **asdict(self), "files": [asdict(f) for f in self.files]}
        return (json.dumps(data, indent=2) + "\n").encode("utf-8")


def code_refs(config: RunConfig) -> list[CodeRef]:
    """The user's classes ``config`` names: ``model.code``, each ``Code`` layer's, a code data
    set's ``data.options.code`` (an empty list: the run runs no code of the user's)."""
    found = []
    if config.model.code:
        found.append(parse_code_ref(config.model.code, "model.code"))
    for index, layer in enumerate(config.model.layers):
        if isinstance(layer.params.get("code"), str) and layer.params["code"]:
            found.append(parse_code_ref(layer.params["code"], f"model.layers.{index}.code"))
    code = config.data.options.get("code")
    if config.data.dataset == "code" and isinstance(code, str) and code:
        found.append(parse_code_ref(code, "data.options.code"))
    return found


def user_code_folders(config: RunConfig) -> list[Path]:
    """The folders the experiment's classes are imported from, once each, in order."""
    folders: list[Path] = []
    for ref in code_refs(config):
        folder = ref.folder.expanduser().resolve()
        if folder not in folders:
            folders.append(folder)
    return folders


def runs_user_code(run: Path) -> bool:
    """Whether building ``run``'s model or data runs the user's code: it has a copy of it, or
    its experiment names some. An experiment that cannot be read counts as code: whoever asks
    (the app) then keeps the work in a child process, the safe side."""
    if (run / RECORD_NAME).exists():
        return True
    try:
        return bool(code_refs(config_io.read(run / "config.toml")))
    except WorkbenchError:
        return True


# ----------------------------------------------------------------------------- making the copy


def keep_code_copy(run: Path, config: RunConfig) -> CodeRecord | None:
    """Copy every module this process imported from the experiment's folders into ``run/code/``
    and write its record (None, and nothing written, for an experiment without code of the
    user's). A run that has its record already keeps it: a resumed run goes on with the code
    it started with, which is what this process imported."""
    folders = user_code_folders(config)
    if not folders or (run / RECORD_NAME).exists():
        return None
    copies = _copy_folders(folders)
    files = []
    for source in _imported_files(folders):
        for folder, copy in copies.items():
            if source.is_relative_to(folder):
                data = source.read_bytes()
                target = run / copy / source.relative_to(folder)
                atomic_write_bytes(target, data, durable=False)
                files.append(CopiedFile(str(target.relative_to(run)), str(source), _sha256(data)))
    record = CodeRecord(
        uid=os.getuid(),
        user=_user_name(),
        copied_at=datetime.now().astimezone().isoformat(timespec="seconds"),
        folders={str(folder): copy for folder, copy in copies.items()},
        files=tuple(files),
    )
    atomic_write_bytes(run / RECORD_NAME, record.to_json())  # last, durable: the copy is whole once it exists
    return record


def _copy_folders(folders: list[Path]) -> dict[Path, str]:
    """Where each user folder's copy goes: ``code`` for the one folder of most experiments,
    ``code/<folder name>`` (made unique) when the classes come from several."""
    if len(folders) == 1:
        return {folders[0]: CODE_FOLDER}
    names: dict[Path, str] = {}
    for folder in folders:
        name, n = folder.name or "root", 1
        while f"{CODE_FOLDER}/{name}" in names.values():
            n += 1
            name = f"{folder.name or 'root'}-{n}"
        names[folder] = f"{CODE_FOLDER}/{name}"
    return names


def _imported_files(folders: list[Path]) -> list[Path]:
    """The files of the modules in ``sys.modules`` that lie under ``folders``, sorted."""
    return sorted(set(imported_modules(folders).values()))


def imported_modules(folders: list[Path]) -> dict[str, Path]:
    """The modules in ``sys.modules`` whose file lies under ``folders``, by import name, sorted:
    what was copied into the run, and what the script export of the model carries."""
    found = {}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not isinstance(file, str):
            continue
        path = Path(file).resolve()
        if path.is_file() and any(path.is_relative_to(folder) for folder in folders):
            found[name] = path
    return dict(sorted(found.items()))


# ----------------------------------------------------------------------------- using it


def read_code_record(run: Path) -> CodeRecord | None:
    """The run's ``code.json`` (None where it has none); a damaged one is one line naming it."""
    path = run / RECORD_NAME
    try:
        data = json.loads(path.read_bytes())
        files = tuple(CopiedFile(str(f["copy"]), str(f["original"]), str(f["sha256"])) for f in data["files"])
        return CodeRecord(int(data["uid"]), str(data["user"]), str(data["copied_at"]), dict(data["folders"]), files)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise WorkbenchError(f"{path}: the record of the run's code copy cannot be read ({error})") from None


#: The runs whose code this process uses already: checked (or trusted) once.
_IN_USE: set[Path] = set()


def use_run_code(run: Path, config: RunConfig | None, *, trust: bool = False) -> str | None:
    """Before this process builds ``run``'s model or data: make the user's code import from the
    run's copy, once its trust is checked (:func:`check_run_code`; ``trust``: the user said
    ``--trust-code``; a run checked once in this process is not checked again). Returns the
    one line to show where an original file changed since the copy was made (None: nothing to
    say). A run without code of the user's needs nothing (``config``: its experiment, None when
    it cannot be read: then its record alone says); one whose training never got to copy its
    code (it failed as it started) uses the files named in its experiment, as it did then, if
    this user made it."""
    run = run.resolve()
    record = read_code_record(run)
    if not _runs_code(record, config):
        return None
    if run not in _IN_USE:
        if not trust:
            check_run_code(run, record)
        _IN_USE.add(run)
        if record is not None:
            for original, copy in record.folders.items():
                use_copy(Path(original), run / copy)
    return changed_since(run, record) if record is not None else None


#: --trust-code was said in this process: a checkpoint's code outside a run's folder runs unchecked too.
_TRUST_NAMED_CODE = threading.Event()


def trust_named_code(trust: bool) -> None:
    """Whether the command at hand was given ``--trust-code``: then :func:`check_named_code`
    refuses nothing. Each command says it (a process that runs several, as the tests do, must
    not carry one command's trust into the next)."""
    if trust:
        _TRUST_NAMED_CODE.set()
    else:
        _TRUST_NAMED_CODE.clear()


def check_named_code(config: RunConfig, source: Path) -> None:
    """A checkpoint outside any run's folder (``eval RUN --checkpoint FILE``, a file from another
    machine) carries no checked copy of the code its experiment names: that code is whatever
    now lies at the paths it names. It runs only where this user (or root) owns the file and its
    folder (imported from first) and no one else may write either, as ssh treats its keys; else one
    line naming the file, unless ``--trust-code``. A path that is missing is left to validation."""
    if _TRUST_NAMED_CODE.is_set():
        return
    me = os.getuid()
    for ref in code_refs(config):
        for path in (ref.path, ref.path.parent):
            try:
                info = path.stat()
            except OSError:
                continue
            if info.st_uid not in (me, 0):  # root's: an installed package (the shipped presets)
                whose = f"another user (uid {info.st_uid}) owns {path}"
            elif info.st_mode & 0o022:
                whose = f"others may write {path}"
            else:
                continue
            raise UntrustedCodeError(f"{source}: its experiment runs {ref.label}, and {whose}; {TRUST_HINT}")


def refuse_untrusted_code(run: Path, config: RunConfig | None) -> None:
    """The check of :func:`use_run_code` alone, for a process that starts another to work on the
    run (a detached resume), so that a refusal is said at once, not in the run's log."""
    record = read_code_record(run.resolve())
    if _runs_code(record, config):
        check_run_code(run.resolve(), record)


def _runs_code(record: CodeRecord | None, config: RunConfig | None) -> bool:
    return record is not None or (config is not None and bool(code_refs(config)))


def check_run_code(run: Path, record: CodeRecord | None) -> None:
    """Refuse, in one line naming the file, a run's code this user did not make (the run
    folder's owner, and the uid the record says made it) or whose copy changed since: a file
    whose SHA-256 differs from the record, one missing, or one the record does not list (it
    would be imported first: the copy's folder leads ``sys.path``)."""
    me = os.getuid()
    owner = run.stat().st_uid
    if record is None:
        if owner != me:
            raise UntrustedCodeError(f"{run}: this run was made by another user (uid {owner}) and runs code; {TRUST_HINT}")
        return
    record_path = run / RECORD_NAME
    for uid in (record.uid, owner, record_path.stat().st_uid):
        if uid != me:
            raise UntrustedCodeError(
                f"{record_path}: this run's code was copied by another user (uid {uid}); running it runs theirs; {TRUST_HINT}"
            )
    listed = set()
    for copied in record.files:
        path = run / copied.copy
        listed.add(path)
        try:
            data = path.read_bytes()
        except OSError:
            raise UntrustedCodeError(f"{path}: missing from the run's copy of its code; {TRUST_HINT}") from None
        if _sha256(data) != copied.sha256:
            raise UntrustedCodeError(
                f"{path}: changed since the run copied it (its SHA-256 is not the recorded one); {TRUST_HINT}"
            )
    for path in sorted((run / CODE_FOLDER).rglob("*")):
        if path.is_file() and path not in listed:
            raise UntrustedCodeError(f"{path}: not part of the run's copy of its code (not in {RECORD_NAME}); {TRUST_HINT}")


def changed_since(run: Path, record: CodeRecord) -> str | None:
    """One line naming the original files that changed (or went) since the run copied them."""
    changed = []
    for copied in record.files:
        try:
            same = _sha256(Path(copied.original).read_bytes()) == copied.sha256
        except OSError:
            same = False
        if not same:
            changed.append(Path(copied.original).name)
    if not changed:
        return None
    names = ", ".join(changed)
    verb = "has" if len(changed) == 1 else "have"
    return f"{names} {verb} changed since run {run.name} copied its code; it uses its copy ({run / CODE_FOLDER})"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid without a name (a container)
        return ""
