"""Where the app computes with PyTorch: its one torch thread, or a child process for work that
runs the user's own code.

PyTorch's CPU kernels run in parallel with OpenMP, which keeps a team of helper threads for
each thread that calls it. Once two threads have called it, the teams outnumber the cores and
OpenMP stops spinning between kernels: on a 2-core machine every torch computation then runs
about 2x slower (measured with digits-cnn). Textual's thread workers take any thread of a
shared pool, so the app keeps its torch work on this one. Training never runs in the app: it
is a process of its own (:mod:`workbench.scheduling.launch`).

Work that imports the user's code (evaluating a run of their model or data set, its pictures,
a prediction, the LR finder on such a draft) runs in a child process instead
(:func:`in_child_process`): the app never imports user code, so code that crashes, prints over
the screen, calls ``sys.exit`` or leaves modules behind cannot touch it. The child's output
goes nowhere; any way it ends without an answer is one line.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import select
import struct
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import IO, Any, TypeVar

from workbench.errors import WorkbenchError, describe_error

T = TypeVar("T")

_torch_thread: ThreadPoolExecutor | None = None
#: How often the thread that waits on a child looks at whether it was cancelled (seconds).
_POLL_S = 0.1
#: The child: a fresh interpreter (not a fork of the app: its threads, its terminal, its modules)
#: that reads its work from standard input and answers on what was its standard output.
_CHILD = "from workbench.tui.torch_thread import child_main; child_main()"
#: A message's length, before it.
_HEADER = struct.Struct("!Q")
#: In the child: where its answers and report_progress go.
_answers: IO[bytes] | None = None


async def on_torch_thread(work: Callable[[], T]) -> T:
    """Run ``work`` on the app's torch thread; work queued here waits for the work before it."""
    global _torch_thread
    if _torch_thread is None:
        _torch_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-torch")
    return await asyncio.get_running_loop().run_in_executor(_torch_thread, work)


class ChildCancelled(WorkbenchError):
    """The work in a child process was cancelled: the child was ended."""


async def in_child_process(
    what: str,
    work: Callable[..., T],
    *args: Any,
    progress: Callable[[Any], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> T:
    """``work(*args)`` in a child process of its own (``work`` a module-level function, its
    arguments and result picklable), waited on by a thread: its result, or its error raised
    here. ``what`` names the work in the line said when the child ends without an answer.
    ``progress`` gets what the work passes to :func:`report_progress`, on the waiting thread;
    once ``cancelled()`` is true the child is ended and :class:`ChildCancelled` raised."""
    wait = partial(_run_child, what, work, args, progress, cancelled or (lambda: False))
    return await asyncio.get_running_loop().run_in_executor(None, wait)


def report_progress(value: Any) -> None:
    """In a child of :func:`in_child_process`: send ``value`` to its ``progress`` callback."""
    if _answers is not None:
        _send(_answers, ("progress", value))


def _run_child(
    what: str,
    work: Callable[..., T],
    args: tuple[Any, ...],
    progress: Callable[[Any], None] | None,
    cancelled: Callable[[], bool],
) -> T:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # no terminal, and no signal meant for the app
    )
    assert child.stdin is not None and child.stdout is not None
    ended = f"{what}: its process ended before it answered"
    try:
        try:
            child.stdin.write(pickle.dumps(sys.path) + pickle.dumps((work, args)))  # where the work's module is found
            child.stdin.close()
        except BrokenPipeError:
            pass  # it ended at once: said below
        while True:
            if cancelled():
                raise ChildCancelled(f"{what}: cancelled")
            if not select.select([child.stdout], [], [], _POLL_S)[0]:
                continue
            message = _receive(child.stdout)
            if message is None:
                raise WorkbenchError(f"{ended} (exit status {child.wait()})")
            kind, value = message
            if kind == "progress":
                if progress is not None:
                    progress(value)
            elif kind == "done":
                return value  # type: ignore[no-any-return]
            else:
                raise _rebuilt(value)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()


def child_main() -> None:
    """The child: reads its work, leaves it no terminal (what the user's code prints goes
    nowhere), sends its answer, and ends in a way no thread or exit hook of the user's code can
    hold up."""
    global _answers
    _answers = os.fdopen(os.dup(1), "wb")
    try:
        sys.path[:] = pickle.load(sys.stdin.buffer)
        work, args = pickle.load(sys.stdin.buffer)
        quiet = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(quiet, fd)
        _send(_answers, ("done", work(*args)))
    except BaseException as error:  # noqa: BLE001 - every way the work fails is an answer, sys.exit included
        try:
            _send(_answers, ("failed", _portable(error)))
        except Exception:  # noqa: BLE001 - an error that cannot be sent is said in one line
            _send(_answers, ("failed", (WorkbenchError, (describe_error(error),), {})))
    finally:
        os._exit(0)


def _send(stream: IO[bytes], message: tuple[str, Any]) -> None:
    data = pickle.dumps(message)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> tuple[str, Any] | None:
    """The next message, or None when the child ended without sending one whole."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        return None
    kind, value = pickle.loads(data)
    return str(kind), value


def _portable(error: BaseException) -> tuple[type[BaseException], tuple[Any, ...], dict[str, Any]]:
    """An error as its class, args and attributes: rebuilt without calling its ``__init__``
    (one with other arguments, ``ImageSizeError(reason)``, comes back as it was)."""
    portable = (type(error), error.args, dict(vars(error)))
    pickle.dumps(portable)  # raises here, in the child, when something in it cannot travel
    return portable


def _rebuilt(value: tuple[type[BaseException], tuple[Any, ...], dict[str, Any]]) -> BaseException:
    kind, args, state = value
    if not issubclass(kind, Exception):  # SystemExit, KeyboardInterrupt: never raised in the app
        return WorkbenchError(describe_error(kind(*args)))
    error = kind.__new__(kind)
    error.args = args
    vars(error).update(state)
    return error
