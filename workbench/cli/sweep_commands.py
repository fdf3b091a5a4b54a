"""``workbench sweep list|show|cancel|work``: sweeps from the shell (``workbench train --sweep``
starts them: :mod:`workbench.cli.sweep_training`). ``sweep show`` prints the sweep's table,
best point first, as the app's sweep view shows it (:mod:`workbench.scheduling.sweep_table`),
then every trial of its study with the host that ran it. ``sweep work SWEEP --storage URL``
feeds a sweep whose study is in a database from this machine's own queue, until its points are
all taken.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from rich.console import Console

from workbench.errors import WorkbenchError
from workbench.formatting import counted

# ----------------------------------------------------------------------------- workbench sweep


def register(sub: argparse._SubParsersAction) -> None:
    sweep = sub.add_parser("sweep", help="list sweeps, show one's table (best point first), cancel its queued points")
    actions = sweep.add_subparsers(dest="sweep_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every sweep: its points, state and best")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(handler=sweep_list_command)
    show = actions.add_parser("show", help="a sweep's table: hyperparameters as columns, then metrics, best first")
    show.add_argument("sweep", metavar="SWEEP", help="sweep id, a unique prefix of one, or 'latest'")
    show.add_argument(
        "--sort", metavar="METRIC", help="order by a metric (default: the monitored one; test_acc, test_loss...) or a setting"
    )
    show.add_argument("--reverse", action="store_true", help="worst first")
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show.set_defaults(handler=sweep_show_command)
    cancel = actions.add_parser("cancel", help="take a sweep's queued points out of the queue (its running ones go on)")
    cancel.add_argument("sweep", metavar="SWEEP", help="sweep id, a unique prefix of one, or 'latest'")
    cancel.set_defaults(handler=sweep_cancel_command)
    work = actions.add_parser(
        "work",
        help="feed a sweep whose study is in a database from this machine's queue (one run per GPU) until its points are taken",
    )
    work.add_argument("sweep", metavar="SWEEP", help="the sweep's id (its study's name), as `workbench train --sweep` printed it")
    work.add_argument("--storage", metavar="URL", required=True, help="the database its study is in (postgresql://...)")
    work.add_argument("--parallel", type=int, metavar="K", help="runs this machine trains at once (default: one per GPU)")
    work.add_argument("--device", metavar="DEVICE", help="the device of its runs (default: each point's own)")
    work.set_defaults(handler=sweep_work_command)


def sweep_list_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.cli.run_commands import text_table
    from workbench.runs.store import runs_with_status
    from workbench.scheduling.queue import read_queue
    from workbench.scheduling.sweep import all_sweeps, sweep_problem
    from workbench.scheduling.sweep_table import sweep_table

    rows, data = [], []
    listing, runs = read_queue(), runs_with_status()  # once for every sweep, not once each
    for sweep in all_sweeps():
        problem = sweep_problem(sweep)
        if problem:
            rows.append((sweep.id, "damaged", "-", problem))
            data.append({"id": sweep.id, "state": "damaged", "message": problem})
            continue
        table = sweep_table(sweep, listing=listing, runs=runs)
        best = table.best
        rows.append((sweep.id, table.progress.state, table.best_text(), table.progress.text()))
        data.append(
            {"id": sweep.id, "state": table.progress.state, "best_run": best.id if best else None, "text": table.progress.text()}
        )
    if args.json:
        console.print_json(json.dumps(data))
        return 0
    if not rows:
        console.print(
            "no sweeps yet; start one with: workbench train digits-mlp --sweep optimizer.lr=0.01,0.05",
            markup=False,
            soft_wrap=True,
        )
        return 0
    console.print(
        text_table(("sweep", "state", "best", "points"), rows, right=set(), ruled=console.is_terminal), crop=False, soft_wrap=True
    )
    return 0


def sweep_show_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.cli.run_commands import text_table
    from workbench.scheduling.sweep import find_sweep
    from workbench.scheduling.sweep_table import sweep_table

    sweep = find_sweep(args.sweep)
    table = sweep_table(sweep, args.sort, reverse=args.reverse)
    if args.json:
        from workbench.scheduling.sweep_table import trial_table

        rows = [dict(zip(table.header(), row, strict=True)) for row in table.rows()]
        trials = trial_table(sweep)
        study = [dict(zip(trials.header, row, strict=True)) for row in trials.rows] if trials else []
        data = {"sweep": sweep.id, "state": table.progress.state, "sort": table.sort, "rows": rows, "trials": study}
        console.print_json(json.dumps(data))
        return 0
    meta = sweep.read_meta()
    if table.sorted_by_metric:
        direction = "worst first" if args.reverse else "best first"
    else:
        direction = "descending" if args.reverse else "ascending"
    console.print(
        f"sweep {sweep.id}  {table.progress.text()}  axes: {'  '.join(meta.get('axes', []))}  sorted by {table.sort}, {direction}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if table.rows():
        right = {"#", "epochs", "time", *table.metrics}
        console.print(
            text_table(table.header(), table.rows(), right=right, ruled=console.is_terminal), crop=False, soft_wrap=True
        )
    else:
        console.print("no point has started yet; see: workbench queue", markup=False)
    best = table.best
    if best is not None:
        console.print(
            f"best: {best.id}  (open it: workbench {best.path}/config.toml)", markup=False, highlight=False, soft_wrap=True
        )
    _print_trials(sweep, console)
    return 0


def _print_trials(sweep: Any, console: Console) -> None:
    """Every trial of the sweep's study, on whichever machine it ran, best first."""
    from workbench.cli.run_commands import text_table
    from workbench.scheduling.sweep_table import trial_table

    trials = trial_table(sweep)
    if trials is None or not trials.rows:
        return
    console.print(f"its study: {trials.text}", markup=False, highlight=False, soft_wrap=True)
    right = {"#", "value", "epochs"}
    console.print(text_table(trials.header, trials.rows, right=right, ruled=console.is_terminal), crop=False, soft_wrap=True)


def sweep_work_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.scheduling import queue
    from workbench.scheduling.feeder import feed
    from workbench.scheduling.sweep import join_sweep

    if args.parallel is not None:
        if args.parallel < 1:
            raise WorkbenchError(f"--parallel {args.parallel}: give 1 or more runs at once")
        queue.write_settings(parallel=args.parallel)
    sweep = join_sweep(args.sweep, args.storage, device=args.device or "")
    console.print(f"feeding sweep {sweep.id} from {queue.queue_dir()}", markup=False, highlight=False, soft_wrap=True)
    while feed() != 0:  # this home's feeder has it: wait until it is done
        time.sleep(2.0)
    return 0


def sweep_cancel_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.scheduling import queue
    from workbench.scheduling.sweep import find_sweep

    sweep = find_sweep(args.sweep)
    if not any(entry.sweep == sweep.id for entry in queue.read_queue().entries):
        raise WorkbenchError(f"sweep {sweep.id} has no queued points; stop a running one with workbench stop RUN")
    cancelled = queue.cancel(sweep.id)
    console.print(f"cancelled {counted(len(cancelled), 'queued point')} of {sweep.id}", markup=False)
    return 0
