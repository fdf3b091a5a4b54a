"""Samples for the Data screen of the offline datasets."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from workbench.data.preview import pick_samples, preview_samples
from workbench.schema.config import DataConfig


def test_digits_preview_shows_one_of_each_class_first():
    samples = preview_samples(DataConfig(dataset="digits"), count=12)
    assert [s.label for s in samples] == [str(d) for d in range(10)] + ["0", "1"]
    assert all(s.image.shape == (8, 8, 1) and s.image.dtype == np.uint8 and s.features is None for s in samples)
    assert max(int(s.image.max()) for s in samples) > 200


def test_spirals_and_diabetes_previews_show_points_and_targets():
    points = preview_samples(DataConfig(dataset="spirals", options={"classes": 4}), count=8)
    assert [s.label for s in points] == ["0", "1", "2", "3"] * 2
    assert all(s.image is None and len(s.features) == 2 for s in points)
    patients = preview_samples(DataConfig(dataset="diabetes"), count=5)
    assert all(len(s.features) == 10 and 20 <= float(s.label) <= 400 for s in patients)


def test_preview_is_stable_between_calls():
    first = preview_samples(DataConfig(dataset="spirals"), count=5)
    assert first == preview_samples(DataConfig(dataset="spirals"), count=5)


def test_classes_take_turns_even_when_unbalanced():
    targets = np.array([0] * 50 + [1] * 3 + [2] * 1)
    picked = pick_samples(targets, count=6, classification=True)
    assert targets[picked].tolist() == [0, 1, 2, 0, 1, 0]
    assert len(set(picked.tolist())) == 6


@pytest.mark.slow
def test_offline_preview_needs_no_torch():
    code = """
import json, sys
from workbench.schema.config import DataConfig
from workbench.data.preview import preview_samples
labels = [s.label for s in preview_samples(DataConfig(dataset="spirals"), count=3)]
print(json.dumps({"torch": "torch" in sys.modules, "labels": labels}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == {"torch": False, "labels": ["0", "1", "2"]}
