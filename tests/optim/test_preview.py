"""lr_preview: the shape of the answer the schedule chart and `workbench describe` read."""

from __future__ import annotations

import pytest

from workbench.errors import ConfigError
from workbench.optim.preview import lr_preview
from workbench.schema.config import OptimizerConfig, ScheduleConfig

pytestmark = pytest.mark.filterwarnings("error")


def test_epoch_boundaries_are_each_epochs_first_lr_then_where_the_run_ends() -> None:
    preview = lr_preview(OptimizerConfig("sgd", lr=0.2), ScheduleConfig("step", params={"step_size": 1, "gamma": 0.5}), 3, 7)
    assert len(preview.lrs) == 21 and (preview.epochs, preview.steps_per_epoch) == (3, 7)
    assert preview.at_epoch_boundaries() == pytest.approx([0.2, 0.1, 0.05, 0.025])
    assert all(isinstance(lr, float) for lr in preview.lrs)


def test_a_single_step_run_previews_even_with_a_warmup_asked_for() -> None:
    preview = lr_preview(OptimizerConfig(lr=0.2), ScheduleConfig("onecycle", warmup_epochs=0.5), 1, 1)
    assert len(preview.lrs) == 1 and 0 < preview.lrs[0] <= 0.2
    assert preview.final_lr == pytest.approx(0.2 / 25 / 1e4)


def test_only_the_plateau_preview_carries_a_note_naming_what_it_waits_for() -> None:
    plateau = lr_preview(OptimizerConfig(lr=0.1), ScheduleConfig("plateau", params={"monitor": "val_acc"}), 4, 3)
    assert plateau.lrs == (0.1,) * 12
    assert "drawn flat" in plateau.note and "val_acc" in plateau.note
    assert lr_preview(OptimizerConfig(lr=0.1), ScheduleConfig("cosine"), 4, 3).note == ""


def test_a_long_run_previews_every_step() -> None:
    preview = lr_preview(OptimizerConfig("adam", lr=1e-3), ScheduleConfig("cosine", warmup_epochs=2), 200, 500)
    assert len(preview.lrs) == 100_000
    assert max(preview.lrs) == pytest.approx(1e-3)
    assert preview.final_lr == pytest.approx(0.0, abs=1e-12)


def test_a_bad_section_is_refused_naming_its_field() -> None:
    with pytest.raises(ConfigError, match=r"^schedule\.milestones: '8,4' is not allowed"):
        lr_preview(OptimizerConfig(), ScheduleConfig("multistep", params={"milestones": "8,4"}), 10, 5)
    with pytest.raises(ConfigError, match=r"^optimizer\.momentum: Nesterov momentum needs momentum > 0"):
        lr_preview(OptimizerConfig("sgd", params={"nesterov": True}), ScheduleConfig(), 10, 5)
    with pytest.raises(ConfigError, match=r"^schedule\.warmup_epochs: 10 is not allowed"):
        lr_preview(OptimizerConfig(), ScheduleConfig(warmup_epochs=10), 10, 5)
