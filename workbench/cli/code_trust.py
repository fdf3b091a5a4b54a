"""``--trust-code``: the commands that run a run's copy of the user's code (resume, eval,
export, predict) check it first, and refuse in one line a copy another user made or one that
changed since it was made (:mod:`workbench.usercode.copies`); the flag says the user knows it.

The check is torch-free and comes before the model is built, so a refusal is said at once; the
line that an original file changed since (the run uses its copy) goes to stderr, beside the
command's own output, which stays what scripts read.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from workbench.runs.folder import RunDir
    from workbench.schema.config import RunConfig

TRUST_HELP = (
    "run the run's copy of your code even when another user made the run or the copy changed since "
    "it was made (code.json in the run's folder records it)"
)


def add_trust_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trust-code", action="store_true", help=TRUST_HELP)


def use_run_code_here(run: RunDir, trust: bool) -> None:
    """This process builds ``run``'s model or data with the run's copy of the user's code, once
    checked (unless ``trust``); one line on stderr when an original changed since."""
    from workbench.usercode.copies import trust_named_code, use_run_code

    trust_named_code(trust)  # for a checkpoint file given outside the run's folder (--checkpoint FILE)
    note = use_run_code(run.path, _config(run), trust=trust)
    if note:
        Console(stderr=True, highlight=False, markup=False).print(f"note: {note}", soft_wrap=True, style="yellow")


def _config(run: RunDir) -> RunConfig | None:
    """The run's experiment; None when it cannot be read (a run whose config.toml is gone still
    evaluates from its checkpoint, and its code.json says whether it runs code)."""
    from workbench.errors import WorkbenchError

    try:
        return run.read_config()
    except WorkbenchError:
        return None
