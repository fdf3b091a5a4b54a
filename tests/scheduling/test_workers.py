"""torchrun's options for a run of several workers: checked in one line each, turned into its command."""

from __future__ import annotations

import socket
import sys

import pytest

from workbench.errors import ConfigError
from workbench.scheduling.launch import Workers


@pytest.mark.parametrize(
    ("workers", "message"),
    [
        (Workers(per_node=0), r"--nproc-per-node 0: a run needs at least 1 worker"),
        (Workers(nodes=0), r"--nnodes 0: a run needs at least 1 machine"),
        (Workers(nodes=2, node_rank=2, endpoint="a:1"), r"--node-rank 2: with --nnodes 2 it is 0 to 1"),
        (Workers(nodes=2, node_rank=1), r"--rdzv-endpoint \(missing\): several machines meet"),
        (Workers(nodes=2, node_rank=1, endpoint="node1"), r"--rdzv-endpoint node1: .*HOST:PORT"),
    ],
)
def test_impossible_worker_options_are_refused_in_one_line(workers: Workers, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        workers.check()


def test_the_first_machine_refuses_an_endpoint_whose_port_is_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"port {port} is in use on this machine; choose another port"):
            Workers(nodes=2, node_rank=0, endpoint=f"127.0.0.1:{port}").check()
        Workers(nodes=2, node_rank=1, endpoint=f"127.0.0.1:{port}").check()  # another machine: not ours to bind


def test_several_workers_run_through_torchrun_and_one_runs_the_command_itself() -> None:
    assert Workers().command(["train", "x"]) == [sys.executable, "-m", "workbench", "train", "x"]
    one_machine = Workers(per_node=2).command(["train", "x"])
    assert one_machine[:4] == [sys.executable, "-m", "workbench.engine.torchrun_agent", "--nproc-per-node=2"]
    assert "--standalone" in one_machine and one_machine[-4:] == ["-m", "workbench", "train", "x"]
    two = Workers(per_node=4, nodes=2, node_rank=1, endpoint="node1:29500").command(["train", "x"])
    assert {"--nnodes=2", "--node-rank=1", "--rdzv-endpoint=node1:29500"} <= set(two) and "--standalone" not in two
    assert Workers(per_node=2).environment()["OMP_NUM_THREADS"]
