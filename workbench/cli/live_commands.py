"""``workbench logs``, ``pause``, ``continue``, ``stop`` and ``attach``: reach a run from anywhere.

A run trains in a process of its own; these commands work on it from any terminal of the same
user, whoever started it (the app, ``workbench train``, detached or not). ``logs`` prints the
same lines as the app's log; ``--follow`` keeps printing until the run ends. A run of another
host (``gpu1:RUN``) is reached over ssh: its metrics are mirrored here and printed by the same
code (:mod:`workbench.cli.remote_commands`). ``--json`` is what a near side asks of this host:
``logs --json`` streams the raw metrics lines from a byte offset, the controls answer in JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console

from workbench.cli.remote_commands import add_remote_argument, far_output, remote_named
from workbench.errors import WorkbenchError
from workbench.formatting import counted
from workbench.hosts.ids import split_run_ref
from workbench.runs.history import LogLine, RunHistory
from workbench.runs.mirrored import qualified_ref

if TYPE_CHECKING:
    from workbench.runs.folder import RunDir
    from workbench.runs.follow import FollowUpdate

#: Seconds between two reads of a followed run (`logs --follow`).
FOLLOW_POLL_S = 0.2
#: How long `pause`, `continue` and `stop` wait to see their request take effect, by default.
WAIT_S = {"pause": 30.0, "continue": 30.0, "stop": 120.0}
RUN_HELP = "run id, a unique prefix of one, or 'latest'; HOST:RUN for a run of another host"


def register(sub: argparse._SubParsersAction) -> None:
    logs = sub.add_parser("logs", help="print a run's epochs and messages (--follow: until it ends)")
    logs.add_argument("run", metavar="RUN", help=RUN_HELP)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing while the run trains")
    logs.add_argument("--json", action="store_true", help="the raw metrics lines as JSON lines, with their byte offsets")
    logs.add_argument("--offset", type=int, default=0, metavar="N", help="with --json: from byte N of metrics.jsonl")
    logs.add_argument("--resolve", action="store_true", help=argparse.SUPPRESS)  # with --json: the full id RUN names
    add_remote_argument(logs, suppress_default=True)
    logs.set_defaults(handler=logs_command)

    for action, text in (
        ("pause", "pause a running run at its next step"),
        ("continue", "continue a paused run"),
        ("stop", "stop a run: it saves a checkpoint, then ends (`workbench resume` continues it)"),
    ):
        command = sub.add_parser(action, help=text)
        command.add_argument("run", metavar="RUN", help=RUN_HELP)
        command.add_argument("--no-wait", action="store_true", help="return once the request is sent")
        command.add_argument("--json", action="store_true", help="print the outcome as JSON")
        add_remote_argument(command, suppress_default=True)
        command.set_defaults(handler=control_command, action=action)

    attach = sub.add_parser("attach", help="open the app on a run's live view")
    attach.add_argument("run", metavar="RUN", help=RUN_HELP)
    add_remote_argument(attach, suppress_default=True)
    attach.set_defaults(handler=attach_command)


def logs_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.runs.follow import RunFollower
    from workbench.runs.status import LIVE_STATES
    from workbench.runs.store import find_run

    host, ref = split_run_ref(args.run)
    if host is not None:
        if args.json:
            raise WorkbenchError("logs --json reads a run of this machine; give its id without a host")
        return follow_remote(args, host, ref, console, follow=args.follow)
    run = find_run(args.run)
    if args.json:
        return _far_logs(run, args)
    if run.metrics_path.exists():  # one it may not read is one line naming it, not an empty log
        run.metrics_path.open("rb").close()
    follower = RunFollower(run)

    def over(update: FollowUpdate) -> str | None:
        if update.gone:
            raise WorkbenchError(f"run {run.id}: its folder {run.path} was deleted")
        return update.state if not args.follow or update.state not in LIVE_STATES else None

    print_log(run, follower.poll, over, args.follow, console, f"`workbench resume {run.id}`")
    return 0


def print_log(
    run: RunDir,
    poll: Callable[[], FollowUpdate],
    over: Callable[[FollowUpdate], str | None],
    follow: bool,
    console: Console,
    resume: str,
    shown_id: str = "",
) -> None:
    """Print a run's log lines from ``poll`` until ``over`` says the run's state at its end; a
    followed run that ended without its last word (killed) gets the notice the app shows."""
    from workbench.runs.words import RunFacts, end_notice

    history = RunHistory()
    while True:
        update = poll()
        for event, when in update.events:
            line = history.add(event, when)
            if line is not None:
                _print_line(console, line)
        state = over(update)
        if state is not None:
            if follow and not history.is_over:
                notice = end_notice(RunFacts(run.id, state, history), resume=resume)
                _print_line(console, LogLine("warning", f"run {shown_id or run.id}: {notice.text}"))
            return
        time.sleep(FOLLOW_POLL_S)


def _far_logs(run: RunDir, args: argparse.Namespace) -> int:
    """``logs RUN --json``: what a near side mirrors (see workbench.hosts.far.stream_metrics)."""
    from workbench.hosts.far import json_lines, stream_metrics

    if args.resolve:
        print(json.dumps({"run": run.id}), flush=True)
        return 0
    if args.offset < 0:
        raise WorkbenchError(f"--offset {args.offset}: give a byte offset of 0 or more")
    with far_output():
        stream_metrics(run, args.offset, args.follow, json_lines(sys.stdout))
    return 0


def follow_remote(args: argparse.Namespace, host: str, ref: str, console: Console, follow: bool = True) -> int:
    """``logs HOST:RUN``: the run's metrics mirrored here (``follow``: until it ends, resuming
    after a dropped connection), printed by :func:`print_log` from the mirror as a local run's are."""
    from workbench.cli.remote_commands import mirrored_log
    from workbench.runs.follow import RunFollower

    remote = remote_named(args, host)
    with mirrored_log(remote, ref, follow) as (run, ended):
        follower = RunFollower(run)
        print_log(
            run,
            lambda: follower.poll(with_state=False),
            lambda update: ended(),
            follow,
            console,
            f"`workbench resume {host}:{run.id}`",
            qualified_ref(host, run.id),
        )
    return 0


def _print_line(console: Console, line: LogLine) -> None:
    console.print(line.stamp + line.text, style=line.style or None, markup=False, highlight=False, soft_wrap=True)


def control_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.runs.process_control import send_request, wait_for_state
    from workbench.runs.store import find_run

    action = args.action
    say = lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    host, ref = split_run_ref(args.run)
    if host is not None:
        from workbench.cli.remote_commands import control_remote

        say(control_remote(remote_named(args, host), ref, action, args.no_wait))
        return 0
    run = find_run(ref)
    send_request(run, action)
    if args.no_wait:
        return _answer(args, console, run, "", f"asked run {run.id} to {action}")
    if action == "stop" and not args.json:
        say(f"stopping {run.id}: it saves a checkpoint first…")
    state = wait_for_state(run, action, WAIT_S[action])
    if state is None:
        raise WorkbenchError(
            f"run {run.id} has not answered the {action} request within {WAIT_S[action]:.0f}s; it is {run.state()}"
        )
    status = run.read_status()
    if action == "stop":
        text = (
            f"{run.id} is {state} with {counted(status.epochs_done, 'epoch')} done; continue it with: workbench resume {run.id}"
        )
    else:
        text = f"{run.id} is {state}"
    return _answer(args, console, run, state, text)


def _answer(args: argparse.Namespace, console: Console, run: RunDir, state: str, text: str) -> int:
    """Say what a control did: its line, or (``--json``, for a near side) the line with the run's state."""
    if args.json:
        print(json.dumps({"run": run.id, "action": args.action, "state": state, "message": text}), flush=True)
    else:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
    return 0


def attach_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.runs.store import find_run
    from workbench.tui.app import run_app

    host, ref = split_run_ref(args.run)
    remotes = list(getattr(args, "remote", None) or ())
    if host is None:
        run_app(None, attach=find_run(ref).id, remotes=remotes)  # ends the process
    from workbench.cli.remote_commands import resolve_far_run

    remote = remote_named(args, host)
    if remotes and host not in [item.partition("=")[0] for item in remotes]:
        remotes.append(host)
    run_app(None, attach=qualified_ref(host, resolve_far_run(remote, ref)), remotes=remotes)  # ends the process
