"""A model from the user's own file trains as a catalog model does: in process and as real
``workbench train`` processes, checkpointed and resumed, swept over its arguments, with the init
schemes and the user's own frozen parameters, and on two gloo workers exactly as on one.

Every test here validates the experiment, which runs the user's class once in the probe's child
process: they are slow tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.engine.tiny import Recorder
from tests.model.user_nets import TUTORIAL_NET, write
from workbench.engine.checkpoint_io import read_checkpoint
from workbench.engine.trainer import Trainer
from workbench.errors import ConfigError
from workbench.experiment.presets import load_experiment
from workbench.experiment.sweep_points import plan_points
from workbench.experiment.validation import validate
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory
from workbench.runs.store import find_run
from workbench.schema.sweep import SweepSpec, parse_axis, read_sweep_file

pytestmark = pytest.mark.slow

#: The tutorial's Net on the bundled digits, no BatchNorm or Dropout, batches of 32: 1,294
#: training samples end in a batch of 14, so every global batch splits evenly over two workers.
EXPERIMENT = """
    name = "tutorial-net"
    [data]
    dataset = "digits"
    batch_size = 32
    val_fraction = 0.1
    [model]
    code = "nets.py:Net"
    [model.args]
    hidden = 16
    [optimizer]
    name = "adam"
    lr = 0.01
    [train]
    epochs = 2
    device = "cpu"
"""


def user_experiment(folder: Path, nets: str = TUTORIAL_NET) -> Path:
    """nets.py and tutorial-net.toml naming it by a relative path, as a user writes them."""
    write(folder, "nets.py", nets)
    return write(folder, "tutorial-net.toml", EXPERIMENT)


def train(*args: str, cwd: Path | None = None) -> dict[str, Any]:
    """``workbench ARGS --json`` to its end (from ``cwd``); its JSON summary."""
    done = subprocess.run(
        [sys.executable, "-m", "workbench", *args, "--json"], capture_output=True, text=True, timeout=600, cwd=cwd
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout[done.stdout.index("{") :])


def epoch_losses(run: RunDir) -> list[tuple[float, float, float]]:
    return [(e.train["loss"], e.val["loss"], e.val["acc"]) for e in RunHistory.from_records(run.read_events()).epochs]


def test_a_code_model_trains_checkpoints_resumes_and_two_gloo_workers_match_one(tmp_path: Path) -> None:
    experiment = user_experiment(tmp_path / "mine")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    alone = train("train", str(experiment), cwd=elsewhere)  # nets.py is found beside the experiment file
    run = find_run(alone["run_id"])
    assert alone["test"]["acc"] > 0.5
    weights = read_checkpoint(run.last_checkpoint)["model"]
    assert {"conv1.weight", "fc3.bias"} <= set(weights)  # the user's own module names, not a Sequential's

    together = train("train", str(experiment), "--nproc-per-node", "2", cwd=elsewhere)
    two = find_run(together["run_id"])
    for single, double in zip(epoch_losses(run), epoch_losses(two), strict=True):
        assert double == pytest.approx(single, abs=1e-5)
    assert together["test"]["acc"] == pytest.approx(alone["test"]["acc"], abs=1e-5)
    for name, tensor in read_checkpoint(two.last_checkpoint)["model"].items():
        assert torch.allclose(tensor, weights[name], atol=1e-5), name

    resumed = train("resume", run.id, "--epochs", "3")
    assert resumed["run_id"] == run.id
    assert [epoch.epoch for epoch in RunHistory.from_records(run.read_events()).epochs] == [1, 2, 3]


def test_a_sweep_over_the_classes_arguments_makes_points_whose_models_differ(tmp_path: Path) -> None:
    base, _ = read_sweep_file(user_experiment(tmp_path / "mine"))
    points = plan_points(base, SweepSpec().with_axes([parse_axis("model.args.hidden=16,32")]))
    assert [point.config.model.args["hidden"] for point in points] == [16, 32]
    assert {point.config.model.code for point in points} == {f"{(tmp_path / 'mine').resolve()}/nets.py:Net"}


def test_a_code_model_trains_in_process_with_an_init_scheme_and_its_own_frozen_layer_kept(tmp_path: Path) -> None:
    frozen = TUTORIAL_NET.replace(
        "self.fc3 = nn.Linear(24, 10)",
        "self.fc3 = nn.Linear(24, 10)\n            for p in self.conv1.parameters():\n                p.requires_grad = False",
    )
    experiment = user_experiment(tmp_path / "mine", frozen)
    config = load_experiment(str(experiment), ["data.subset=256", "model.init=xavier_uniform", "model.bias_init=zeros"])
    recorder = Recorder()
    Trainer(config, [recorder]).run()
    model = read_checkpoint(find_run("latest").last_checkpoint)["model"]
    assert torch.count_nonzero(model["conv1.bias"]) == 0  # frozen: still the zeros the init scheme gave it
    assert torch.count_nonzero(model["fc1.bias"]) > 0  # trained away from zero


def test_a_code_model_with_every_parameter_frozen_is_refused_in_one_line(tmp_path: Path) -> None:
    frozen = TUTORIAL_NET.replace(
        "self.fc3 = nn.Linear(24, 10)", "self.fc3 = nn.Linear(24, 10)\n            self.requires_grad_(False)"
    )
    experiment = user_experiment(tmp_path / "mine", frozen)
    with pytest.raises(
        ConfigError,
        match=r"model.code \(nets.py:Net\): all 2,638 parameters of Net are frozen \(requires_grad=False\); leave some to train$",
    ):
        validate(load_experiment(str(experiment)))


def test_a_sweep_may_vary_an_argument_the_experiment_leaves_at_the_classs_default(tmp_path: Path) -> None:
    base, _ = read_sweep_file(user_experiment(tmp_path / "mine"))
    base.model.args = {}  # hidden=32 is Net's default
    points = plan_points(base, SweepSpec().with_axes([parse_axis("model.args.hidden=8,16")]))
    assert [point.config.model.args for point in points] == [{"hidden": 8}, {"hidden": 16}]
    with pytest.raises(
        ConfigError, match=r"^sweep point 1 \(model.args.width=8\): model.args: Net\(width=8\): got an unexpected"
    ):
        plan_points(base, SweepSpec().with_axes([parse_axis("model.args.width=8,16")]))
    with pytest.raises(
        ConfigError, match=r"^--sweep model.args.hidden: the experiment does not set it; write it in \[model.args\]"
    ):
        plan_points(base, SweepSpec(samples=2).with_axes([parse_axis("model.args.hidden=uniform:8:16")]))
