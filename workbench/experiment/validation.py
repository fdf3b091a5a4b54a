"""Whole-experiment validation: every problem, each naming its field, without torch.

The config module checks each plain field's type and range as it is read; this module checks
what needs the catalogs: the dataset and its options, the loss, optimizer and schedule with
their parameters, the layer stack (by shape inference), and fields that must agree with each
other (a monitored metric the task has, a validation split for ``val_*`` monitors).
It collects all problems rather than stopping at the first, so the app can mark each in place.

What a run needs of the machine is checked too, where a cheap look tells (no torch, no file
read): the data file, a backbone's weights file, the device. A run that cannot start is then
refused before its folder is created, by the app's ``s``, ``workbench train`` and the queue
alike, and the app never says "ready to train" for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.data.registry import DatasetInfo, dataset_options, describe
from workbench.data.sharding import check_global_batch
from workbench.errors import ConfigError, WorkbenchError
from workbench.experiment.devices import missing_device
from workbench.formatting import counted
from workbench.model.backbones import BACKBONE, loaded_weights_file, weights_file_problem, weights_hash_problem
from workbench.model.shapes import ModelAnalysis, analyse_model, layer_names
from workbench.optim.catalog import (
    check_loss,
    check_optimizer,
    check_schedule,
    loss_settings,
    optimizer_settings,
    schedule_settings,
)
from workbench.schema.config import RunConfig
from workbench.schema.monitor import monitor_choices

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclass(frozen=True)
class ExperimentCheck:
    """Everything one check of an experiment found, so that no caller computes it again."""

    #: A normalised copy: every catalog parameter present, defaults filled in.
    config: RunConfig
    #: Every problem, each naming its field; empty when the experiment can train.
    problems: list[ConfigError]
    #: The dataset's facts, None when the data settings are not valid.
    info: DatasetInfo | None
    #: Shape inference of the layer stack, None while the dataset is unknown.
    analysis: ModelAnalysis | None


def check_experiment(config: RunConfig, *, machine: bool = True) -> ExperimentCheck:
    """Check the whole experiment once (the given config is not changed). ``machine=False`` leaves
    out what a new run needs of this machine (a backbone's weights file, the device): a checkpoint
    holds every weight, and another machine may have trained it."""
    config = config.copy()
    found: list[ConfigError] = []

    def check(step: Callable[[], Any]) -> Any:
        try:
            return step()
        except ConfigError as error:
            found.append(error)
        except WorkbenchError as error:  # a dataset file that cannot be read: its path is the field
            found.append(ConfigError(str(error), field="data.options.path" if "path" in config.data.options else "data"))
        return None

    info = check(lambda: _dataset(config))
    task = info.task if info is not None else None
    found += _settle(config.loss, check_loss(config.loss, task), loss_settings)
    found += _settle(config.optimizer, check_optimizer(config.optimizer), optimizer_settings)
    found += _settle(
        config.schedule,
        check_schedule(config.schedule, config.train.epochs),
        lambda schedule: schedule_settings(schedule, config.train.epochs),
    )
    check(lambda: _device(config, machine))
    found += _weights_files(config) if machine else []
    check(lambda: check_global_batch(config.data.batch_size, config.train.workers))
    analysis = None
    if info is not None:
        analysis = analyse_model(
            config.model, info.input_shape, info.num_outputs, outputs_text=outputs_text(info), vocab_size=info.vocab_size
        )
        if analysis.error is not None:
            found.append(analysis.error)
        check(lambda: _monitors(config, info))
    return ExperimentCheck(config, found, info, analysis)


def dataset_info(config: RunConfig) -> DatasetInfo:
    """The dataset facts the experiment trains on (options checked first)."""
    return _dataset(config)


def outputs_text(info: DatasetInfo) -> str:
    """How the task's output size reads in messages: "digits has 10 classes"."""
    if info.task == "classification":
        return f"{info.name} has {info.num_outputs} classes"
    return f"{info.name} has {counted(info.num_outputs, 'regression target')}"


def _dataset(config: RunConfig) -> DatasetInfo:
    config.data.options = dataset_options(config.data)
    return describe(config.data)


def _settle(section: Any, problems: list[ConfigError], settings: Callable[[Any], tuple[Any, dict]]) -> list[ConfigError]:
    """Fill in the section's catalog defaults when it has no problems; return the problems."""
    if not problems:
        section.params = settings(section)[1]
    return problems


def _device(config: RunConfig, machine: bool) -> None:
    if not _DEVICE.match(config.train.device):
        raise ConfigError(
            f"train.device: {config.train.device!r} is not a device; use auto, cpu, cuda, cuda:N or mps", field="train.device"
        )
    absent = missing_device(config.train.device) if machine else None
    if absent is not None:
        raise absent


def _weights_files(config: RunConfig) -> list[ConfigError]:
    """A backbone's weights file that is not there (its contents are checked where it is loaded)."""
    found = []
    names = layer_names(config.model.layers)
    for index, layer in enumerate(config.model.layers):
        weights = layer.params.get("weights")
        problem = weights_file_problem(weights) if layer.type == BACKBONE and isinstance(weights, str) else None
        if problem:
            where = f"model.layers.{index}.weights"
            found.append(ConfigError(f"{where} ({names[index]}, {BACKBONE}): {problem}", field=where))
    return found


def check_weights_contents(config: RunConfig) -> None:
    """Refuse, in one line, a backbone's weights file that is not the file its name says (the
    SHA-256 prefix torchvision's names carry): a launcher asks before it makes the run's folder,
    since this reads whole files, which validation (on every change) must not."""
    names = layer_names(config.model.layers)
    for index, layer in enumerate(config.model.layers):
        path = loaded_weights_file(layer.params) if layer.type == BACKBONE else None
        try:
            problem = weights_hash_problem(path) if path is not None else None
        except OSError as error:
            problem = f"{error.strerror or error}"
        if problem:
            where = f"model.layers.{index}.weights"
            raise ConfigError(f"{where} ({names[index]}, {BACKBONE}): weights {path}: {problem}", field=where)


def _monitors(config: RunConfig, info: DatasetInfo) -> None:
    allowed = monitor_choices(info.task, info.num_outputs if info.task == "classification" else 0)
    monitors = [
        ("train.early_stopping.monitor", config.train.early_stopping.monitor),
        ("train.checkpoint.monitor", config.train.checkpoint.monitor),
    ]
    if "monitor" in config.schedule.params:  # plateau watches a metric too
        monitors.append(("schedule.monitor", config.schedule.params["monitor"]))
    for field, monitor in monitors:
        if monitor not in allowed:
            raise ConfigError(f"{field}: {monitor!r} is not a metric of this task; use one of {', '.join(allowed)}", field=field)
        if monitor.startswith("val_") and config.data.val_fraction == 0:
            raise ConfigError(
                f"{field}: {monitor} needs a validation split, but data.val_fraction is 0; "
                "set data.val_fraction or monitor a train_ metric",
                field=field,
            )


def problems(config: RunConfig) -> list[ConfigError]:
    """Every problem of the experiment, each naming its field; empty when it can train.

    Checks plain fields, the dataset and its options, the loss, optimizer and schedule against
    their catalogs, and the layer stack by shape inference. Pure Python: no torch needed.
    """
    return check_experiment(config).problems


def validate(config: RunConfig, *, machine: bool = True) -> RunConfig:
    """Raise the first problem of the experiment, or return a normalised copy ready to train:
    every catalog parameter present with its default filled in, so that the config a run
    saves is the exact experiment even if defaults change later. ``machine``: as for
    :func:`check_experiment`."""
    checked = check_experiment(config, machine=machine)
    if checked.problems:
        raise checked.problems[0]
    return checked.config
