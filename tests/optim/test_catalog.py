"""The optim catalog: torch-free, every default valid, and every bad value refused naming its field."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workbench.errors import ConfigError
from workbench.experiment.presets import list_presets, read_experiment
from workbench.optim.catalog import (
    LOSSES,
    OPTIMIZERS,
    SCHEDULES,
    check_loss,
    check_optimizer,
    check_schedule,
    choice,
    parse_milestones,
)
from workbench.schema.config import LossConfig, OptimizerConfig, ScheduleConfig


@pytest.mark.slow
def test_importing_the_catalog_and_the_package_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "import workbench.optim.catalog\n"
        "from workbench.optim import OPTIMIZERS, check_optimizer\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_every_default_passes_its_own_check() -> None:
    for name, entry in LOSSES.items():
        assert check_loss(LossConfig(name, {p.name: p.default for p in entry.params})) == []
    for name, entry in OPTIMIZERS.items():
        assert check_optimizer(OptimizerConfig(name, params={p.name: p.default for p in entry.params})) == []
    for name, entry in SCHEDULES.items():
        assert check_schedule(ScheduleConfig(name, params={p.name: p.default for p in entry.params}), epochs=10) == []


@pytest.mark.parametrize("preset", [entry.name for entry in list_presets()])
def test_every_shipped_preset_uses_valid_choices(preset: str) -> None:
    experiment = read_experiment(preset)
    assert check_optimizer(experiment.optimizer) == []
    assert check_schedule(experiment.schedule, experiment.train.epochs) == []
    assert check_loss(experiment.loss) == []


def test_an_unknown_name_lists_the_allowed_ones_and_suggests_the_closest() -> None:
    with pytest.raises(ConfigError) as caught:
        choice(OPTIMIZERS, "adm", "optimizer.name", "optimizer")
    assert str(caught.value) == (
        "optimizer.name: unknown optimizer 'adm' (did you mean 'adam'?); allowed: sgd, adam, adamw, rmsprop, adagrad, adadelta"
    )
    assert caught.value.field == "optimizer.name"
    [problem] = check_schedule(ScheduleConfig("warmup_cosine"))
    assert problem.field == "schedule.name" and "allowed: constant, step" in str(problem)


def test_nesterov_without_momentum_names_the_momentum_field() -> None:
    [problem] = check_optimizer(OptimizerConfig("sgd", params={"nesterov": True}))
    assert problem.field == "optimizer.momentum"
    assert str(problem).startswith("optimizer.momentum: Nesterov momentum needs momentum > 0")


def test_nesterov_with_dampening_names_the_dampening_field() -> None:
    problems = check_optimizer(OptimizerConfig("sgd", params={"nesterov": True, "momentum": 0.9, "dampening": 0.1}))
    assert [p.field for p in problems] == ["optimizer.dampening"]
    assert not check_optimizer(OptimizerConfig("sgd", params={"nesterov": True, "momentum": 0.9}))


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("adam", {"beta1": 1.0}, "optimizer.beta1"),
        ("adamw", {"beta2": 1.0}, "optimizer.beta2"),
        ("rmsprop", {"alpha": 1.0}, "optimizer.alpha"),
    ],
)
def test_decay_rates_must_stay_below_one(name: str, params: dict, field: str) -> None:
    [problem] = check_optimizer(OptimizerConfig(name, params=params))
    assert problem.field == field
    assert str(problem) == f"{field}: 1.0 is not allowed; expected a number >= 0 and < 1"


def test_every_bad_parameter_is_reported_with_its_field() -> None:
    problems = check_optimizer(OptimizerConfig("sgd", params={"momentum": -0.5, "weight_decay": "lots", "betas": 0.9}))
    assert [p.field for p in problems] == ["optimizer.momentum", "optimizer.weight_decay", "optimizer.betas"]
    assert str(problems[0]) == "optimizer.momentum: -0.5 is not allowed; expected a number >= 0 and <= 1"
    assert str(problems[2]).startswith("optimizer.betas: unknown parameter for optimizer sgd; allowed: momentum,")


def test_rules_do_not_report_on_a_default_standing_in_for_a_rejected_value() -> None:
    problems = check_optimizer(OptimizerConfig("sgd", params={"nesterov": True, "momentum": "high"}))
    assert [p.field for p in problems] == ["optimizer.momentum"]
    assert "'high' is not allowed" in str(problems[0])


def test_the_section_name_given_is_used_in_every_message() -> None:
    [problem] = check_optimizer(OptimizerConfig("sgd", params={"nesterov": True}), where="draft.optimizer")
    assert problem.field == "draft.optimizer.momentum"


@pytest.mark.parametrize(("text", "epochs"), [("30,60", [30, 60]), (" 5, 8 ,13", [5, 8, 13]), ("7", [7])])
def test_milestones_are_increasing_epochs_written_as_text(text: str, epochs: list[int]) -> None:
    assert parse_milestones(text) == epochs


@pytest.mark.parametrize("text", ["60,30", "5,5", "0,5", "-1,5", "1.5", "", "5,", "ten", "\u00b2"])
def test_bad_milestones_are_refused_naming_the_field(text: str) -> None:
    [problem] = check_schedule(ScheduleConfig("multistep", params={"milestones": text}))
    assert problem.field == "schedule.milestones"
    assert str(problem) == (
        f'schedule.milestones: {text!r} is not allowed; expected increasing epochs > 0 separated by commas, e.g. "30,60"'
    )


def test_milestones_written_as_a_toml_list_are_refused_naming_the_field() -> None:
    [problem] = check_schedule(ScheduleConfig("multistep", params={"milestones": [30, 60]}))
    assert problem.field == "schedule.milestones"


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [("plateau", {"factor": 1.0}, "schedule.factor"), ("onecycle", {"pct_start": 1.0}, "schedule.pct_start")],
)
def test_schedule_rates_that_must_stay_below_one(name: str, params: dict, field: str) -> None:
    [problem] = check_schedule(ScheduleConfig(name, params=params))
    assert problem.field == field


def test_the_warmup_must_end_before_the_run() -> None:
    assert check_schedule(ScheduleConfig("cosine", warmup_epochs=9.5), epochs=10) == []
    [problem] = check_schedule(ScheduleConfig("cosine", warmup_epochs=10), epochs=10)
    assert problem.field == "schedule.warmup_epochs"
    assert str(problem) == (
        "schedule.warmup_epochs: 10 is not allowed; the warmup must end before the run does (train.epochs = 10)"
    )


def test_losses_know_which_tasks_they_fit() -> None:
    assert {n for n, c in LOSSES.items() if "classification" in c.tasks} == {"cross_entropy", "bce_with_logits"}
    assert {n for n, c in LOSSES.items() if "regression" in c.tasks} == {"mse", "l1", "smooth_l1"}
    [problem] = check_loss(LossConfig("mse"), task="classification")
    assert problem.field == "loss.name"
    assert str(problem) == "loss.name: mse does not fit a classification dataset; use one of cross_entropy, bce_with_logits"
    assert check_loss(LossConfig("bce_with_logits"), task="classification") == []
    [problem] = check_loss(LossConfig("cross_entropy", {"label_smoothing": 1.5}))
    assert problem.field == "loss.label_smoothing"


def test_only_per_step_schedules_are_marked_per_step() -> None:
    assert {n for n, c in SCHEDULES.items() if c.per_step} == {"cosine", "onecycle", "polynomial"}
