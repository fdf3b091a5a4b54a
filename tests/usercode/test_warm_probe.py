"""The probe's child started ahead (keep_warm): it answers as a child started for the question
does, a hang in it still ends at the time limit, and it never outlives the process that started
it. Real files, real children (slow: each imports torch)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.processes import wait_until
from workbench.usercode.probing import ProbeError, keep_warm, probe

pytestmark = pytest.mark.slow

NET = """
    import time

    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self, hang=False):
            super().__init__()
            while hang:
                time.sleep(0.05)
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return self.fc(x)
"""


def _request(nets: Path, **args: object) -> dict[str, object]:
    return {"kind": "model", "code": f"{nets}:Net", "args": args, "input_shape": [4], "vocab_size": 0}


def test_a_child_started_ahead_answers_and_a_hang_in_it_ends_at_the_limit(tmp_path: Path) -> None:
    nets = tmp_path / "nets.py"
    nets.write_text(textwrap.dedent(NET))
    keep_warm()
    answer = probe(_request(nets), [tmp_path], cached=False)
    assert answer["total_params"] == 15
    with pytest.raises(ProbeError, match=r"nets.py:Net did not finish within 5 s when run once"):
        probe(_request(nets, hang=True), [tmp_path], timeout_s=5, cached=False)
    assert probe(_request(nets), [tmp_path], cached=False)["total_params"] == 15  # the next child answers


def _ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")  # a zombie has ended; its new parent reaps it when it will


def test_a_child_started_ahead_ends_when_the_process_that_started_it_ends() -> None:
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "from workbench.usercode import probing; probing.keep_warm(); print(probing._WARM[0].process.pid)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(started.stdout.strip())
    wait_until(lambda: _ended(pid), what=f"the warm child {pid} ended")


def test_the_app_opened_on_the_users_code_starts_its_child_at_once_and_a_preset_starts_none(tmp_path: Path) -> None:
    """`workbench my-net.toml`: the child's torch import (the seconds the Model screen's tree
    waits for) starts before the app's own modules are imported, not after its first frame."""
    nets = tmp_path / "nets.py"
    nets.write_text(textwrap.dedent(NET))
    script = textwrap.dedent(
        f"""
        import sys
        from workbench.experiment.presets import read_experiment
        from workbench.usercode import probing
        config = read_experiment(sys.argv[1])
        if sys.argv[2] == "code":
            config.model.layers = []
            config.model.code = {str(nets) + ":Net"!r}
        probing.start_ahead_for(config)
        print(len(probing._WARM))
        """
    )
    for preset, kind, children in (("digits-cnn", "code", "1"), ("digits-cnn", "catalog", "0")):
        started = subprocess.run([sys.executable, "-c", script, preset, kind], capture_output=True, text=True, check=True)
        assert started.stdout.strip() == children, (kind, started.stdout, started.stderr)
