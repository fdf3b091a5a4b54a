"""Synthetic token sequences where order matters: which of two marker tokens comes first.

Each sequence is filler tokens with two different markers (A, B, C, ...) at random places; its
class is the marker that comes first. Both markers of a sequence are present in it whichever
class it is, so counting tokens (a bag of words) gets half of them wrong; a model must read the
sequence in order, as a GRU or an LSTM does. Generated from a data seed, so it trains offline
and the same options always give the same sequences. Samples are int64 token ids ``(N, length)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.data.raw import RawDataset

MARKERS = "ABCDEFGH"


def class_names(classes: int) -> tuple[str, ...]:
    """A marker's class is named by the marker: ids 0..classes-1 are the markers."""
    return tuple(MARKERS[:classes])


def vocab_size(options: dict[str, Any]) -> int:
    """Markers first (their ids are their classes), then the filler tokens."""
    return int(options["classes"] + options["filler_tokens"])


def token_text(ids: Any, classes: int) -> str:
    """A sequence as its tokens read: markers as letters, filler as ``·``: ``··A····C··``."""
    return "".join(MARKERS[i] if i < classes else "·" for i in map(int, ids))


def make_first_marker(options: dict[str, Any]) -> RawDataset:
    """``samples_per_class`` sequences per class, of ``length`` tokens each."""
    import numpy as np  # here, not at the top: validating an experiment (the app's first frame) needs no numpy

    from workbench.data.raw import split_fixed

    classes, per_class, length = options["classes"], options["samples_per_class"], options["length"]
    rng = np.random.default_rng(options["data_seed"])
    count = classes * per_class
    labels = np.repeat(np.arange(classes, dtype=np.int64), per_class)
    second = (labels + rng.integers(1, classes, size=count)) % classes  # any other marker
    tokens = rng.integers(classes, vocab_size(options), size=(count, length), dtype=np.int64)
    places = np.sort(rng.random((count, length)).argsort(axis=1)[:, :2], axis=1)  # two distinct, in order
    rows = np.arange(count)
    tokens[rows, places[:, 0]] = labels
    tokens[rows, places[:, 1]] = second
    return split_fixed(tokens, labels, class_names(classes), "first-marker")
