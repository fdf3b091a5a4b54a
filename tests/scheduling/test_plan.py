"""One launch plan for the CLI, the app and the queue's feeder: what it checks once, whatever the
way the run trains, and what it writes into the experiment. Nothing here starts a process."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.tui.runs import recorded_run
from tests.weight_files import write_weights
from workbench import paths
from workbench.errors import CheckpointError, ConfigError
from workbench.experiment.presets import load_experiment
from workbench.scheduling import queue
from workbench.scheduling.launch import Workers
from workbench.scheduling.plan import plan_new_run, plan_resume, process_args
from workbench.schema.config import LayerSpec

NO_GPU = lambda: 0  # noqa: E731 - this machine's CUDA devices, as a plan asks for them
ONE_GPU = lambda: 1  # noqa: E731
HOWS = ("detached", "foreground", "queued")


def nothing_made() -> bool:
    return not paths.runs_dir().exists() and not queue.read_queue().entries


def test_a_plan_writes_the_device_and_workers_into_its_own_copy_of_the_experiment() -> None:
    """The device and workers a run trains with are in its config.toml (a resume continues
    there), whoever launched it; the experiment handed in is left as it was."""
    experiment = load_experiment("digits-mlp")
    plan = plan_new_run(experiment, how="queued", device="cpu", workers=Workers(per_node=2), gpus=NO_GPU)
    assert (plan.config.train.device, plan.config.train.workers, plan.device) == ("cpu", 2, "cpu")
    assert (experiment.train.device, experiment.train.workers) == ("auto", 1)
    default = plan_new_run(experiment, gpus=NO_GPU)
    assert (default.workers, default.device, default.how) == (Workers(per_node=1), None, "detached")


@pytest.mark.parametrize("how", HOWS)
def test_every_way_of_launching_refuses_workers_that_cannot_train_here_in_one_line(how: str) -> None:
    """The queue's and the app's launches skipped the global batch check; the feeder checked no GPU
    per worker: a run failed in its log, or a queued one later, instead of one line now."""
    experiment = load_experiment("digits-mlp", ["data.batch_size=33"])
    with pytest.raises(ConfigError, match=r"data\.batch_size=33 does not divide among 2 workers"):
        plan_new_run(experiment, how=how, device="cpu", workers=Workers(per_node=2), gpus=NO_GPU)
    with pytest.raises(ConfigError, match=r"^2 workers on this machine but it has 1 CUDA device, one per worker"):
        plan_new_run(load_experiment("digits-mlp"), how=how, device="cuda", workers=Workers(per_node=2), gpus=ONE_GPU)
    assert nothing_made()


@pytest.mark.parametrize("how", HOWS)
def test_every_way_of_launching_refuses_a_weights_file_that_is_not_what_its_name_says(how: str, tmp_path: Path) -> None:
    """The foreground and the queue did not look before the run's folder was made or the entry queued."""
    real = write_weights("resnet18", tmp_path / "good")
    wrong = write_weights("resnet18", tmp_path / "bad", seed=2, name=real.name)
    experiment = load_experiment("digits-cnn", ["data.subset=64"])
    experiment.model.layers = [LayerSpec("Backbone", params={"weights": str(wrong), "input_size": 32})]
    with pytest.raises(ConfigError, match=rf"weights {re.escape(str(wrong))}: its SHA-256 starts"):
        plan_new_run(experiment, how=how, gpus=NO_GPU)
    assert nothing_made()


def test_the_queue_starts_runs_on_this_machine_only() -> None:
    workers = Workers(per_node=1, nodes=2, node_rank=1, endpoint="node1:29500")
    with pytest.raises(ConfigError, match=r"^--nnodes 2: the queue starts runs on this machine"):
        plan_new_run(load_experiment("digits-mlp"), how="queued", workers=workers, gpus=NO_GPU)


def test_a_resume_is_checked_on_the_first_machine_and_joined_unchecked_on_the_others() -> None:
    """The first machine marks the run starting: checked again there, the others would refuse it."""
    run = recorded_run("no-checkpoint")
    with pytest.raises(CheckpointError, match=rf"run {run.id} has no checkpoint to resume from"):
        plan_resume(run, how="foreground", workers=Workers(per_node=1), gpus=NO_GPU)
    joining = plan_resume(
        run, how="foreground", workers=Workers(per_node=1, nodes=2, node_rank=1, endpoint="node1:29500"), gpus=NO_GPU
    )
    assert process_args(joining, run)[:2] == ["resume", str(run.path)]


def test_a_resumed_process_is_told_its_workers_rather_than_planning_the_configs_again() -> None:
    """`workbench resume RUN --nproc-per-node 1 --detach` of a run trained by two workers started a
    process that read train.workers = 2 from config.toml and started torchrun with two; and
    --trust-code reaches the process that runs the code."""
    run = recorded_run("two-workers", overrides=("train.workers=2",))
    run.last_checkpoint.write_bytes(b"")  # what the resume rules look for: the file, not what it holds
    plan = plan_resume(run, epochs=6, device="cpu", workers=Workers(per_node=1), gpus=NO_GPU, trust_code=True)
    expected = ["resume", str(run.path), "--nproc-per-node", "1", "--epochs", "6", "--trust-code", "--device", "cpu"]
    assert process_args(plan, run) == expected
    assert plan_resume(run, gpus=NO_GPU).workers == Workers(per_node=2)  # by default, as it trained
