"""Whether the device an experiment names is on this machine, told without importing torch.

A run on ``cuda`` on a machine without a GPU used to be created, launched and recorded as failed
before it said so; validation now refuses it first, with the words the engine uses when it
resolves the device (``absent_device`` makes them for both). Without torch, only what is certain
is refused: a torch built without CUDA, a Linux machine without the NVIDIA driver, more GPUs than
the driver lists (and ``CUDA_VISIBLE_DEVICES`` lets through), MPS off macOS. Where it cannot be
told (WSL, ROCm, GPUs named by UUID) the engine's own check at the start of the run remains.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
from pathlib import Path

from workbench.errors import ConfigError
from workbench.formatting import counted

_CUDA_INDEX = re.compile(r"^cuda(?::(\d+))?$")


def absent_device(name: str, where: str, *, cuda_count: int | None, mps: bool | None) -> ConfigError | None:
    """The refusal of device ``name`` (``cuda``, ``cuda:N``, ``mps``; lower case) on a machine with
    ``cuda_count`` CUDA devices and MPS or not (None: not known, nothing refused)."""
    cuda = _CUDA_INDEX.match(name)
    if cuda is not None and cuda_count is not None:
        if cuda_count == 0:
            return ConfigError(
                f"{where}: {name!r} requested but CUDA is not available on this machine; use auto or cpu", field=where
            )
        if cuda.group(1) is not None and int(cuda.group(1)) >= cuda_count:
            return ConfigError(
                f"{where}: {name!r} requested but this machine has {counted(cuda_count, 'CUDA device')}", field=where
            )
    if name == "mps" and mps is False:
        return ConfigError(f"{where}: 'mps' requested but Apple's Metal backend is not available; use auto or cpu", field=where)
    return None


def missing_device(name: str, where: str = "train.device") -> ConfigError | None:
    """The refusal of a device this machine certainly lacks, told without torch (cheap: a look at
    two small files and a folder, on every validation)."""
    name = name.strip().lower()
    return absent_device(name, where, cuda_count=visible_cuda_devices(), mps=None if sys.platform == "darwin" else False)


def visible_cuda_devices() -> int | None:
    """CUDA devices a run started now would see, where that is certain without torch; else None."""
    build = _torch_build()
    if build is None or build["hip"]:  # no torch to ask, or ROCm's GPUs (not listed below)
        return None
    if not build["cuda"]:
        return 0
    if sys.platform != "linux" or Path("/dev/dxg").exists():  # WSL's GPUs are not in /proc
        return None
    listed = Path("/proc/driver/nvidia/gpus")
    if not listed.is_dir():
        return 0 if not Path("/dev/nvidiactl").exists() else None
    count = len(list(listed.iterdir()))
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return count
    seen = 0
    for item in visible.split(","):  # CUDA's rule: the list ends at the first id that is not a GPU
        if not item.strip().isdigit():
            return None if item.strip().upper().startswith(("GPU-", "MIG-")) else seen
        if int(item) >= count:
            break
        seen += 1
    return seen


@functools.cache
def _torch_build() -> dict[str, bool] | None:
    """Whether the installed torch was built with CUDA or ROCm, from its ``torch/version.py``
    (not imported: validation runs before torch has loaded). It does not change while we run."""
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return None
    try:
        text = (Path(spec.origin).parent / "version.py").read_text(encoding="utf-8")
    except OSError:
        return None
    built = {}
    for backend in ("cuda", "hip"):
        found = re.search(rf"^{backend}\b[^=]*=\s*(.+)$", text, flags=re.M)
        if found is None:
            return None
        built[backend] = found.group(1).strip() != "None"
    return built
