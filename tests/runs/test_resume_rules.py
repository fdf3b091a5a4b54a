"""The resume rules that are plain arithmetic (the ones that look at a run's folder are tested
through the trainer in tests/engine/test_final_test_resume.py)."""

from __future__ import annotations

import pytest

from workbench.runs.resume_rules import suggested_total


@pytest.mark.parametrize(("epochs", "total"), [(1, 2), (2, 3), (3, 4), (10, 15)])
def test_training_a_finished_run_further_proposes_half_as_many_again_and_at_least_one(epochs: int, total: int) -> None:
    assert suggested_total(epochs) == total
