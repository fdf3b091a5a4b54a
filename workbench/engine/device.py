"""Where and how a model runs: device choice, mixed precision and model wrapping.

Training and evaluation both go through these functions, so that ``workbench eval`` computes a
checkpoint's metrics exactly as the end of training did (same device rules, same autocast, same
memory format).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import cast

import torch
from torch import nn

from workbench.engine.distributed import Team
from workbench.errors import ConfigError
from workbench.experiment.devices import absent_device
from workbench.formatting import counted
from workbench.model.memory import byte_size
from workbench.schema.config import TrainConfig


def resolve_device(name: str, where: str = "train.device") -> torch.device:
    """``auto`` -> cuda, then mps, then cpu; anything else must exist on this machine."""
    name = name.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"{where}: {name!r} is not a device; use auto, cpu, cuda, cuda:N or mps", field=where) from None
    if device.type == "cpu":
        return device
    if device.type in ("cuda", "mps"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        absent = absent_device(str(device), where, cuda_count=count, mps=_mps_available())
        if absent is not None:
            raise absent
        return device
    raise ConfigError(f"{where}: {name!r} is not supported; use auto, cpu, cuda, cuda:N or mps", field=where)


def device_memory(device: torch.device) -> int | None:
    """Bytes of memory the device has in all (None where it cannot be told, as on MPS)."""
    if device.type == "cuda":
        return int(torch.cuda.get_device_properties(device.index or 0).total_memory)
    if device.type == "cpu":
        try:
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):  # not a POSIX system
            return None
    return None


def device_name(device: torch.device) -> str:
    """A human name for the device ("NVIDIA H100 80GB HBM3", "Apple GPU", "CPU (2 threads)")."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (mps)"
    return f"CPU ({counted(torch.get_num_threads(), 'thread')})"


def available_devices() -> list[tuple[str, str]]:
    """(name for ``train.device``, description) of cpu, each CUDA GPU with its memory, and mps."""
    found = [("cpu", device_name(torch.device("cpu")))]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            found.append((f"cuda:{index}", f"{props.name}, {byte_size(props.total_memory)}"))
    if _mps_available():
        found.append(("mps", device_name(torch.device("mps"))))
    return found


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


@dataclass(frozen=True)
class Precision:
    """The autocast dtype of a run (None: plain fp32) on its device type."""

    device_type: str
    dtype: torch.dtype | None = None

    @property
    def label(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    @property
    def needs_grad_scaler(self) -> bool:
        """fp16 gradients underflow without loss scaling; bf16 has fp32's range and needs none."""
        return self.dtype == torch.float16

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)


def resolve_precision(requested: str, device: torch.device) -> tuple[Precision, list[str]]:
    """Mixed precision applies on CUDA only: ``auto`` picks bf16 where the GPU supports it, else fp16.

    Returns the precision and warnings for requests that cannot be honoured.
    """
    if device.type != "cuda":
        warnings = (
            []
            if requested in ("fp32", "auto")
            else [f"train.precision={requested} applies on CUDA only; training in fp32 on {device.type}"]
        )
        return Precision(device.type), warnings
    bf16_ok = torch.cuda.is_bf16_supported()
    if requested == "fp32":
        return Precision("cuda"), []
    if requested == "bf16" and not bf16_ok:
        return Precision("cuda", torch.float16), ["this GPU does not support bf16; using fp16 with loss scaling"]
    if requested == "fp16" or (requested == "auto" and not bf16_ok):
        return Precision("cuda", torch.float16), []
    return Precision("cuda", torch.bfloat16), []


@dataclass
class PreparedModel:
    """The model as built (``module``: what checkpoints save) and as called (``model``)."""

    module: nn.Module
    model: nn.Module
    channels_last: bool = False
    warnings: list[str] = field(default_factory=list)

    def for_evaluation(self) -> PreparedModel:
        """The plain module (no DistributedDataParallel, no compile): how ``workbench eval`` runs a checkpoint."""
        return PreparedModel(self.module, self.module, self.channels_last)

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Put an input batch in the memory format the model was prepared for."""
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x


def prepare_model(
    module: nn.Module, train: TrainConfig, device: torch.device, *, for_training: bool, team: Team | None = None
) -> PreparedModel:
    """Move the model to the device and apply channels_last, DistributedDataParallel (a ``team``
    of several workers) and compile as configured.

    Evaluation (``for_training=False``) uses the plain module on one device, so that the test
    metrics at the end of training and a later ``workbench eval`` are computed the same way.
    """
    module = module.to(device)
    channels_last = train.channels_last and device.type == "cuda" and _has_conv(module)
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    prepared = PreparedModel(module, module, channels_last)
    if not for_training:
        return prepared
    if team is not None:
        prepared.model, warnings = team.wrap(prepared.model, device, train.sync_batchnorm)
        prepared.warnings += warnings
    if train.compile:
        # torch's stubs type compile() as returning any callable; given a module it returns one (OptimizedModule).
        prepared.model = cast(nn.Module, torch.compile(prepared.model))
    return prepared


def _has_conv(module: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in module.modules())
