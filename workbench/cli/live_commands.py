"""``workbench logs``, ``pause``, ``continue``, ``stop`` and ``attach``: reach a run from anywhere.

A run trains in a process of its own; these commands work on it from any terminal of the same
user, whoever started it (the app, ``workbench train``, detached or not). ``logs`` prints the
same lines as the app's log; ``--follow`` keeps printing until the run ends.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console

from workbench.errors import WorkbenchError
from workbench.formatting import counted
from workbench.runs.history import LogLine, RunHistory

#: Seconds between two reads of a followed run (`logs --follow`).
FOLLOW_POLL_S = 0.2
#: How long `pause`, `continue` and `stop` wait to see their request take effect, by default.
WAIT_S = {"pause": 30.0, "continue": 30.0, "stop": 120.0}


def register(sub: argparse._SubParsersAction) -> None:
    logs = sub.add_parser("logs", help="print a run's epochs and messages (--follow: until it ends)")
    logs.add_argument("run", metavar="RUN", help="run id, a unique prefix of one, or 'latest'")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing while the run trains")
    logs.set_defaults(handler=logs_command)

    for action, text in (
        ("pause", "pause a running run at its next step"),
        ("continue", "continue a paused run"),
        ("stop", "stop a run: it saves a checkpoint, then ends (`workbench resume` continues it)"),
    ):
        command = sub.add_parser(action, help=text)
        command.add_argument("run", metavar="RUN", help="run id, a unique prefix of one, or 'latest'")
        command.add_argument("--no-wait", action="store_true", help="return once the request is sent")
        command.set_defaults(handler=control_command, action=action)

    attach = sub.add_parser("attach", help="open the app on a run's live view")
    attach.add_argument("run", metavar="RUN", help="run id, a unique prefix of one, or 'latest'")
    attach.set_defaults(handler=attach_command)


def logs_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.runs.follow import RunFollower
    from workbench.runs.status import LIVE_STATES
    from workbench.runs.store import find_run
    from workbench.runs.words import RunFacts, end_notice

    run = find_run(args.run)
    if run.metrics_path.exists():  # one it may not read is one line naming it, not an empty log
        run.metrics_path.open("rb").close()
    follower = RunFollower(run)
    history = RunHistory()
    while True:
        update = follower.poll()
        for event, when in update.events:
            line = history.add(event, when)
            if line is not None:
                _print_line(console, line)
        if update.gone:
            raise WorkbenchError(f"run {run.id}: its folder {run.path} was deleted")
        if not args.follow or update.state not in LIVE_STATES:
            if args.follow and not history.is_over:
                notice = end_notice(RunFacts(run.id, update.state, history), resume=f"`workbench resume {run.id}`")
                _print_line(console, LogLine("warning", f"run {run.id}: {notice.text}"))
            return 0
        time.sleep(FOLLOW_POLL_S)


def _print_line(console: Console, line: LogLine) -> None:
    console.print(line.stamp + line.text, style=line.style or None, markup=False, highlight=False, soft_wrap=True)


def control_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.runs.process_control import send_request, wait_for_state
    from workbench.runs.store import find_run

    run = find_run(args.run)
    action = args.action
    send_request(run, action)
    say = lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    if args.no_wait:
        say(f"asked run {run.id} to {action}")
        return 0
    if action == "stop":
        say(f"stopping {run.id}: it saves a checkpoint first…")
    state = wait_for_state(run, action, WAIT_S[action])
    if state is None:
        raise WorkbenchError(
            f"run {run.id} has not answered the {action} request within {WAIT_S[action]:.0f}s; it is {run.state()}"
        )
    status = run.read_status()
    if action == "stop":
        say(f"{run.id} is {state} with {counted(status.epochs_done, 'epoch')} done; continue it with: workbench resume {run.id}")
    else:
        say(f"{run.id} is {state}")
    return 0


def attach_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.runs.store import find_run
    from workbench.tui.app import run_app

    run_app(None, attach=find_run(args.run).id)  # ends the process
