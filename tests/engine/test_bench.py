"""The bench's computation: the engine, the plain loop and the tutorial pipeline on real torch."""

from __future__ import annotations

import json
import math

import pytest

from workbench.engine.bench import WAYS, run_bench
from workbench.experiment.presets import load_experiment
from workbench.paths import runs_dir


@pytest.mark.slow  # trains six times in-process (a warm-up and a round of three)
def test_bench_measures_the_three_ways_on_the_same_samples_and_leaves_no_run_behind() -> None:
    config = load_experiment("digits-cnn", ["data.subset=96"])
    seen: list[tuple[int, str]] = []
    result = run_bench(config, device="cpu", rounds=1, epochs=1, progress=lambda r, way, rate: seen.append((r, way)))

    assert seen == [(1, way) for way in WAYS]
    assert result.train_samples == 96 and result.epochs == 1 and result.rounds == 1
    assert all(len(result.ways[way].rates) == 1 and result.ways[way].median > 0 for way in WAYS)
    assert math.isfinite(result.ratio("engine", "plain")) and math.isfinite(result.ratio("engine", "tutorial"))
    assert result.device == "cpu" and result.peak_memory == {}  # GPU memory is a CUDA figure
    assert result.parameters == 53_194 and result.batch_size == 64
    assert len(result.load_before) == 3
    data = json.loads(json.dumps(result.to_dict()))
    assert set(data["ratios"]) == {"engine/plain", "engine/tutorial"}
    assert not runs_dir().exists() or not any(runs_dir().iterdir())  # the engine trained in a scratch folder
