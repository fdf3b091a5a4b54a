"""Schedule: each schedule follows its definition, the preview matches training step for step,
and a run resumed from a checkpointed state continues with exactly the same learning rates."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
import torch
from torch import nn

from workbench.errors import CheckpointError, ConfigError
from workbench.optim.build import Schedule, build_optimizer, build_schedule
from workbench.optim.catalog import SCHEDULES
from workbench.optim.preview import lr_preview
from workbench.schema.config import OptimizerConfig, ScheduleConfig

pytestmark = pytest.mark.filterwarnings("error")  # torch's scheduler warnings would reach users

LR = 0.1
EPOCHS = 4
STEPS = 5  # per epoch
TOTAL = EPOCHS * STEPS

#: Every schedule, with parameters that make it change within a 4-epoch run.
CASES: dict[str, dict[str, Any]] = {
    "constant": {},
    "step": {"step_size": 2, "gamma": 0.5},
    "multistep": {"milestones": "1,3", "gamma": 0.1},
    "exponential": {"gamma": 0.5},
    "cosine": {"eta_min": 0.01},
    "onecycle": {"pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0},
    "plateau": {"factor": 0.5, "patience": 0},
    "polynomial": {"power": 2.0},
}
WARMUPS = [0.0, 1.5]


def test_every_schedule_has_a_case() -> None:
    assert set(CASES) == set(SCHEDULES)


class TinyRun:
    """A real training loop on a tiny model: optimizer.step(), then schedule.after_step(), and
    after_epoch() with the validation loss, as the trainer does."""

    def __init__(self, name: str, warmup: float, optimizer: str = "sgd") -> None:
        torch.manual_seed(0)
        self.model = nn.Linear(3, 2)
        self.optimizer = build_optimizer(OptimizerConfig(optimizer, lr=LR, params={}), self.model.parameters())
        self.schedule = build_schedule(ScheduleConfig(name, warmup, dict(CASES[name])), self.optimizer, EPOCHS, STEPS)
        self.steps = 0
        self.lrs: list[float] = []

    def train(self, steps: int, val_losses: list[float]) -> None:
        """Train ``steps`` more steps; ``val_losses[e]`` is what validation reports after epoch e."""
        x = torch.randn(16, 3)
        y = torch.randint(0, 2, (16,))
        for _ in range(steps):
            assert self.schedule.lr() == self.optimizer.param_groups[0]["lr"]
            self.lrs.append(self.schedule.lr())
            loss = nn.functional.cross_entropy(self.model(x), y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.schedule.after_step()
            self.steps += 1
            if self.steps % STEPS == 0:
                self.schedule.after_epoch(val_losses[self.steps // STEPS - 1])

    def checkpoint(self) -> dict[str, Any]:
        """The states as the trainer saves them, read back the way checkpoints are read."""
        buffer = io.BytesIO()
        torch.save({"optimizer": self.optimizer.state_dict(), "schedule": self.schedule.state_dict()}, buffer)
        buffer.seek(0)
        return torch.load(buffer, weights_only=True)


IMPROVING = [1.0, 0.9, 0.8, 0.7]  # the plateau never fires: the run is what the preview predicts
STALLING = [1.0, 1.2, 0.9, 1.5]  # plateau (patience 0) halves the LR after epochs 2 and 4


@pytest.mark.parametrize("warmup", WARMUPS)
@pytest.mark.parametrize("name", list(CASES))
def test_the_preview_is_what_training_does_step_by_step(name: str, warmup: float) -> None:
    run = TinyRun(name, warmup)
    run.train(TOTAL, IMPROVING)
    preview = lr_preview(OptimizerConfig("sgd", lr=LR), ScheduleConfig(name, warmup, dict(CASES[name])), EPOCHS, STEPS)
    assert list(preview.lrs) == run.lrs
    assert preview.final_lr == run.schedule.lr()
    assert preview.at_epoch_boundaries() == [*run.lrs[::STEPS], run.schedule.lr()]


@pytest.mark.parametrize("warmup", WARMUPS)
@pytest.mark.parametrize("stop_at", [7, 10, 13])  # mid-warmup, an epoch boundary, after the warmup
@pytest.mark.parametrize("name", list(CASES))
def test_a_resumed_run_continues_with_exactly_the_same_learning_rates(name: str, stop_at: int, warmup: float) -> None:
    whole = TinyRun(name, warmup)
    whole.train(TOTAL, STALLING)

    first = TinyRun(name, warmup)
    first.train(stop_at, STALLING)
    saved = first.checkpoint()
    resumed = TinyRun(name, warmup)
    resumed.optimizer.load_state_dict(saved["optimizer"])
    resumed.schedule.load_state_dict(saved["schedule"])
    resumed.steps = stop_at
    resumed.train(TOTAL - stop_at, STALLING)

    assert first.lrs + resumed.lrs == whole.lrs
    assert resumed.schedule.lr() == whole.schedule.lr()


@pytest.mark.parametrize("name", ["onecycle", "step"])
def test_the_order_of_loading_optimizer_and_schedule_state_does_not_matter(name: str) -> None:
    whole = TinyRun(name, 1.5)
    whole.train(TOTAL, STALLING)
    first = TinyRun(name, 1.5)
    first.train(6, STALLING)
    saved = first.checkpoint()
    resumed = TinyRun(name, 1.5)
    resumed.schedule.load_state_dict(saved["schedule"])
    resumed.optimizer.load_state_dict(saved["optimizer"])
    resumed.steps = 6
    resumed.train(TOTAL - 6, STALLING)
    assert first.lrs + resumed.lrs == whole.lrs


def test_another_schedules_state_is_refused() -> None:
    run = TinyRun("cosine", 0.0)
    other = TinyRun("step", 0.0)
    with pytest.raises(CheckpointError, match="does not belong to this run's 'step' schedule"):
        other.schedule.load_state_dict(run.schedule.state_dict())
    with pytest.raises(CheckpointError):
        other.schedule.load_state_dict({"garbage": 1})


def _lrs(name: str, warmup: float = 0.0, **params: Any) -> tuple[list[float], float]:
    """The learning rates of a run, and the one after it, from the real schedule."""
    preview = lr_preview(OptimizerConfig("sgd", lr=LR), ScheduleConfig(name, warmup, params), EPOCHS, STEPS)
    return list(preview.lrs), preview.final_lr


def _per_epoch(values: list[float]) -> list[float]:
    return [v for v in values for _ in range(STEPS)]


def test_constant_keeps_the_learning_rate() -> None:
    assert _lrs("constant") == ([LR] * TOTAL, LR)


def test_step_decays_by_gamma_every_step_size_epochs() -> None:
    lrs, final = _lrs("step", step_size=2, gamma=0.5)
    assert lrs == pytest.approx(_per_epoch([LR, LR, LR / 2, LR / 2]))
    assert final == pytest.approx(LR / 4)


def test_multistep_decays_after_each_milestone_epoch() -> None:
    lrs, final = _lrs("multistep", milestones="1,3", gamma=0.1)
    assert lrs == pytest.approx(_per_epoch([LR, LR / 10, LR / 10, LR / 100]))
    assert final == pytest.approx(LR / 100)


def test_exponential_decays_by_gamma_every_epoch() -> None:
    lrs, final = _lrs("exponential", gamma=0.5)
    assert lrs == pytest.approx(_per_epoch([LR * 0.5**e for e in range(EPOCHS)]))
    assert final == pytest.approx(LR * 0.5**EPOCHS)


def _cosine(step: int, steps: int, eta_min: float) -> float:
    return eta_min + (LR - eta_min) * (1 + math.cos(math.pi * step / steps)) / 2


def test_cosine_anneals_per_step_down_to_eta_min_as_the_run_ends() -> None:
    lrs, final = _lrs("cosine", eta_min=0.01)
    assert lrs == pytest.approx([_cosine(i, TOTAL, 0.01) for i in range(TOTAL)])
    assert final == pytest.approx(0.01)


def test_polynomial_decays_per_step_to_zero_as_the_run_ends() -> None:
    lrs, final = _lrs("polynomial", power=2.0)
    assert lrs == pytest.approx([LR * (1 - i / TOTAL) ** 2 for i in range(TOTAL)])
    assert final == pytest.approx(0.0, abs=1e-15)


def test_onecycle_rises_to_lr_then_falls_far_below_the_start() -> None:
    lrs, final = _lrs("onecycle", pct_start=0.25, div_factor=10.0, final_div_factor=100.0)
    peak = lrs.index(max(lrs))
    assert lrs[0] == pytest.approx(LR / 10)
    assert 4 <= peak <= 5 and max(lrs) == pytest.approx(LR, rel=0.02)
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1 : peak + 1], strict=True))
    assert all(a > b for a, b in zip(lrs[peak:], lrs[peak + 1 :], strict=False))
    assert final == pytest.approx(LR / 10 / 100)  # lands on its minimum as the run ends, not past it


def test_a_linear_warmup_ramps_up_to_where_the_schedule_starts() -> None:
    lrs, _ = _lrs("cosine", warmup=1.0, eta_min=0.0)
    assert lrs[:5] == pytest.approx([LR * (i + 1) / 6 for i in range(5)])
    assert lrs[5:] == pytest.approx([_cosine(i, TOTAL - 5, 0.0) for i in range(TOTAL - 5)])
    lrs, _ = _lrs("onecycle", warmup=1.0, div_factor=10.0)
    assert lrs[:5] == pytest.approx([LR / 10 * (i + 1) / 6 for i in range(5)])
    assert lrs[5] == pytest.approx(LR / 10)


def test_a_fractional_warmup_is_counted_in_steps() -> None:
    lrs, _ = _lrs("constant", warmup=0.4)  # 2 of the 5 steps of an epoch
    assert lrs[:3] == pytest.approx([LR / 3, 2 * LR / 3, LR])
    assert lrs[3:] == pytest.approx([LR] * (TOTAL - 3))


def test_per_epoch_schedules_keep_the_run_epoch_clock_under_a_warmup() -> None:
    lrs, _ = _lrs("step", warmup=1.0, step_size=2, gamma=0.5)
    assert lrs[:5] == pytest.approx([LR * (i + 1) / 6 for i in range(5)])
    assert lrs[5:] == pytest.approx(_per_epoch([LR, LR / 2, LR / 2])[: TOTAL - 5])


def test_a_warmup_longer_than_a_decay_compounds_with_it() -> None:
    lrs, final = _lrs("exponential", warmup=1.5, gamma=0.5)
    assert lrs[:5] == pytest.approx([LR * (i + 1) / 9 for i in range(5)])
    assert lrs[5:8] == pytest.approx([LR * 0.5 * (i + 1) / 9 for i in range(5, 8)])
    assert lrs[8:10] == pytest.approx([LR * 0.5] * 2)
    assert final == pytest.approx(LR * 0.5**4)


def _plateau_run(monitor: str, values: list[float]) -> TinyRun:
    run = TinyRun("plateau", 0.0)
    run.schedule = build_schedule(
        ScheduleConfig("plateau", params={"monitor": monitor, "factor": 0.5, "patience": 1}), run.optimizer, EPOCHS, STEPS
    )
    run.train(TOTAL, values)
    return run


def test_plateau_cuts_the_lr_when_a_loss_stops_falling() -> None:
    run = _plateau_run("val_loss", [1.0, 1.1, 1.2, 1.3])
    assert run.schedule.monitor == "val_loss"
    assert run.lrs == pytest.approx(_per_epoch([LR, LR, LR, LR / 2]))
    assert run.schedule.lr() == pytest.approx(LR / 2)  # patience 1: epochs 3 and 4 were both bad


def test_plateau_watches_an_accuracy_in_the_rising_direction() -> None:
    assert _plateau_run("val_acc", [0.5, 0.6, 0.7, 0.8]).schedule.lr() == LR
    assert _plateau_run("val_acc", [0.5, 0.4, 0.3, 0.2]).lrs == pytest.approx(_per_epoch([LR, LR, LR, LR / 2]))


def test_plateau_without_a_measured_value_keeps_the_lr() -> None:
    run = TinyRun("plateau", 0.0)  # patience 0
    run.schedule.after_epoch(None)
    run.schedule.after_epoch(None)
    assert run.schedule.lr() == LR


def test_stepping_past_the_planned_run_keeps_the_last_lr() -> None:
    run = TinyRun("onecycle", 0.0)
    run.train(TOTAL, IMPROVING)
    end = run.schedule.lr()
    for _ in range(3):
        run.schedule.after_step()  # torch's OneCycleLR would raise here
    assert run.schedule.lr() == end


def test_a_onecycle_rise_torch_cannot_compute_is_a_config_error() -> None:
    optimizer = build_optimizer(OptimizerConfig(), [torch.zeros(1, requires_grad=True)])
    with pytest.raises(ConfigError, match=r"^schedule\.pct_start: 0\.1 makes the rise exactly one step long") as caught:
        build_schedule(ScheduleConfig("onecycle", params={"pct_start": 0.1}), optimizer, 3, 3)
    assert caught.value.field == "schedule.pct_start"


def test_schedules_work_with_adaptive_optimizers_too() -> None:
    run = TinyRun("onecycle", 1.5, optimizer="adam")
    run.train(TOTAL, IMPROVING)
    assert isinstance(run.schedule, Schedule) and run.schedule.lr() == pytest.approx(LR / 10 / 100)
