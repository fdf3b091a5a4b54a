"""train.deterministic: PyTorch's deterministic kernels while a run trains, and one line for an op that has none."""

from __future__ import annotations

import os

import pytest
import torch

from workbench.engine.determinism import determinism_waived, deterministic_kernels, refused_op
from workbench.engine.inspection import tensor_stats
from workbench.engine.trainer import Trainer
from workbench.runs import events as ev

from .tiny import DETERMINISTIC, tiny_spirals


def test_a_deterministic_run_trains_with_deterministic_kernels_and_leaves_the_process_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    seen: list[bool] = []

    def during(event: ev.Event) -> None:
        if isinstance(event, ev.EpochEnded):
            seen.append(torch.are_deterministic_algorithms_enabled())

    Trainer(tiny_spirals(DETERMINISTIC), [during]).run()
    assert seen == [True, True, True]
    assert not torch.are_deterministic_algorithms_enabled()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"  # set whatever the device: cuBLAS reads it once

    seen.clear()
    Trainer(tiny_spirals(), [during]).run()
    assert seen == [False, False, False]


def test_an_op_refused_under_deterministic_kernels_is_named() -> None:
    with deterministic_kernels(True), pytest.raises(RuntimeError) as refusal:
        torch.zeros(3).put_(torch.tensor([0]), torch.ones(1))  # no deterministic kernel, even on the CPU
    assert refused_op(refusal.value) == "put_"
    assert refused_op(RuntimeError("CUDA error: an illegal memory access was encountered")) is None
    assert refused_op(ValueError("put_ does not have a deterministic implementation")) is None


def test_the_histogram_of_a_look_inside_is_waived_and_the_switch_comes_back() -> None:
    with deterministic_kernels(True):
        with determinism_waived():
            assert not torch.are_deterministic_algorithms_enabled()
            stats = tensor_stats(torch.linspace(-1, 1, 101))
        assert torch.are_deterministic_algorithms_enabled()
    assert not torch.are_deterministic_algorithms_enabled()
    assert stats[5:].sum() == 101  # every value counted once
