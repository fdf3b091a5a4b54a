"""The shared wording of counts: what the CLI and the app both print."""

from __future__ import annotations

from workbench.formatting import counted


def test_a_count_of_one_takes_the_singular_and_any_other_the_plural() -> None:
    """The preset-model picker said "1 layers" for the one-backbone presets."""
    assert counted(1, "layer") == "1 layer"
    assert [counted(n, "epoch") for n in (0, 2, 1200)] == ["0 epochs", "2 epochs", "1,200 epochs"]
    assert counted(1, "queued point") == "1 queued point"
