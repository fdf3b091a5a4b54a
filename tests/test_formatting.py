"""The shared wording of counts: what the CLI and the app both print."""

from __future__ import annotations

from workbench.formatting import counted, counted_of


def test_a_count_of_one_takes_the_singular_and_any_other_the_plural() -> None:
    """The preset-model picker said "1 layers" for the one-backbone presets."""
    assert counted(1, "layer") == "1 layer"
    assert [counted(n, "epoch") for n in (0, 2, 1200)] == ["0 epochs", "2 epochs", "1,200 epochs"]
    assert counted(1, "queued point") == "1 queued point"


def test_a_part_of_a_whole_writes_both_figures_as_a_count_does() -> None:
    """The Runs screen said "1001 of 1001 runs" where `workbench runs` writes 1,001."""
    assert counted_of(1001, 1001, "run") == "1,001 of 1,001 runs"
    assert counted_of(3, 1, "run") == "3 of 1 run"
    assert counted_of(0, 12_000, "run") == "0 of 12,000 runs"
