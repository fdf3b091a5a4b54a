"""Small formatting helpers shared by the commands and the app: counts, shapes, durations."""

from __future__ import annotations

from collections.abc import Sequence


def count(value: int) -> str:
    """``61706`` -> ``61,706``."""
    return f"{value:,}"


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


def metrics_text(metrics: dict[str, float]) -> str:
    """``{"loss": 0.41234, "acc": 0.8712}`` -> ``loss 0.4123  acc 0.871``: losses and errors to
    four places, scores to three; the CLI and the app print metrics with this one function."""
    return "  ".join(
        f"{name} {value:.4f}" if name in ("loss", "mse", "mae") else f"{name} {value:.3f}" for name, value in metrics.items()
    )
