"""``--notify``: tell someone who walked away that a run has ended.

A sink of the run's events: when the run finishes, stops or fails, it hands a small JSON
report to the target the person gave. A target that starts with ``http://`` or ``https://`` is
a webhook and gets the report as the body of a POST; anything else is a shell command, run with
the report on its standard input and in the environment (``WORKBENCH_RUN`` or ``WORKBENCH_SWEEP``,
``WORKBENCH_STATE``, ``WORKBENCH_TEXT``), so ``--notify 'notify-send "$WORKBENCH_TEXT"'`` works as well as a script
reading JSON. A notice that cannot be delivered never fails the run: it is one line on stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from typing import Any

from workbench.runs import events as ev
from workbench.runs.history import failure_text, finished_text

#: Seconds a command or a webhook gets before the notice is given up.
NOTIFY_TIMEOUT_S = 30


def is_webhook(target: str) -> bool:
    return target.startswith(("http://", "https://"))


class EndNotifier:
    """Sink that sends :func:`end_report` to ``target`` once the run has ended."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.run_id = ""
        self.run_dir = ""

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self.run_id, self.run_dir = event.run_id, event.run_dir
        elif isinstance(event, ev.RunFinished | ev.RunFailed):
            deliver(self.target, end_report(event, self.run_id, self.run_dir))


def deliver(target: str, report: dict[str, Any]) -> None:
    """Send ``report`` (``state`` and ``text``, and ``run`` or ``sweep``...) to ``target``; a
    notice that cannot be delivered is one line on stderr, never an error of its sender."""
    try:
        _send(target, report)
    except (OSError, ValueError, subprocess.SubprocessError) as error:
        print(f"--notify {target}: the notice was not delivered ({error})", file=sys.stderr)


def _send(target: str, report: dict[str, Any]) -> None:
    body = json.dumps(report, allow_nan=False, default=str).encode()
    if is_webhook(target):
        request = urllib.request.Request(target, data=body, headers={"Content-Type": "application/json"})
        # A fresh opener reads the proxy settings now: urlopen's shared one keeps those of the
        # first request the process made (a dataset download, perhaps under other settings).
        with urllib.request.build_opener().open(request, timeout=NOTIFY_TIMEOUT_S) as response:
            response.read()
        return
    named = {f"WORKBENCH_{key.upper()}": str(report[key]) for key in ("run", "sweep", "state", "text") if key in report}
    done = subprocess.run(target, shell=True, input=body, env=os.environ | named, timeout=NOTIFY_TIMEOUT_S, check=False)  # noqa: S602
    if done.returncode:
        raise subprocess.SubprocessError(f"the command exited with {done.returncode}")


def end_report(event: ev.RunFinished | ev.RunFailed, run_id: str, run_dir: str) -> dict[str, Any]:
    """What a notice says: the run, how it ended in one line (as its log says it), and its figures."""
    if isinstance(event, ev.RunFailed):
        return {"run": run_id, "folder": run_dir, "state": "failed", "text": failure_text(event.message, None)}
    finite = {k: v for k, v in event.test.items() if v == v and abs(v) != float("inf")}  # JSON has no nan
    return {
        "run": run_id,
        "folder": run_dir,
        "state": event.state,
        "text": finished_text(event, run_id),
        "epochs_done": event.epochs_done,
        "test": finite,
    }
