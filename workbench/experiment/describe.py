"""What an experiment is, as plain data: the dataset, the model summary, loss, optimizer and
the LR at each epoch boundary. ``workbench describe`` renders it as tables or prints it as
JSON; one structure serves both so they cannot disagree."""

from __future__ import annotations

import dataclasses
from typing import Any

from workbench.data.registry import DatasetInfo, split_sizes
from workbench.data.splitting import steps_per_epoch
from workbench.experiment.validation import dataset_info
from workbench.model.memory import MemoryEstimate, memory_text, training_memory
from workbench.model.shapes import ModelAnalysis, analyse_model
from workbench.schema.config import RunConfig, TrainConfig, section_params, to_dict
from workbench.usercode.copies import code_refs


def describe_experiment(config: RunConfig) -> dict[str, Any]:
    """Plain data describing a validated experiment.

    Everything but the learning rate per epoch is worked out without torch; that table drives
    torch's real optimizer and schedulers (:mod:`workbench.optim.preview`), so that it is what
    training will do, and is the one reason describing loads torch (and the torch._dynamo its
    optimizers import): a few seconds. The app never calls this."""
    from workbench.optim.preview import lr_preview

    info = dataset_info(config)
    sizes = split_sizes(config.data, info)
    analysis = analyse_model(config.model, info.input_shape, info.num_outputs, vocab_size=info.vocab_size)
    steps = steps_per_epoch(sizes.train, config.data.batch_size)
    preview = lr_preview(config.optimizer, config.schedule, config.train.epochs, steps)
    return {
        "name": config.name,
        "description": config.description,
        "dataset": _dataset(info, sizes) | {"path": _data_path(config)},
        "model": _model(analysis),
        "memory": _memory(training_memory(analysis, config.data.batch_size, config.optimizer.name)),
        "loss": {"name": config.loss.name, **config.loss.params},
        "optimizer": {"name": config.optimizer.name, "lr": config.optimizer.lr, **config.optimizer.params},
        "schedule": {
            "name": config.schedule.name,
            "warmup_epochs": config.schedule.warmup_epochs,
            **config.schedule.params,
            "steps_per_epoch": steps,
            "lr_at_epochs": list(preview.at_epoch_boundaries()),
            "note": preview.note,
        },
        "train": {p.name: getattr(config.train, p.name) for p in section_params(TrainConfig)}
        | {"early_stopping": to_dict(config.train.early_stopping), "checkpoint": to_dict(config.train.checkpoint)},
    }


def _data_path(config: RunConfig) -> str:
    """Where the user's own data comes from: ``data.options.path``, or the file of their Dataset
    class (neither bundled nor downloaded); empty for a catalog's data set."""
    if path := config.data.options.get("path"):
        return str(path)
    return next((str(ref.path) for ref in code_refs(config) if ref.where == "data.options.code"), "")


def _dataset(info: DatasetInfo, sizes: Any) -> dict[str, Any]:
    return {
        **dataclasses.asdict(info),
        "input_shape": list(info.input_shape),
        "class_names": list(info.class_names),
        "splits": {"train": sizes.train, "val": sizes.val, "test": sizes.test},
    }


def _memory(estimate: MemoryEstimate) -> dict[str, Any]:
    return {
        "total_bytes": estimate.total,
        "weights_bytes": estimate.weights,
        "optimizer_bytes": estimate.optimizer,
        "activations_bytes": estimate.activations,
        "batch_size": estimate.batch_size,
        "text": memory_text(estimate),
    }


def _model(analysis: ModelAnalysis) -> dict[str, Any]:
    return {
        "input_shape": list(analysis.input_shape),
        "vocab_size": analysis.vocab_size,
        "layers": [
            {
                "index": layer.index,
                "name": layer.name,
                "group": layer.group,
                "type": layer.type,
                "output_shape": list(layer.output_shape),
                "params": layer.num_params,
            }
            for layer in analysis.layers
        ],
        "total_params": analysis.total_params,
        "trainable_params": analysis.trainable_params,  # a frozen backbone's are left out
    }
