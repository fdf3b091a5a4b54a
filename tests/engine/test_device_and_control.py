"""Device choice, mixed-precision rules and the thread-safe control."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from workbench.engine.control import Control
from workbench.engine.device import prepare_model, resolve_device, resolve_precision
from workbench.errors import ConfigError
from workbench.schema import config as config_io
from workbench.schema.config import TrainConfig


def test_auto_picks_the_best_device_there_is() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and torch.backends.mps.is_available():
        expected = "mps"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize(("name", "message"), [("cuda", "CUDA is not available"), ("gpu0", "not a device")])
def test_a_device_that_is_not_there_is_refused_naming_the_field(name: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        resolve_device(name)
    assert refused.value.field == "train.device"


def test_mixed_precision_applies_on_cuda_only_and_says_so_when_asked_elsewhere() -> None:
    cpu = torch.device("cpu")
    precision, warnings = resolve_precision("auto", cpu)
    assert precision.label == "fp32" and warnings == []
    precision, warnings = resolve_precision("bf16", cpu)
    assert precision.label == "fp32" and "CUDA only" in warnings[0]
    assert not precision.needs_grad_scaler


def test_data_parallel_is_retired_true_refused_naming_its_replacement_false_read_as_nothing() -> None:
    with pytest.raises(ConfigError, match=r"train.data_parallel: nn.DataParallel is retired.*--nproc-per-node N"):
        config_io.loads("[train]\ndata_parallel = true\n")
    assert config_io.loads("[train]\ndata_parallel = false\nepochs = 3\n").train.epochs == 3  # an earlier run's config.toml


def test_one_process_trains_the_plain_module_it_checkpoints() -> None:
    prepared = prepare_model(torch.nn.Linear(2, 2), TrainConfig(), torch.device("cpu"), for_training=True)
    assert prepared.model is prepared.module and prepared.warnings == []


def test_pause_blocks_until_resumed_from_another_thread() -> None:
    control = Control()
    control.pause()
    assert control.pending and control.paused
    threading.Timer(0.1, control.resume).start()
    started = time.monotonic()
    control.wait_while_paused()
    assert time.monotonic() - started >= 0.09 and not control.pending


def test_stop_ends_a_pause_and_stays_requested() -> None:
    control = Control()
    control.pause()
    threading.Timer(0.05, control.stop).start()
    control.wait_while_paused()
    assert control.stop_requested and control.pending
