"""Deterministic kernels (``train.deterministic``), so that a run on a GPU repeats, and resumes, bit for bit.

On the CPU, Workbench's runs repeat anyway. On CUDA, cuDNN's convolution kernels and cuBLAS's
split matrix products add in an order that varies from call to call: two runs of one seed part
in the last bits from the first step (seen on an H200: digits-cnn twice, weights unequal after
two epochs; equal with this switch). PyTorch's switch makes every kernel deterministic or refuses
the op; Workbench turns that refusal into one line naming the op.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

#: The cuBLAS workspace PyTorch's reproducibility notes name for deterministic matrix products.
CUBLAS_WORKSPACE = ":4096:8"
#: What PyTorch says when an op has no deterministic kernel and the switch is on.
NOT_DETERMINISTIC = " does not have a deterministic implementation"


@contextlib.contextmanager
def deterministic_kernels(enabled: bool) -> Iterator[None]:
    """Deterministic kernels inside (when ``enabled``), PyTorch's switch as it was after: a test or
    a command that trains in-process leaves the process as it found it. The cuBLAS workspace is
    read once, at cuBLAS's first call in the process, so it is set before and left set."""
    if not enabled:
        yield
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    with _switched(True):
        yield


@contextlib.contextmanager
def determinism_waived() -> Iterator[None]:
    """Around an op that PyTorch refuses under the switch though its result is exact in any order
    (``histc``'s counts: whole numbers, added exactly below 2**24 whatever the order)."""
    with _switched(False):
        yield


@contextlib.contextmanager
def _switched(on: bool) -> Iterator[None]:
    """PyTorch's deterministic switch ``on`` (refusing, not warning) inside; as it was after."""
    before = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(on)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


def refused_op(error: BaseException) -> str | None:
    """The op PyTorch refused under deterministic kernels (``"put_"``), or None for any other error."""
    text = str(error)
    if not isinstance(error, RuntimeError) or NOT_DETERMINISTIC not in text:
        return None
    return text.split(NOT_DETERMINISTIC)[0].strip().splitlines()[-1]
