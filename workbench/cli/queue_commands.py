"""``workbench queue``: what waits to train, reordered and cancelled from the shell.

The queue is files (:mod:`workbench.scheduling.queue`); a feeder process starts its entries as slots
free up (:mod:`workbench.scheduling.feeder`). ``workbench queue start`` starts a feeder again after
one was killed (any new sweep or ``train --queue`` does too); ``queue feed`` is that process.
"""

from __future__ import annotations

import argparse
import json

from rich.console import Console


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("queue", help="list the queue of runs and sweep points, move or cancel an entry")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=queue_list_command)
    actions = parser.add_subparsers(dest="queue_action", metavar="ACTION")
    move = actions.add_parser("move", help="move an entry up, down, to the top or the bottom")
    move.add_argument("entry", metavar="ID", help="queue entry id or a unique prefix of one")
    move.add_argument("where", choices=("up", "down", "top", "bottom"))
    move.set_defaults(handler=queue_move_command)
    cancel = actions.add_parser("cancel", help="take an entry (or a sweep's queued points) out of the queue")
    cancel.add_argument("entry", metavar="ID", help="queue entry id, a unique prefix of one, or a sweep id")
    cancel.set_defaults(handler=queue_cancel_command)
    start = actions.add_parser("start", help="start feeding the queue (after its feeder was killed), or change --parallel")
    start.add_argument("--parallel", type=int, metavar="K", help="runs at once (default: one per GPU, one without)")
    start.add_argument("--notify", metavar="CMD|URL", help="told when the queue has run dry")
    start.set_defaults(handler=queue_start_command)
    feed = actions.add_parser("feed", help=argparse.SUPPRESS)
    feed.set_defaults(handler=queue_feed_command)


def queue_list_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.cli.run_commands import text_table
    from workbench.scheduling import queue
    from workbench.scheduling.launch import gpu_count

    listing = queue.read_queue()
    live = queue.live_queue_runs()
    pid = queue.feeder_pid()
    if args.json:
        console.print_json(
            json.dumps(
                {
                    "entries": [queue.as_dict(e) for e in listing.entries],
                    "running": [run.id for run, _ in live],
                    "damaged": [{"path": str(d.path), "reason": d.reason} for d in listing.damaged],
                    "refused": [{"path": str(d.path), "reason": d.reason} for d in listing.refused],
                    "feeder_pid": pid,
                }
            )
        )
        return 0
    settings = queue.read_settings()
    feeder = f"fed by process {pid}" if pid else "no feeder (workbench queue start)" if listing.entries else "idle"
    say = lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    say(f"queue: {len(listing.entries)} waiting, {len(live)} running, {queue.describe_settings(settings, gpu_count())}; {feeder}")
    rows = [(run.id, "running", status.sweep or "-", status.name) for run, status in live]
    rows += [(e.id, f"#{i}", e.sweep or "-", e.label or e.name) for i, e in enumerate(listing.entries, start=1)]
    if rows:
        console.print(
            text_table(("id", "place", "sweep", "what"), rows, right=set(), ruled=console.is_terminal), crop=False, soft_wrap=True
        )
    for problem in [*listing.damaged]:
        console.print(problem.text(), markup=False, highlight=False, soft_wrap=True, style="red")
    for refused in listing.refused:
        console.print(f"{refused.path}: could not start ({refused.reason}); set aside", markup=False, soft_wrap=True, style="red")
    return 0


def queue_move_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.scheduling import queue

    entries = queue.move(args.entry, args.where)
    moved = queue.find_entries(args.entry)[0].id
    place = next(i for i, e in enumerate(entries, start=1) if e.id == moved)
    console.print(f"{moved} is now #{place} of {len(entries)}", markup=False, highlight=False)
    return 0


def queue_cancel_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.scheduling import queue

    for entry in queue.cancel(args.entry):
        console.print(f"cancelled {entry.id}", markup=False, highlight=False)
    return 0


def queue_start_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.scheduling import queue

    if args.parallel is not None or args.notify is not None:
        queue.write_settings(parallel=args.parallel, notify=args.notify)
    running = queue.feeder_running()
    queue.ensure_feeder()
    console.print("a feeder is already feeding the queue" if running else "feeding the queue", markup=False)
    return 0


def queue_feed_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.scheduling.feeder import feed

    return feed()
