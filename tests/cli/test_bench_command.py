"""`workbench bench` as a user runs it: a pasteable report, and one line for each bad input."""

from __future__ import annotations

import pytest

from workbench.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.slow  # trains six times in-process (a warm-up and a round of three)
def test_bench_prints_the_speeds_the_ratios_the_device_and_the_load(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(
        capsys, "bench", "digits-cnn", "--device", "cpu", "--set", "data.subset=64", "--rounds", "1", "--epochs", "1"
    )
    assert status == 0
    assert "round 1/1: workbench engine" in err  # progress on stderr: stdout is the report alone
    lines = out.splitlines()
    assert lines[0].startswith("workbench bench digits-cnn on cpu (CPU (") and "torch " in lines[0]
    assert lines[1].startswith("load average ")
    for label in ("workbench engine", "plain PyTorch loop", "tutorial DataLoader"):
        assert any(line.startswith(label) for line in lines)
    assert any(line.startswith("engine / plain ") for line in lines)
    assert any(line.startswith("engine / tutorial ") for line in lines)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["no-such-preset"], "'no-such-preset' is neither a preset nor a TOML file"),
        (["mnist-lenet5"], "mnist: not in the cache and the bench does not download"),
        (["digits-cnn", "--device", "tpu9"], "--device: 'tpu9' is not a device"),
        (["digits-cnn", "--rounds", "0"], "--rounds: 0 is too few"),
        (["cifar10-finetune"], "model: a pretrained backbone (inputs resized to 224x224 on the device) is not benched yet"),
        (  # ~449 GB of activations: refused before anything is allocated
            ["digits-cnn", "--set", "model.layers.0.out_channels=4096", "--set", "data.batch_size=65536"],
            "more than the",
        ),
    ],
)
def test_bench_refuses_bad_input_in_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    status, out, err = run(capsys, "bench", *argv)
    assert status != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and expected in err
