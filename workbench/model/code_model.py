"""A model from the user's own file (``model.code = "nets.py:Net"``): built, and probed once in a
child process for the Model screen and validation (:mod:`workbench.engine.code_probe`)."""

from __future__ import annotations

from typing import Any

from workbench.errors import WorkbenchError


def probe_model(request: dict[str, Any]) -> dict[str, Any]:
    """The code model's tree, shapes and parameter counts (being built: issue 27)."""
    raise WorkbenchError("model.code: models from your own files are not ready yet")
