"""Which samples a preview shows: the same ones every time, every class in turn.

Used by the Data screen's previews (:mod:`workbench.data.preview`) and by the probe's child,
which picks the pictures of a code data set from the items it read
(:mod:`workbench.data.sources.code_items`); numpy alone, so both import it cheaply.
"""

from __future__ import annotations

import numpy as np

#: Constant, so that the Data screen shows the same samples every time.
PREVIEW_SEED = 0


def pick_samples(targets: np.ndarray, count: int, classification: bool) -> np.ndarray:
    """Indices of ``count`` samples in a fixed random order; classes take turns when classifying."""
    order = np.random.default_rng(PREVIEW_SEED).permutation(len(targets))
    if classification:
        labels = targets[order]
        by_class = np.argsort(labels, kind="stable")
        sorted_labels = labels[by_class]
        turn = np.empty(len(order), dtype=np.int64)
        turn[by_class] = np.arange(len(order)) - np.searchsorted(sorted_labels, sorted_labels)
        order = order[np.lexsort((labels, turn))]
    return order[:count]
