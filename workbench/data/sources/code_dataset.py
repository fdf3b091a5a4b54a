"""A data set from the user's own file (``data.dataset = "code"``, ``options.code =
"mydata.py:MyDataset"``): its facts probed once in a child process, its items read for training."""

from __future__ import annotations

from typing import Any

from workbench.errors import WorkbenchError


def probe_dataset(request: dict[str, Any]) -> dict[str, Any]:
    """The code data set's facts (being built: issue 27)."""
    raise WorkbenchError("data.options.code: data sets from your own files are not ready yet")
