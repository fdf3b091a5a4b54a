"""build_loss and build_optimizer: the catalog's knobs reach the real torch objects, which train."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau

from workbench.errors import ConfigError
from workbench.optim.build import build_loss, build_optimizer, build_schedule
from workbench.optim.catalog import LOSSES, OPTIMIZERS
from workbench.schema.config import LossConfig, OptimizerConfig, ScheduleConfig

pytestmark = pytest.mark.filterwarnings("error")

#: Every optimizer with every knob away from its default (sgd twice: Nesterov forbids dampening).
NON_DEFAULT: list[tuple[str, dict[str, Any]]] = [
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ("sgd", {"momentum": 0.5, "dampening": 0.1}),
    ("adam", {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 1e-3, "amsgrad": True}),
    ("adamw", {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True}),
    ("rmsprop", {"alpha": 0.9, "eps": 1e-6, "weight_decay": 1e-3, "momentum": 0.5, "centered": True}),
    ("adagrad", {"lr_decay": 0.01, "weight_decay": 1e-3, "eps": 1e-8}),
    ("adadelta", {"rho": 0.8, "eps": 1e-5, "weight_decay": 1e-3}),
]


def test_the_non_default_cases_cover_every_optimizer_knob() -> None:
    covered = {(name, key) for name, params in NON_DEFAULT for key in params}
    assert covered == {(name, p.name) for name, c in OPTIMIZERS.items() for p in c.params}


def _regression_batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(32, 4, generator=generator)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])


@pytest.mark.parametrize(("name", "params"), NON_DEFAULT, ids=[f"{n}-{i}" for i, (n, _) in enumerate(NON_DEFAULT)])
def test_every_optimizer_builds_with_its_params_and_trains(name: str, params: dict[str, Any]) -> None:
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = build_optimizer(OptimizerConfig(name, lr=0.05, params=params), model.parameters())
    group = optimizer.param_groups[0]
    assert group["lr"] == 0.05
    for key, value in params.items():
        if key in ("beta1", "beta2"):
            assert group["betas"][("beta1", "beta2").index(key)] == value
        else:
            assert group[key] == value
    x, y = _regression_batch()
    losses = []
    for _ in range(20):
        loss = nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


@pytest.mark.parametrize(
    ("params", "refused_by_torch"),
    [
        ({"nesterov": True}, {"nesterov": True}),
        ({"nesterov": True, "momentum": 0.9, "dampening": 0.5}, {"nesterov": True, "momentum": 0.9, "dampening": 0.5}),
    ],
)
def test_sgd_rules_refuse_what_torch_refuses_but_name_the_field(params: dict, refused_by_torch: dict) -> None:
    with pytest.raises(ValueError, match="Nesterov"):
        torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1, **refused_by_torch)
    with pytest.raises(ConfigError, match=r"^optimizer\.(momentum|dampening): Nesterov momentum needs"):
        build_optimizer(OptimizerConfig("sgd", params=params), nn.Linear(2, 1).parameters())


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_a_beta_of_one_is_refused_like_torch_does(name: str) -> None:
    with pytest.raises(ValueError, match="beta"):
        torch.optim.Adam(nn.Linear(2, 1).parameters(), betas=(0.9, 1.0))
    with pytest.raises(ConfigError, match=r"^optimizer\.beta2: 1\.0 is not allowed"):
        build_optimizer(OptimizerConfig(name, params={"beta2": 1.0}), nn.Linear(2, 1).parameters())


def test_a_plateau_factor_of_one_is_refused_like_torch_does() -> None:
    optimizer = torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="Factor"):
        ReduceLROnPlateau(optimizer, factor=1.0)
    with pytest.raises(ConfigError, match=r"^schedule\.factor: 1\.0 is not allowed"):
        build_schedule(ScheduleConfig("plateau", params={"factor": 1.0}), optimizer, 3, 2)


def _targets(task: str) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    outputs = torch.randn(8, 3, generator=generator, requires_grad=True)
    if task == "classification":
        return outputs, torch.randint(0, 3, (8,), generator=generator)
    return outputs, torch.randn(8, 3, generator=generator)


@pytest.mark.parametrize(("name", "task"), [(n, t) for n, c in LOSSES.items() for t in c.tasks])
def test_every_loss_works_on_the_targets_of_the_tasks_it_fits(name: str, task: str) -> None:
    outputs, targets = _targets(task)
    loss = build_loss(LossConfig(name))(outputs, targets)
    assert loss.shape == () and torch.isfinite(loss) and loss > 0
    loss.backward()
    assert outputs.grad is not None and torch.isfinite(outputs.grad).all()


def test_bce_with_logits_one_hot_encodes_class_indices() -> None:
    outputs, targets = _targets("classification")
    one_hot = torch.zeros(8, 3)
    one_hot[torch.arange(8), targets] = 1.0
    loss = build_loss(LossConfig("bce_with_logits"))
    assert loss(outputs, targets) == nn.BCEWithLogitsLoss()(outputs, one_hot)
    assert loss(outputs, one_hot) == nn.BCEWithLogitsLoss()(outputs, one_hot)  # float targets pass through


def test_loss_params_reach_torch() -> None:
    assert build_loss(LossConfig("cross_entropy", {"label_smoothing": 0.2})).label_smoothing == 0.2
    assert build_loss(LossConfig("smooth_l1", {"beta": 0.5})).beta == 0.5
    outputs, targets = _targets("classification")
    smoothed = build_loss(LossConfig("cross_entropy", {"label_smoothing": 0.2}))(outputs, targets)
    assert smoothed != build_loss(LossConfig("cross_entropy"))(outputs, targets)


def test_builders_refuse_bad_sections_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"^loss\.name: unknown loss 'nll'") as caught:
        build_loss(LossConfig("nll"))
    assert caught.value.field == "loss.name"
    with pytest.raises(ConfigError, match=r"^optimizer\.momentum: -1\.0 is not allowed") as caught:
        build_optimizer(OptimizerConfig("sgd", params={"momentum": -1.0}), nn.Linear(2, 1).parameters())
    assert caught.value.field == "optimizer.momentum"
