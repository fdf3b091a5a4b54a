"""Read TensorBoard event files back as TensorBoard does: every record of every file, in file
order, a session start purging what earlier files hold from its step on. Decoded with the event
protocol buffers the ``tensorboard`` extra installs (tests that use this skip without it)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Scalar:
    step: int
    value: float
    wall_time: float


def read_scalars(folder: Path) -> dict[str, list[Scalar]]:
    """Every scalar under ``folder``, by tag, in the order written."""
    from tensorboardX.proto.event_pb2 import Event, SessionLog

    found: dict[str, list[Scalar]] = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for record in _records(path.read_bytes()):
            event = Event.FromString(record)
            if event.HasField("session_log") and event.session_log.status == SessionLog.START:
                found = {tag: [s for s in scalars if s.step < event.step] for tag, scalars in found.items()}
            for value in event.summary.value:
                found.setdefault(value.tag, []).append(Scalar(event.step, value.simple_value, event.wall_time))
    return {tag: scalars for tag, scalars in found.items() if scalars}


def _records(data: bytes) -> list[bytes]:
    """TFRecord framing: a little-endian u64 length, its CRC, the data, the data's CRC."""
    records, at = [], 0
    while at < len(data):
        (length,) = struct.unpack_from("<Q", data, at)
        records.append(data[at + 12 : at + 12 + length])
        at += 12 + length + 4
    assert at == len(data), "a torn record at the end of the file"
    return records
