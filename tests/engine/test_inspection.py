"""A look inside: what the trainer records of the model at each epoch's end, checked against
torch computing the same figures directly, and the warnings it words."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from workbench.engine.checkpoint_io import read_checkpoint
from workbench.engine.inspection import Inspector, inspect_model, probe_batch
from workbench.engine.setup import build_parts
from workbench.engine.trainer import Trainer
from workbench.experiment.presets import load_experiment
from workbench.model.build import build_model
from workbench.outputs.inside import HISTOGRAM_BINS, InsideEpoch, TensorStats, read_inside
from workbench.runs import events as ev
from workbench.runs.history import RunHistory
from workbench.runs.store import create_run

from .tiny import Recorder, tiny_digits


def _assert_stats(recorded: TensorStats, values: torch.Tensor) -> None:
    """The recorded figures are those torch and numpy compute from the tensor itself."""
    x = values.detach().double().flatten()
    assert recorded.mean == pytest.approx(x.mean().item(), abs=1e-6)
    assert recorded.std == pytest.approx(x.std(correction=0).item(), rel=1e-5)
    assert recorded.absmax == pytest.approx(x.abs().max().item(), rel=1e-6)
    assert recorded.norm == pytest.approx(x.norm().item(), rel=1e-5)
    assert recorded.zero == pytest.approx((x == 0).double().mean().item())
    top = x.abs().max().item()
    expected, _ = np.histogram(x.numpy(), bins=HISTOGRAM_BINS, range=(-top, top))
    assert sum(recorded.hist) == x.numel()
    # A value on a bin's edge may fall either side in float32: at most a few move by one bin.
    assert np.abs(np.array(recorded.hist) - expected).sum() <= 2


def test_a_run_records_each_epoch_and_the_last_matches_torch_on_the_checkpoints_weights() -> None:
    config = tiny_digits("train.epochs=2")
    trainer = Trainer(config)
    trainer.run()
    run = trainer.run_dir
    assert run is not None
    records = read_inside(run)
    assert [r.epoch for r in records] == [1, 2]
    last = records[-1]
    weights = read_checkpoint(run.last_checkpoint)["model"]  # written at the end of epoch 2

    recorded = {f"{layer.name}.{t.name}": t for layer in last.layers for t in layer.tensors}
    assert set(recorded) == {name for name, value in weights.items() if value.is_floating_point() and "running" not in name}
    for name, tensor in recorded.items():
        _assert_stats(tensor.weight, weights[name])
        assert tensor.shape == tuple(weights[name].shape)
        assert tensor.grad is not None and tensor.grad.norm > 0 or name.endswith("bias")
    grads = [t.grad.norm for t in recorded.values() if t.grad is not None]
    assert last.grad_norm == pytest.approx(math.sqrt(sum(g * g for g in grads)), rel=1e-6)

    # The outputs on the probe batch: the same model rebuilt from the checkpoint, run by hand.
    parts = build_parts(config, for_training=False)
    split, inputs = probe_batch(parts.splits)
    assert (last.probe_split, last.probe_samples) == ("val", len(inputs))
    model = build_model(config.model, parts.splits.info.input_shape, parts.splits.info.num_outputs)
    model.load_state_dict(weights)
    model.eval()
    with torch.inference_mode():
        relu1 = model[:3](inputs.cpu())  # conv1, bn1, relu1
    activation = last.layer("relu1").activation
    assert activation is not None
    assert activation.mean == pytest.approx(relu1.mean().item(), rel=1e-5)
    assert activation.zero == pytest.approx((relu1 == 0).float().mean().item())
    assert activation.dead == pytest.approx((relu1 == 0).all(dim=0).float().mean().item())
    assert [layer.name for layer in last.layers if layer.type == "Dropout"] == []  # outputs are its inputs: no row

    filters = last.filters
    assert filters is not None and (filters.layer, filters.count, filters.height, filters.channels) == ("conv1", 32, 3, 1)
    first = weights["conv1.weight"][0, 0]
    picture = np.array(filters.image(0))[:, :, 0]
    assert picture.argmax() == first.argmax().item() and picture.max() == 255 and picture.min() == 0


def test_the_gradients_recorded_are_those_of_the_last_backward_pass() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    inputs = torch.randn(8, 4)
    model(inputs).pow(2).sum().backward()
    record = InsideEpoch.from_dict({"epoch": 1, **inspect_model(model, inputs)})
    for layer_name, module in (("0", model[0]), ("2", model[2])):
        layer = record.layer(layer_name)
        assert layer is not None
        for tensor in layer.tensors:
            grad = getattr(module, tensor.name).grad
            assert tensor.grad is not None
            _assert_stats(tensor.grad, grad)
    assert model.training  # put back as it was after the probe's pass in evaluation mode


def test_a_relu_killed_by_a_huge_learning_rate_is_warned_of_in_plain_words_in_the_log() -> None:
    recorder = Recorder()
    config = load_experiment("digits-mlp", ["data.subset=256", "train.epochs=2", "optimizer.lr=2"])
    trainer = Trainer(config, [recorder])
    trainer.run()
    said = [w.message for w in recorder.of(ev.RunWarning)]
    dead = [m for m in said if "of its outputs are zero on every sample" in m]
    assert dead and dead[0].startswith("relu1: ")
    assert "consider a lower optimizer.lr or LeakyReLU" in dead[0]
    assert len(dead) == len(set(dead))  # each layer once, not at every epoch
    assert trainer.run_dir is not None
    log = [line.text for line in RunHistory.from_records(trainer.run_dir.read_events()).log if line.level == "warning"]
    assert dead[0] in log  # `workbench logs` and the app say it too


def test_gradients_growing_tenfold_or_not_finite_are_warned_of() -> None:
    config = tiny_digits()
    parts = build_parts(config, for_training=True)
    module = parts.prepared.module
    inputs, targets = next(iter(parts.splits.train.epoch(1)))
    parts.loss_fn(module(inputs), targets).backward()
    inspector = Inspector(parts, create_run(config))
    assert inspector.epoch_ended(1, 8) == []
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.grad *= 30
    grew = inspector.epoch_ended(2, 16)
    assert len(grew) == 1 and "gradients: their norm grew 30x in epoch 2" in grew[0].message
    assert "train.grad_clip" in grew[0].message
    with torch.no_grad():
        module.fc1.weight.grad[0, 0] = float("inf")
    broke = inspector.epoch_ended(3, 24)
    assert [w.message.split(" (")[0] for w in broke] == ["gradients: fc1.weight's are not finite at the end of epoch 3"]
    assert [r.epoch for r in read_inside(inspector.run)] == [1, 2, 3]
