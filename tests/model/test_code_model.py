"""A model from the user's own file: its analysis (the probe's answer as layer rows), its build,
and the probe's one line for each way the user's code can fail."""

from __future__ import annotations

from workbench.model.shapes import analyse_model
from workbench.schema.config import LayerSpec, ModelConfig


def test_a_model_with_both_code_and_layers_is_one_problem_naming_model_code() -> None:
    model = ModelConfig(layers=[LayerSpec("Flatten", {})], code="nets.py:Net")
    analysis = analyse_model(model, (1, 8, 8), 10)
    assert analysis.error is not None
    assert analysis.error.field == "model.code"
    assert "model.layers too" in str(analysis.error)
