"""The checkpoint file format: a versioned dict of plain data and tensors.

A checkpoint holds everything a run needs to continue exactly where it was: the experiment
(as plain data, never pickled objects), model, optimizer, schedule and grad-scaler states, the
position (epoch and step), best-metric and early-stopping state, and the random number
generators. It is written atomically and read only with ``torch.load(weights_only=True)``, so a
hostile file cannot run code: it is refused with a :class:`CheckpointError` naming the file.

Every checkpoint carries a SHA-256 of its content (each tensor's bytes, dtype and shape, and
every plain value, in order), verified on every read: torch's zip container does not check its
own CRCs, so a flipped bit in a weight would otherwise load silently. Files of format 1 (before
the checksum) are still read, unchecked.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import re
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from workbench import __version__
from workbench.atomic import atomic_write_bytes
from workbench.errors import CheckpointError

FORMAT = "workbench-checkpoint"
#: Bump when a reader of the previous version could not use a new file correctly.
#: 2: the ``checksum`` of the content.
FORMAT_VERSION = 2
CHECKSUM_KEY = "checksum"

#: What every checkpoint has; readers may rely on these keys.
REQUIRED_KEYS = ("config", "model", "epoch", "step")


def encode_checkpoint(state: dict[str, Any]) -> bytes:
    """Serialise ``state`` with the format header (``torch.save`` into memory)."""
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "workbench_version": __version__,
        "torch_version": str(torch.__version__),
        "saved_at": time.time(),
        **state,
    }
    payload[CHECKSUM_KEY] = content_checksum(payload)
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def write_checkpoint(data: bytes, paths: Iterable[Path]) -> None:
    """Write one serialised checkpoint to each path, atomically: a crash leaves old or new files."""
    for path in paths:
        atomic_write_bytes(path, data)


def read_checkpoint(path: Path) -> dict[str, Any]:
    """Load and check a checkpoint; anything corrupt, foreign, newer or hostile raises CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols; we report instead
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(f"{path}: refused: {_refusal_reason(error)}; nothing in it was run") from None
    except Exception as error:  # noqa: BLE001 - any failure to read (struct.error, IndexError...) is one line
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint ({reason})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Workbench checkpoint")
    version = payload.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"{path}: not a Workbench checkpoint (no format version)")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: written by a newer Workbench (checkpoint format {version}; this one reads up to "
            f"{FORMAT_VERSION}); upgrade Workbench to open it"
        )
    if version >= 2:
        stored = payload.pop(CHECKSUM_KEY, None)
        try:
            matches = stored == content_checksum(payload)
        except Exception:  # noqa: BLE001 - content the checksum cannot even walk is corrupt
            matches = False
        if not matches:
            raise CheckpointError(f"{path}: corrupt checkpoint (its content does not match its checksum)")
    missing = [key for key in REQUIRED_KEYS if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: not a complete Workbench checkpoint (missing {', '.join(missing)})")
    return payload


def content_checksum(payload: dict[str, Any]) -> str:
    """SHA-256 over the checkpoint's content, the ``checksum`` entry itself left out."""
    digest = hashlib.sha256()
    _feed(digest, {key: value for key, value in payload.items() if key != CHECKSUM_KEY})
    return "sha256:" + digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    """Add ``value`` to the digest, tagged by kind so that different structures never collide."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        digest.update(f"D{len(value)};".encode())
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
    elif isinstance(value, list | tuple):
        digest.update(f"{'L' if isinstance(value, list) else 'U'}{len(value)};".encode())
        for item in value:
            _feed(digest, item)
    else:  # plain values, and what else weights_only loads (torch.Size, dtype, device): by repr
        digest.update(f"{type(value).__name__}:{value!r};".encode())


def _refusal_reason(error: pickle.UnpicklingError) -> str:
    """The useful part of torch's weights-only refusal, without its advice to load unsafely."""
    text = str(error)
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text) or re.search(r"Unsupported operand \S+", text)
    if found and found.groups():
        return f"it would load {found.group(1)}, which a checkpoint must not contain"
    if found:
        return f"not a checkpoint that can be read safely ({found.group(0).lower()} in its pickle data)"
    return "not a checkpoint that can be read safely (its pickle data could run code)"
