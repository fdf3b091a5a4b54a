"""The child process that runs the user's code once and answers a question about it as JSON
(:mod:`workbench.usercode.probing` starts it: ``python -m workbench.engine.code_probe``).

The request comes on standard input; the answer goes to the file named by
``WORKBENCH_PROBE_ANSWER``, so that whatever the user's code prints cannot be mistaken for it.
Started ahead of its question (``--warm``, :func:`workbench.usercode.probing.keep_warm`), it
imports torch and the answerers first, then waits; an end of input without a question ends it.
Every failure, ``sys.exit()`` included, is an answer (``ok: false`` with the one line and the
traceback); the process then ends at once, whatever threads the user's code left running.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.atomic import atomic_write_bytes
from workbench.errors import WorkbenchError, describe_error
from workbench.usercode.importing import use_copy, user_code_words


def _answerers() -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    from workbench.data.sources.code_items import probe_dataset
    from workbench.model.code_model import probe_model

    return {"model": probe_model, "dataset": probe_dataset}


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """The answer to one request: ``{"ok": True, ...facts}`` or ``{"ok": False, "error": line, "details": traceback}``."""
    try:
        for original, copy in dict(request.get("copies") or {}).items():  # a run's copy, as its process uses
            use_copy(Path(original), Path(copy))
        kind = request.get("kind")
        answerers = _answerers()
        if kind not in answerers:
            raise WorkbenchError(f"unknown probe kind {kind!r}")
        return {"ok": True, **answerers[kind](request)}
    except WorkbenchError as error:
        return {"ok": False, "error": str(error), "details": getattr(error, "details", "") or traceback.format_exc()}
    except (Exception, SystemExit) as error:  # noqa: BLE001 - every failure of the user's code is an answer
        return {"ok": False, "error": user_code_words(error) or describe_error(error), "details": traceback.format_exc()}


def main() -> None:
    answer_path = Path(os.environ["WORKBENCH_PROBE_ANSWER"])
    if "--warm" in sys.argv[1:]:  # started ahead of the question: torch is imported while it waits
        _answerers()
    text = sys.stdin.read()
    if not text.strip():  # whoever started it ahead went away without a question
        os._exit(0)
    request = json.loads(text)
    result = answer(request)
    atomic_write_bytes(answer_path, json.dumps(result).encode("utf-8"))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # not sys.exit: a thread or an atexit hook of the user's code must not keep us


if __name__ == "__main__":
    main()
