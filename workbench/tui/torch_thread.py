"""The one thread on which the app computes with PyTorch (the warm-up, evaluations, sample pictures).

PyTorch's CPU kernels run in parallel with OpenMP, which keeps a team of helper threads for
each thread that calls it. Once two threads have called it, the teams outnumber the cores and
OpenMP stops spinning between kernels: on a 2-core machine every torch computation then runs
about 2x slower (measured with digits-cnn). Textual's thread workers take any thread of a
shared pool, so the app keeps its torch work on this one. Training never runs in the app: it
is a process of its own (:mod:`workbench.scheduling.launch`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_torch_thread: ThreadPoolExecutor | None = None


async def on_torch_thread(work: Callable[[], T]) -> T:
    """Run ``work`` on the app's torch thread; work queued here waits for the work before it."""
    global _torch_thread
    if _torch_thread is None:
        _torch_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-torch")
    return await asyncio.get_running_loop().run_in_executor(_torch_thread, work)
