"""Small formatting helpers shared by the commands and the app: counts, shapes, durations."""

from __future__ import annotations

import math
from collections.abc import Sequence


def count(value: int) -> str:
    """``61706`` -> ``61,706``."""
    return f"{value:,}"


def counted(value: int, noun: str) -> str:
    """``1, "layer"`` -> ``1 layer``; ``1200, "layer"`` -> ``1,200 layers`` (nouns that take an s)."""
    return f"{count(value)} {noun}{'' if value == 1 else 's'}"


def counted_of(part: int, whole: int, noun: str) -> str:
    """``3, 1001, "run"`` -> ``3 of 1,001 runs``: how many of a whole are shown, each figure as
    :func:`count` writes it (the Runs screen said ``1001 of 1001 runs`` where the CLI says 1,001)."""
    return f"{count(part)} of {counted(whole, noun)}"


def shape(dims: Sequence[int]) -> str:
    """``(16, 5, 5)`` -> ``16x5x5``."""
    return "x".join(str(d) for d in dims) if dims else "-"


def duration(seconds: float) -> str:
    """``754.2`` -> ``12m34s``; ``9.87`` -> ``9.9s``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def rate(per_second: float) -> str:
    """Samples per second in at most 6 characters: ``383`` -> ``383/s``, ``3512`` -> ``3.5k/s``,
    ``38_120`` -> ``38k/s``, ``2.4e6`` -> ``2.4M/s``."""
    for scale, unit in ((1e6, "M"), (1e3, "k")):
        if per_second >= scale:
            value = per_second / scale
            return f"{value:.2g}{unit}/s" if value < 10 else f"{value:.0f}{unit}/s"
    return f"{per_second:.0f}/s"


def short_count(value: int) -> str:
    """A count in at most 5 characters, for a narrow column: ``193``, ``53.2k``, ``670k``, ``11.2M``."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g}{unit}"
    return str(value)


def short_number(value: float) -> str:
    """Three significant digits, and an exponent without padding: ``0.01`` -> ``0.01``,
    ``0.000734`` -> ``7.34e-4``, ``1e-4`` -> ``1e-4`` (a learning rate in a narrow line)."""
    if value == 0 or abs(value) >= 1e-3:
        return f"{value:.3g}"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def metrics_text(metrics: dict[str, float]) -> str:
    """``{"loss": 0.41234, "acc": 0.8712}`` -> ``loss 0.4123  acc 0.871``: losses and errors to
    four places, scores to three; the CLI and the app print metrics with this one function."""
    return "  ".join(
        f"{name} {value:.4f}" if name in ("loss", "mse", "mae") else f"{name} {value:.3f}" for name, value in metrics.items()
    )


def decades(low: float, high: float, width: int, label_columns: int = 6) -> list[int]:
    """The whole decades (powers of ten) to label on a log axis from ``10**low`` to ``10**high``
    that is ``width`` columns wide: every one when their labels fit, else every 2nd, 3rd... (the
    LR finder's chart, in the app and in ``workbench lr-find``)."""
    every = range(math.ceil(low), math.floor(high) + 1)
    step = next((n for n in (1, 2, 3, 4, 5, 10) if len(every[::n]) * label_columns <= width), 10)
    return [d for d in every if d % step == 0]
