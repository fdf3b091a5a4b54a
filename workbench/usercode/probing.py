"""Running the user's code once, in a child process with a time limit.

The app and validation need facts only the user's code can give: a model's output shape, its
named children and parameter counts; a data set's size, input shape and classes. Importing
that code here would let it crash, hang, print over the screen or ``sys.exit`` the app, so a
child process (``python -m workbench.engine.code_probe``) runs it and writes its answer as JSON
to a file of ours; its own output is kept apart (:func:`keep_warm`: one child is started ahead, so that torch is
imported before the question comes). An answer is cached, keyed on the request and
the content of every Python file in the user's folder, so the same question about the same
code is asked once (the Model screen redraws, validation repeats).

The app validates its draft on its UI thread at every keystroke, where a child that takes
seconds (or hangs until its time limit) must not run: there, validation runs inside
:func:`answers_on_hand`, which answers from the cache (or from what this process was told
before) and otherwise notes the question and says it is pending; the app asks the child in a
worker (:func:`PendingProbe.run`) and validates again once it has answered.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.atomic import atomic_write_bytes
from workbench.errors import ConfigError, WorkbenchError
from workbench.paths import cache_dir
from workbench.schema.config import RunConfig
from workbench.usercode.copies import code_refs
from workbench.usercode.importing import copies_in_use

#: Seconds a probe may take (import, build, one batch) before it is ended.
PROBE_TIMEOUT_S = 30.0
#: The child's module: it imports torch and the user's code.
PROBE_MODULE = "workbench.engine.code_probe"
CACHE_VERSION = 1


class ProbeError(WorkbenchError):
    """The user's code could not answer: one line (their file, line and error); ``details``
    the child's traceback or output, for the log and ``--verbose``."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class ProbePending(ProbeError):
    """Inside :func:`answers_on_hand`: the question has no answer yet; it was noted, to be asked."""


class StillRunning(ConfigError):
    """A problem of the experiment that answers itself: the user's class ``label`` is being run
    once in the background. Its field says so meanwhile; the app's status bar does not count it
    as a problem, and a start asked for meanwhile waits for the answer."""

    def __init__(self, message: str, *, field: str, label: str) -> None:
        super().__init__(message, field=field)
        self.label = label


def still_running(error: ProbeError, message: str, *, field: str, label: str) -> ConfigError:
    """The ConfigError the experiment's check records for ``error`` at ``field``: a
    :class:`StillRunning` while the question is only pending."""
    if isinstance(error, ProbePending):
        return StillRunning(message, field=field, label=label)
    return ConfigError(message, field=field)


@dataclass(frozen=True)
class PendingProbe:
    """A question :func:`answers_on_hand` could not answer yet: ``run`` asks the child."""

    request: dict[str, Any]
    folders: tuple[Path, ...]

    @property
    def label(self) -> str:
        """The user's class as messages name it: ``nets.py:Net``."""
        return _label(self.request)

    @property
    def key(self) -> str:
        """The same question asked twice has the same key."""
        return json.dumps([self.request, [str(folder) for folder in self.folders]], sort_keys=True)

    def run(self, timeout_s: float = PROBE_TIMEOUT_S) -> None:
        """Ask the child (off the UI thread): afterwards :func:`answers_on_hand` has its answer,
        a failure and a time-out included, so validating again never asks twice."""
        try:
            probe(self.request, list(self.folders), timeout_s=timeout_s)
        except ProbeError:
            pass  # the answer is kept: validation words it where it belongs


#: Inside answers_on_hand: the questions that found no answer (None outside it).
_PENDING: ContextVar[list[PendingProbe] | None] = ContextVar("workbench_pending_probes", default=None)
#: Every answer a child gave this process, by cache key: a time-out or a killed child too,
#: which the cache never keeps, so that answers_on_hand does not send the same question again.
_HEARD: dict[str, dict[str, Any]] = {}


@contextmanager
def answers_on_hand() -> Iterator[list[PendingProbe]]:
    """Within it (on this thread), :func:`probe` never starts a child: it answers from the cache
    or from what this process heard before, and otherwise raises :class:`ProbePending` and adds
    the question to the list it yields."""
    pending: list[PendingProbe] = []
    token = _PENDING.set(pending)
    try:
        yield pending
    finally:
        _PENDING.reset(token)


def forget_failures() -> None:
    """Let the next question about code that timed out or died be asked again (the person
    asked to read it again: the machine may have been busy)."""
    for key in [key for key, answer in _HEARD.items() if answer.get("transient")]:
        del _HEARD[key]


def probe(
    request: dict[str, Any], folders: list[Path], *, timeout_s: float = PROBE_TIMEOUT_S, cached: bool = True
) -> dict[str, Any]:
    """The child's answer to ``request`` (``{"kind": "model" | "dataset", ...}``), from the cache
    when the same request met the same code in ``folders`` before. Raises ProbeError (one line)
    when the code fails, hangs past ``timeout_s``, or the child dies. A process working on a
    run (resume, eval) has the child run the run's copy of the code, as it does itself."""
    if copies := copies_in_use():
        request = {**request, "copies": copies}
    key = _cache_key(request, folders)
    path = cache_dir() / "code-probes" / f"{key[:32]}.json" if cached else None
    pending = _PENDING.get()
    if pending is not None and key in _HEARD:
        return _checked(dict(_HEARD[key]))
    if path is not None and path.is_file():
        try:
            answer = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            answer = None
        if isinstance(answer, dict):
            return _checked(answer)
    if pending is not None:
        pending.append(PendingProbe(request, tuple(folders)))
        raise ProbePending("being run once, in the background…")
    answer = _ask_child(request, timeout_s)
    _HEARD[key] = dict(answer)
    if path is not None and not answer.pop("transient", False):
        # An answer of the user's code (an error too: the same broken code gives the same line at
        # once); never a time-out or a killed child, which a loaded machine may cause.
        atomic_write_bytes(path, json.dumps(answer).encode("utf-8"))
    return _checked(answer)


def _checked(answer: dict[str, Any]) -> dict[str, Any]:
    if not answer.get("ok"):
        raise ProbeError(str(answer.get("error") or "the probe gave no answer"), str(answer.get("details") or ""))
    return answer


def _label(request: dict[str, Any]) -> str:
    what = str(request.get("code", "the code"))
    return Path(what.rpartition(":")[0]).name + ":" + what.rpartition(":")[2] if ":" in what else what


class _Child:
    """A probe's child process and the folder of its answer file; started ahead of its question
    (warm: torch already imported when it comes), or when the question comes."""

    def __init__(self, *, warm: bool) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="workbench-probe-")
        self.answer_path = Path(self.folder.name) / "answer.json"
        env = {**os.environ, "WORKBENCH_PROBE_ANSWER": str(self.answer_path), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", PROBE_MODULE, *(["--warm"] if warm else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,  # the user's code gets no terminal, and no signal of ours
        )

    def ask(self, request: dict[str, Any], timeout_s: float) -> tuple[str, int | None]:
        """Hand it the question; its output and exit status (None: killed after ``timeout_s``)."""
        try:
            stdout, stderr = self.process.communicate(json.dumps(request), timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stdout, stderr = self.process.communicate()
            return (stdout or "") + (stderr or ""), None
        return (stdout or "") + (stderr or ""), self.process.returncode


#: The child started ahead for the next question, once :func:`keep_warm` was called.
_WARM: list[_Child] = []
_WARM_LOCK = threading.Lock()
_KEEP_WARM = threading.Event()


def keep_warm() -> None:
    """From now on keep one child started ahead, torch imported, waiting for the next question:
    the app's Model screen then answers an edit of the user's file in a fraction of a second
    instead of the seconds torch takes to import. A child whose asker went away reads the end
    of its input and ends."""
    _KEEP_WARM.set()
    _start_warm()


def start_ahead_for(config: RunConfig) -> None:
    """The app is about to open on ``config``: if it names a class of the user's, start the
    child now (a Popen, no wait), so that its torch import, the seconds the Model screen's tree
    waits for, runs while the app itself imports and draws its first frame. Called before the
    app's modules are imported; a malformed reference is left for the app to show."""
    try:
        names_code = bool(code_refs(config))
    except WorkbenchError:
        return
    if names_code:
        keep_warm()


def _start_warm() -> None:
    with _WARM_LOCK:
        if not any(child.process.poll() is None for child in _WARM):
            _WARM[:] = [_Child(warm=True)]


def _take_child() -> _Child:
    with _WARM_LOCK:
        ready = [child for child in _WARM if child.process.poll() is None]
        _WARM.clear()
    return ready[0] if ready else _Child(warm=False)


def _ask_child(request: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    try:
        return _answer_of(_take_child(), request, timeout_s)
    finally:
        if _KEEP_WARM.is_set():
            _start_warm()  # after the answer: its torch import would slow this one down


def _answer_of(child: _Child, request: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    label = _label(request)
    with child.folder:
        answer_path = child.answer_path
        output, returncode = child.ask(request, timeout_s)
        if returncode is None:
            return {
                "ok": False,
                "error": f"{label} did not finish within {timeout_s:g} s when run once (a loop that never ends, or input it waits for?)",
                "details": output[-4000:],
                "transient": True,
            }
        try:
            answer = json.loads(answer_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            last = next((line for line in reversed(output.strip().splitlines()) if line.strip()), "")
            reason = f": {last.strip()}" if last else ""
            return {
                "ok": False,
                "error": f"running {label} once ended the process (exit status {returncode}){reason}",
                "details": output[-4000:],
                "transient": True,
            }
    if not isinstance(answer, dict):
        return {"ok": False, "error": f"running {label} once gave no usable answer", "details": output[-4000:]}
    if output.strip():
        answer.setdefault("output", output[-2000:])  # what the user's code printed, for the log
    return answer


def code_fingerprint(folders: list[Path]) -> str:
    """SHA-256 over every ``*.py`` file's name and bytes in ``folders`` (not their subfolders):
    a change to the user's file, or to a module beside it that it imports, changes it."""
    digest = hashlib.sha256()
    for folder in sorted({f.resolve() for f in folders}):
        try:
            files = sorted(folder.glob("*.py"))
        except OSError:
            continue
        for file in files:
            file_digest = _file_digest(file)
            if file_digest is not None:
                digest.update(str(file).encode() + b"\0" + file_digest)
    return digest.hexdigest()


#: A file's SHA-256 by its path, with the stat it was read at: the app keys its questions on the
#: user's files at every change of the draft, and a stat is enough to know a file is unchanged.
_FILE_DIGESTS: dict[Path, tuple[tuple[int, int, int], bytes]] = {}


def _file_digest(file: Path) -> bytes | None:
    try:
        stat = file.stat()
        seen = (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)
        known = _FILE_DIGESTS.get(file)
        if known is not None and known[0] == seen:
            return known[1]
        digest = hashlib.sha256(file.read_bytes()).digest()
    except OSError:
        return None
    _FILE_DIGESTS[file] = (seen, digest)
    return digest


def _cache_key(request: dict[str, Any], folders: list[Path]) -> str:
    return hashlib.sha256(
        json.dumps({"v": CACHE_VERSION, "request": request, "code": code_fingerprint(folders)}, sort_keys=True).encode()
    ).hexdigest()
