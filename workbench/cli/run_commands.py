"""``workbench train``, ``runs``, ``eval``, ``resume`` and ``delete``: runs from the shell.

Training renders the engine's events: on a terminal a live bar per epoch (ETA, loss, accuracy,
LR, samples/s) above which each finished epoch leaves one line; elsewhere (a pipe, nohup, the
log file of a detached run) only plain lines. Ctrl+C, SIGTERM and a closed terminal (SIGHUP)
ask the trainer to stop between two steps: it checkpoints, marks the run stopped and the
command exits 130; ``workbench resume`` continues it. Every launch is planned and checked by
:mod:`workbench.scheduling.plan`, as the app's and the queue's are: ``--detach`` starts the run
as a process of its own, ``--queue`` puts it in the queue, each printing its id and returning.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from workbench.cli.code_trust import add_trust_argument, use_run_code_here
from workbench.cli.export_commands import add_tensorboard_argument, tensorboard_folder
from workbench.cli.remote_commands import add_remote_argument
from workbench.cli.setup_commands import add_override_argument
from workbench.cli.sweep_training import add_sweep_arguments, queue_sweep, wants_sweep
from workbench.engine.control import Control
from workbench.errors import WorkbenchError
from workbench.formatting import count, duration, metrics_text, rate
from workbench.hosts.ids import split_run_ref
from workbench.runs import events as ev
from workbench.runs.history import epoch_line, stopped_text
from workbench.runs.listing import HOST_COLUMN, LISTING_COLUMNS, RunSummary, listing_cells

if TYPE_CHECKING:
    from workbench.engine.evaluate import Evaluation
    from workbench.engine.trainer import Trainer
    from workbench.runs.folder import RunDir
    from workbench.scheduling.launch import Workers
    from workbench.scheduling.plan import How, Launched, LaunchPlan
    from workbench.schema.config import RunConfig

#: What ``--notify`` does, for train and resume.
NOTIFY_HELP = (
    "when the run ends (finished, stopped, failed): run this shell command with a JSON report on its input "
    "(and WORKBENCH_RUN, WORKBENCH_STATE, WORKBENCH_TEXT set), or POST the report to this http(s) URL"
)
EXIT_STOPPED = 130
TENSORBOARD_HELP = "also write TensorBoard event files: to DIR/<run id>, or without DIR to tb/ in the run's folder"


def register(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train an experiment headless, one line per epoch")
    train.add_argument(
        "experiment",
        metavar="PRESET|FILE",
        nargs="?",
        help="preset name or TOML file; - reads the experiment's TOML from standard input",
    )
    add_override_argument(train)
    train.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the experiment's train.device)")
    train.add_argument("--name", help="name of the run (default: the experiment's name)")
    train.add_argument("--epochs", type=int, help="number of epochs (same as --set train.epochs=N)")
    train.add_argument(
        "--json",
        action="store_true",
        help="print a JSON summary on stdout at the end (--detach: the run's id, folder and log at once)",
    )
    train.add_argument("--detach", action="store_true", help="train in a process of its own: print the run id and return")
    train.add_argument(
        "--on", metavar="HOST", help="train on another host (a name of --remote or [remotes]); its log follows, or --detach"
    )
    add_remote_argument(train, suppress_default=True)
    add_tensorboard_argument(train, TENSORBOARD_HELP)
    train.add_argument("--notify", metavar="CMD|URL", help=NOTIFY_HELP)
    add_worker_arguments(train)
    add_sweep_arguments(train)
    # The process that `--detach` and the app start: train the run already created in this folder.
    train.add_argument("--run-dir", help=argparse.SUPPRESS)
    train.set_defaults(handler=train_command)

    runs = sub.add_parser("runs", help="list the runs, newest last")
    runs.add_argument(
        "words", nargs="*", metavar="WORD", help="only the runs whose id, name, data, model, state or sweep hold every word"
    )
    runs.add_argument("--json", action="store_true", help="print JSON instead of a table")
    runs.add_argument(
        "--watch", action="store_true", help="with --json: keep printing each run's status as it changes, one JSON line each"
    )
    add_remote_argument(runs, suppress_default=True)
    runs.set_defaults(handler=runs_command)

    evaluate = sub.add_parser("eval", help="evaluate a run's checkpoint on the test or validation split")
    evaluate.add_argument("run", metavar="RUN", help="run id, a unique prefix of one, or 'latest'; HOST:RUN: evaluated there")
    evaluate.add_argument("--checkpoint", help="best, last, an epoch number, or a file (default: the one the run's test used)")
    evaluate.add_argument("--split", choices=("test", "val"), default="test")
    evaluate.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the run's train.device)")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    add_trust_argument(evaluate)
    add_remote_argument(evaluate, suppress_default=True)
    evaluate.set_defaults(handler=eval_command)

    resume = sub.add_parser("resume", help="continue a stopped, interrupted or finished run")
    resume.add_argument("run", metavar="RUN", help="run id, a unique prefix of one, or 'latest'; HOST:RUN: resumed there")
    resume.add_argument("--epochs", type=int, help="new total number of epochs")
    resume.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the run's train.device)")
    resume.add_argument(
        "--json",
        action="store_true",
        help="print a JSON summary on stdout at the end (--detach: the run's id, folder and log at once)",
    )
    resume.add_argument("--detach", action="store_true", help="resume in a process of its own: print the run id and return")
    add_tensorboard_argument(resume, TENSORBOARD_HELP)
    resume.add_argument("--notify", metavar="CMD|URL", help=NOTIFY_HELP)
    add_trust_argument(resume)
    add_worker_arguments(resume)
    add_remote_argument(resume, suppress_default=True)
    resume.set_defaults(handler=resume_command)

    delete = sub.add_parser("delete", help="delete a run and its checkpoints")
    delete.add_argument("run", metavar="RUN", help="run id, a unique prefix of one, or 'latest'")
    delete.add_argument("--yes", action="store_true", help="do not ask")
    delete.set_defaults(handler=delete_command)


# ----------------------------------------------------------------------------- train and resume


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """torchrun's options, for a run trained by several processes (DistributedDataParallel)."""
    group = parser.add_argument_group("several workers (DistributedDataParallel through torchrun)")
    group.add_argument(
        "--nproc-per-node",
        type=int,
        metavar="N",
        help="worker processes on this machine, one per GPU (default: the experiment's train.workers; "
        "data.batch_size stays the global batch)",
    )
    group.add_argument("--nnodes", type=int, default=1, metavar="M", help="machines that train the run together")
    group.add_argument("--node-rank", type=int, default=0, metavar="R", help="this machine's place, 0 to M-1 (0 records the run)")
    group.add_argument("--rdzv-endpoint", default="", metavar="HOST:PORT", help="the first machine's host and a free port")


def _workers(args: argparse.Namespace, train_workers: int) -> Workers:
    """The workers asked for (``--nproc-per-node``, else the experiment's ``train.workers``); the
    plan checks them. Inside a worker that torchrun started, the options are torchrun's
    already: one process here."""
    from workbench.scheduling.launch import ONE_WORKER, Workers

    if _started_by_torchrun():
        return ONE_WORKER
    per_node = train_workers if args.nproc_per_node is None else args.nproc_per_node
    return Workers(per_node, args.nnodes, args.node_rank, args.rdzv_endpoint)


def _started_by_torchrun() -> bool:
    """True in a worker that torchrun started: its launch was planned where torchrun was started."""
    from workbench.engine.distributed import place_from_environment

    return not place_from_environment().alone


def _cuda_devices(device: str, named: bool) -> Callable[[], int]:
    """How the CLI counts this machine's CUDA devices for a plan (with torch): once the run's
    ``device`` (``named`` by --device, else the experiment's) is known to exist here, one line if not."""

    def count() -> int:
        import torch

        from workbench.engine.device import resolve_device

        resolve_device(device, "--device" if named else "train.device")
        return torch.cuda.device_count() if torch.cuda.is_available() else 0

    return count


def _how(args: argparse.Namespace) -> How:
    """How ``workbench train`` trains: queued (``--queue``), detached, or here."""
    from workbench.scheduling.plan import DETACHED, FOREGROUND, QUEUED

    if args.queue:
        return QUEUED
    return DETACHED if args.detach else FOREGROUND


def _train_together(plan: LaunchPlan, args: argparse.Namespace, joining: list[str] | None = None) -> int:
    """Train the plan with several workers in the foreground (the run's own output on this
    terminal); the exit status says how the run ended, as for one process. On a machine other
    than the first, the workers join the run the first one records (``joining``: a new run's
    command there)."""
    from workbench.scheduling.launch import train_in_foreground
    from workbench.scheduling.plan import process_args, ready_run

    json_flag = ["--json"] if args.json else []
    if plan.workers.node_rank > 0:
        command = process_args(plan, plan.run) if plan.run is not None else joining or []
        return train_in_foreground(plan.workers, command + json_flag, None)
    run = ready_run(plan)
    status = train_in_foreground(plan.workers, process_args(plan, run) + json_flag, run)
    state = run.read_status().state
    if state == "stopped":
        return EXIT_STOPPED
    return 0 if state in ("finished", "early_stopped") else status or 1


def train_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.runs.folder import RunDir
    from workbench.scheduling.plan import FOREGROUND, QUEUED, carry_out, plan_new_run

    if args.run_dir:  # the process a detached plan started: train the run made in this folder
        run = RunDir(Path(args.run_dir))
        return _drive(
            lambda sinks, control: _trainer(run.read_config(), sinks, control, run=run, device=args.device), args, console
        )
    if not args.experiment:
        raise WorkbenchError("train: name a preset or an experiment file (see `workbench presets`)")
    if args.experiment != "-" and wants_sweep(args):  # a sweep is queued here, from a file
        return queue_sweep(args, console)
    overrides = list(args.overrides) + ([f"train.epochs={args.epochs}"] if args.epochs is not None else [])
    experiment = _read_experiment(args.experiment, overrides, machine=not args.on)
    if args.name:
        experiment.name = args.name
    if args.on:
        return _train_on(args, experiment, console)
    plan = plan_new_run(
        experiment,
        how=_how(args),
        gpus=_cuda_devices(args.device or experiment.train.device, bool(args.device)),
        device=args.device,
        workers=_workers(args, experiment.train.workers),
        tensorboard=_tensorboard_dir(args),
        notify=args.notify,
    )
    if plan.how == QUEUED and args.parallel is not None:
        from workbench.scheduling import queue

        queue.write_settings(parallel=args.parallel)
    if plan.how != FOREGROUND:
        return _launched(carry_out(plan), console, args.json)
    if plan.workers.distributed:
        device = ["--device", args.device] if args.device else []
        joining = ["train", args.experiment, *(f"--set={value}" for value in overrides), *device]
        return _train_together(plan, args, joining)
    return _drive(lambda sinks, control: _trainer(plan.config, sinks, control, device=plan.device), args, console)


def _read_experiment(ref: str, overrides: list[str], machine: bool = True) -> RunConfig:
    """The experiment to train, validated: a preset, a file, or (``-``) TOML on standard input,
    which is how a near side starts a run on this host (``train --on``). ``machine=False``: its
    device is not checked against this machine (it trains on another host, which checks it)."""
    from workbench.experiment.presets import load_experiment
    from workbench.experiment.validation import validate
    from workbench.schema import config as config_io

    if ref != "-":
        return load_experiment(ref, overrides, machine=machine)
    experiment = config_io.loads(sys.stdin.read(), "standard input")
    return validate(config_io.apply_overrides(experiment, overrides) if overrides else experiment, machine=machine)


def _train_on(args: argparse.Namespace, experiment: RunConfig, console: Console) -> int:
    """``train EXP --on HOST``: the experiment checked here, sent to the host and started there,
    detached; without ``--detach`` its log follows here as ``workbench logs HOST:RUN -f`` does."""
    from workbench.cli.live_commands import follow_remote
    from workbench.cli.remote_commands import remote_named, train_remote
    from workbench.schema import config as config_io

    if args.queue or args.sweep:
        raise WorkbenchError("train --on HOST starts one run there; --queue and --sweep work on this machine only")
    remote = remote_named(args, args.on)
    run_id = train_remote(remote, config_io.dumps(experiment), args.device)
    ref = f"{remote.name}:{run_id}"
    if args.json and args.detach:
        console.print_json(json.dumps({"host": remote.name, "run_id": run_id, "ref": ref}))
        return 0
    console.print(ref, markup=False, highlight=False)
    if args.detach:
        if console.is_terminal:
            console.print(f"follow it: workbench logs {ref} -f    stop it: workbench stop {ref}", markup=False, style="dim")
        return 0
    return follow_remote(args, remote.name, run_id, console)


def _trainer(experiment: Any, sinks: Sequence[ev.Sink], control: Control, **options: Any) -> Trainer:
    from workbench.engine.trainer import Trainer

    return Trainer(experiment, sinks, control, **options)


def resume_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.runs.store import find_run
    from workbench.scheduling.plan import DETACHED, FOREGROUND, carry_out, plan_resume

    host, ref = split_run_ref(args.run)
    if host is not None:  # resumed there, detached; without --detach its log follows here
        from workbench.cli.live_commands import follow_remote
        from workbench.cli.remote_commands import run_on_host

        detach = bool(args.detach)
        args.detach = True
        if not run_on_host(args, console, "resume", ["--epochs", "--device"], ["--detach", "--trust-code"]) or detach:
            return 0
        return follow_remote(args, host, ref, console)
    run = find_run(args.run)

    def make(sinks: Sequence[ev.Sink], control: Control) -> Trainer:
        from workbench.engine.trainer import Trainer

        return Trainer.resume(run, sinks, control, epochs=args.epochs, device=args.device, trust_code=args.trust_code)

    if _started_by_torchrun():  # a worker of a resume checked where torchrun was started
        return _drive(make, args, console)
    config = run.read_config()
    plan = plan_resume(
        run,
        how=DETACHED if args.detach else FOREGROUND,
        gpus=_cuda_devices(args.device or config.train.device, bool(args.device)),
        epochs=args.epochs,
        device=args.device,
        workers=_workers(args, config.train.workers),
        tensorboard=_tensorboard_dir(args),
        notify=args.notify,
        trust_code=args.trust_code,
    )
    if plan.how == DETACHED:
        return _launched(carry_out(plan), console, args.json)
    if plan.workers.distributed:
        return _train_together(plan, args)
    return _drive(make, args, console)


def _launched(launched: Launched, console: Console, as_json: bool) -> int:
    """Say which run now trains on its own, or which queue entry waits, and how to see and
    control it (``as_json``: where it is, as JSON, for scripts that asked for ``--json``)."""
    if as_json:
        run = launched.run
        where = {**_run_ids(run), "log": str(run.log_path)} if run is not None else {"queue_entry": launched.id}
        console.print_json(json.dumps(where))
        return 0
    console.print(launched.id, markup=False, highlight=False)
    if console.is_terminal:
        console.print(launched.next_steps(), markup=False, highlight=False, soft_wrap=True, style="dim")
    return 0


def _drive(make_trainer: Callable[[Sequence[ev.Sink], Control], Trainer], args: argparse.Namespace, console: Console) -> int:
    """Run a trainer with a console view, the stop signals wired to a clean stop; returns the exit status.

    ``make_trainer`` gets the sinks and the control (the trainer module loads torch, so it is
    imported only by the commands that train).
    """
    from workbench.engine.signals import obey_signals
    from workbench.engine.trainer import TrainingFailed

    control = Control()
    view_console = Console(stderr=True, highlight=False, markup=False) if args.json else console
    view = TrainView(view_console)
    sinks = [view, *_tensorboard_sinks(args)]
    if args.notify:
        from workbench.outputs.notify import EndNotifier

        sinks.append(EndNotifier(args.notify))
    with obey_signals(control, view.stop_requested):
        trainer = make_trainer(sinks, control)
        try:
            with view:
                finished = trainer.run()
        except TrainingFailed as failure:
            if args.json:
                console.print_json(json.dumps({"state": "failed", "message": str(failure), **_run_ids(trainer.run_dir)}))
            raise
    if args.json and trainer.team.first:  # one summary for the run, not one per worker
        console.print_json(json.dumps(_summary(trainer, finished, view), allow_nan=True))
    if finished.state == "stopped":
        # A worker that torchrun started ends well: torchrun reports a non-zero end as a failure.
        return EXIT_STOPPED if trainer.team.alone else 0
    return 0


def _tensorboard_sinks(args: argparse.Namespace) -> list[ev.Sink]:
    """The event-file sink ``--tensorboard`` asks for, made before anything trains, so that a
    missing extra refuses the run (one line naming the install) instead of training without it."""
    if args.tensorboard is None:
        return []
    from workbench.outputs.tensorboard import TensorBoardSink

    return [TensorBoardSink(tensorboard_folder(args.tensorboard))]


def _tensorboard_dir(args: argparse.Namespace) -> str | None:
    """``--tensorboard`` for a detached training process: None (not asked), "" (the run's own
    folder) or an absolute DIR (the process may start elsewhere). The sink is made here once, so
    that a missing extra or folder is refused in one line now, not as a failed run in its log."""
    if not _tensorboard_sinks(args):
        return None
    folder = tensorboard_folder(args.tensorboard)
    return str(folder) if folder is not None else ""


def _run_ids(run: RunDir | None) -> dict[str, str]:
    return {"run_id": run.id, "run_dir": str(run.path)} if run is not None else {}


def _summary(trainer: Trainer, finished: ev.RunFinished, view: TrainView) -> dict[str, Any]:
    return {
        **_run_ids(trainer.run_dir),
        "state": finished.state,
        "epochs_done": finished.epochs_done,
        "epochs": trainer.config.train.epochs,
        "monitor": finished.monitor,
        "best_epoch": finished.best_epoch,
        "best_value": finished.best_value,
        "test": finished.test,
        "checkpoint": finished.checkpoint,
        "duration_s": round(finished.duration_s, 3),
        "history": view.history,
    }


class TrainView:
    """A sink that renders training events: a live bar on a terminal, plain lines otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.history: list[dict[str, Any]] = []
        self.stopping = False
        self.quiet = False
        self.run_id = self.run_dir = ""
        self._task: str = "classification"
        self._epochs = 0
        self._progress: Progress | None = None
        self._bar: Any = None

    def __enter__(self) -> TrainView:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close_bar()

    def stop_requested(self, signum: int) -> None:
        """A stop signal arrived; after a hangup the terminal is gone, so nothing more is written."""
        self.stopping = True
        if signum == signal.SIGHUP:
            self.quiet = True
            self._close_bar()

    def say(self, line: str, style: str = "") -> None:
        """Print a line. A terminal narrower than the line gets it wrapped between words (left to
        the terminal, it broke mid-number); elsewhere (a pipe, a log file) it stays one line."""
        if self.quiet:
            return
        try:
            self.console.print(line, style=style or None, markup=False, highlight=False, soft_wrap=not self.live)
        except OSError:
            self.quiet = True  # the terminal went away; the run's own files record everything

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self._started(event)
        elif isinstance(event, ev.Progress):
            self._progressed(event)
        elif isinstance(event, ev.EpochEnded):
            self.history.append({"epoch": event.epoch, "train": event.train, "val": event.val, "lr": event.lr})
            self.say(epoch_line(event, self._task))
            self._reset_bar(event.epoch + 1)
        elif isinstance(event, ev.StateChanged):
            self.say("paused" if event.state == "paused" else "resumed")
        elif isinstance(event, ev.RunWarning):
            self.say(f"warning: {event.message}", "yellow")
        elif isinstance(event, ev.RunFinished):
            self._close_bar()
            self._finished(event)
        elif isinstance(event, ev.RunFailed):
            self._close_bar()

    def _started(self, event: ev.RunStarted) -> None:
        self._task, self._epochs = event.task, event.epochs
        self.run_id, self.run_dir = event.run_id, event.run_dir
        verb = "testing" if event.test_only else "resuming" if event.start_epoch > 1 or event.start_step else "run"
        self.say(
            f"{verb} {event.run_id}  {event.name} on {event.where} ({event.device_name})  "
            f"{count(event.num_params)} params  {count(event.train_size)} train / {count(event.val_size)} val / "
            f"{count(event.test_size)} test"
        )
        if self.live:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._bar = self._progress.add_task("", total=event.steps_per_epoch, stats="")
            self._reset_bar(event.start_epoch, completed=event.start_step)

    def _progressed(self, event: ev.Progress) -> None:
        if self._progress is None or self.quiet:
            return
        parts = [f"loss {event.loss:.4f}"]
        if event.acc is not None:
            parts.append(f"acc {event.acc:.3f}")
        parts += [f"lr {event.lr:.3g}", rate(event.samples_per_s), f"eta {duration(event.eta_s)}"]
        if self.stopping:
            parts.append("stopping...")
        self._progress.update(self._bar, completed=event.step, stats="  ".join(parts))

    def _reset_bar(self, epoch: int, completed: int = 0) -> None:
        if self._progress is not None and epoch <= self._epochs:
            self._progress.update(self._bar, description=f"epoch {epoch}/{self._epochs}", completed=completed, stats="")

    def _close_bar(self) -> None:
        if self._progress is not None:
            progress, self._progress = self._progress, None
            try:
                progress.stop()
            except OSError:
                self.quiet = True

    def _finished(self, event: ev.RunFinished) -> None:
        if event.state == "stopped":
            self.say(stopped_text(event, self.run_id))
        if event.state == "early_stopped":
            self.say(f"early stopping: {event.monitor} has not improved since epoch {event.best_epoch}")
        if event.test:
            source = event.checkpoint.rsplit("/", 1)[-1]
            self.say(f"test  {metrics_text(event.test)}  ({source}, best epoch {event.best_epoch})", "bold")
        self.say(f"run {self.run_id}  {self.run_dir}  ({duration(event.duration_s)})")


# ----------------------------------------------------------------------------- runs


def runs_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.runs.listing import list_runs, matches

    if args.watch:
        return _watch_runs(args)
    words = " ".join(args.words)
    summaries = [summary for summary in list_runs() if matches(summary, words)]
    remotes = getattr(args, "remote", None)
    failed: dict[str, str] = {}
    if remotes:
        summaries, failed = _with_remote_runs(summaries, args)
    if args.json:
        console.print_json(json.dumps([s.to_dict() for s in summaries], allow_nan=True))
        return _say_unreachable(failed)
    if not summaries:
        if words:
            console.print(f"no run matches {words!r}; `workbench runs` lists them all", markup=False)
        elif not failed:
            console.print("no runs yet; start one with: workbench train digits-cnn", markup=False)
        return _say_unreachable(failed)
    columns = (*((HOST_COLUMN,) if remotes else ()), "id", *LISTING_COLUMNS)
    rows = []
    for summary in summaries:
        cells = {**listing_cells(summary), "id": summary.ref}
        rows.append(tuple(cells[column] for column in columns))
    console.print(
        text_table(columns, rows, right={"epochs", "params", "time"}, ruled=console.is_terminal), crop=False, soft_wrap=True
    )
    damaged = [s for s in summaries if s.state == "damaged"]
    for summary in damaged:
        console.print(f"{summary.ref}: {summary.message}", markup=False, highlight=False, soft_wrap=True, style="red")
    return _say_unreachable(failed)


def _watch_runs(args: argparse.Namespace) -> int:
    """``runs --json --watch``: what a near side mirrors of this host's runs (workbench.hosts.far.watch_runs)."""
    from workbench.cli.remote_commands import far_output
    from workbench.hosts.far import json_lines, watch_runs

    if not args.json or args.words:
        raise WorkbenchError("runs --watch streams every run's status as JSON lines: give --json, and no WORD")
    with far_output():
        watch_runs(json_lines(sys.stdout))
    return 0


def _with_remote_runs(local: list[RunSummary], args: argparse.Namespace) -> tuple[list[RunSummary], dict[str, str]]:
    """This machine's runs, then each host's (asked of all at once), and the line of each host
    that could not answer."""
    import dataclasses

    from workbench.cli.remote_commands import remote_listing, remotes_of

    found, failed = remote_listing(remotes_of(args), args.words)
    names = {f.name for f in dataclasses.fields(RunSummary)}
    summaries = list(local)
    for host, items in found.items():
        summaries += [RunSummary(**{**{k: v for k, v in item.items() if k in names}, "host": host}) for item in items]
    return summaries, failed


def _say_unreachable(failed: dict[str, str]) -> int:
    """One line on stderr per host that could not be listed; 1 if there was one (the others are listed)."""
    err = Console(stderr=True, highlight=False, markup=False)
    for line in failed.values():
        err.print(Text.assemble(("error:", "bold red"), f" {line}"), soft_wrap=True)
    return 1 if failed else 0


def text_table(columns: Sequence[str], rows: Sequence[Sequence[str]], right: set[str], ruled: bool) -> Text:
    """Columns of plain cells two spaces apart, ``right`` ones right-aligned, under a bold header
    (and a rule, for a terminal). Rich's Table measures and renders every cell as a renderable:
    for a thousand runs that was 1.1 s of `workbench runs`; this is a few milliseconds."""
    widths = [max(cell_len(column), *(cell_len(row[i]) for row in rows)) for i, column in enumerate(columns)]

    def line(cells: Sequence[str]) -> str:
        padded = []
        for cell, width, column in zip(cells, widths, columns, strict=True):
            pad = " " * (width - cell_len(cell))  # cells, not characters: a wide character takes two
            padded.append(pad + cell if column in right else cell + pad)
        return "  ".join(padded).rstrip()

    body = [line(row) for row in rows]
    if ruled:
        body.insert(0, "─" * (sum(widths) + 2 * (len(widths) - 1)))
    return Text.assemble((line(columns), "bold"), "\n" + "\n".join(body), end="")


def tables_console(console: Console) -> Console:
    """The console for tables: a pipe gets every column at full width, not the 80 columns rich assumes."""
    if console.is_terminal:
        return console
    return Console(file=console.file, width=1000, highlight=False, markup=False, color_system=None)


# ----------------------------------------------------------------------------- eval


def eval_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.cli.remote_commands import run_on_host
    from workbench.engine.evaluate import evaluate_checkpoint
    from workbench.outputs.reports import write_report
    from workbench.runs.checkpoints import resolve_checkpoint
    from workbench.runs.store import find_run

    if run_on_host(args, console, "eval", ["--checkpoint", "--split", "--device"], ["--json", "--trust-code"]):
        return 0
    run = find_run(args.run)
    path = resolve_checkpoint(run, args.checkpoint)
    use_run_code_here(run, args.trust_code)
    evaluation = evaluate_checkpoint(path, args.split, device=args.device)
    if not evaluation.run_id:
        evaluation.run_id = run.id
    try:  # what was computed is printed even when it cannot be saved (a read-only disk, say)
        report: Path | str = write_report(run, evaluation.to_dict())
        unsaved = ""
    except OSError as error:
        report, unsaved = "not saved", f"{error.filename or run.eval_dir}: {error.strerror or error}"
    if args.json:
        console.print_json(json.dumps(evaluation.to_dict(), allow_nan=True))
        return _saved_or_say(unsaved)
    say = lambda line="": console.print(line, markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    epoch = f", epoch {evaluation.epoch}" if evaluation.epoch is not None else ""
    say(f"{run.id}  {path.name}{epoch}  {evaluation.split} split, {count(evaluation.num_samples)} samples")
    say(f"{evaluation.split}  {metrics_text(evaluation.metrics)}")
    if evaluation.task == "classification":
        _print_classification(evaluation, console)
    for example in evaluation.worst[:5]:
        if evaluation.task == "classification":
            say(
                f"  #{example['index']:<6} true {example['true']:<10} predicted {example['predicted']:<10} "
                f"confidence {example['confidence']:.2f}  loss {example['loss']:.2f}"
            )
        else:
            say(f"  #{example['index']:<6} true {_numbers(example['true'])}  predicted {_numbers(example['predicted'])}")
    say(f"report: {report}")
    return _saved_or_say(unsaved)


def _saved_or_say(unsaved: str) -> int:
    """After the evaluation is printed: 0, or the one error line of a report that was not saved."""
    if unsaved:
        raise WorkbenchError(f"the evaluation above could not be saved: {unsaved}")
    return 0


def _print_classification(evaluation: Evaluation, console: Console) -> None:
    """Per-class scores (up to 20 classes), the confusion matrix (up to 12) and the worst mix-ups."""
    names = evaluation.class_names
    if len(names) <= 20:
        table = Table(box=box.SIMPLE_HEAD if console.is_terminal else None, pad_edge=False)
        for column in ("class", "precision", "recall", "f1", "support"):
            table.add_column(column, justify="left" if column == "class" else "right", no_wrap=True)
        for row in evaluation.per_class:
            table.add_row(
                row["class"], f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", str(row["support"])
            )
        tables_console(console).print(table)
    if len(names) <= 12:
        matrix = Table(
            title="confusion (rows: true, columns: predicted)",
            title_justify="left",
            box=box.SIMPLE_HEAD if console.is_terminal else None,
            pad_edge=False,
        )
        matrix.add_column("")
        for name in names:
            matrix.add_column(name[:6], justify="right")
        for name, row in zip(names, evaluation.confusion, strict=True):
            matrix.add_row(name[:10], *(str(v) if v else "." for v in row))
        tables_console(console).print(matrix)
    if evaluation.most_confused:
        pairs = ", ".join(f"{p['true']}->{p['predicted']} x{p['count']}" for p in evaluation.most_confused[:5])
        console.print(f"most confused: {pairs}", markup=False, highlight=False, soft_wrap=True)
    console.print(
        "worst predictions:" if evaluation.worst else "worst predictions: none, every sample is classified right", markup=False
    )


def _numbers(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


# ----------------------------------------------------------------------------- delete


def delete_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.runs.store import check_deletable, delete_run, find_run

    run = find_run(args.run)
    check_deletable(run)  # before asking: a run in progress is refused, never asked about
    if not args.yes:
        if not sys.stdin.isatty():
            raise WorkbenchError(f"delete {run.id}: not asking on a non-interactive input; add --yes to delete it")
        answer = console.input(f"delete run {run.id} and its checkpoints ({run.path})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            console.print("kept", markup=False)
            return 1
    delete_run(run)
    console.print(f"deleted {run.id}", markup=False, highlight=False)
    return 0
