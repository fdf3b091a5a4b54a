"""Headless commands: ``workbench train``, ``runs``, ``eval``, ... on the same engine as the app.

Each command module registers its sub-commands with :func:`register` and handles them with a
function ``handler(args, console) -> exit status``. This module owns what every command shares:
argument parsing, the one-line error contract (``WorkbenchError`` -> its message on stderr and
its exit code; anything else -> one line, traceback only with ``--verbose``) and Ctrl+C (130).
With no sub-command, ``workbench [PRESET|FILE]`` opens the app.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from workbench import __version__
from workbench.errors import WorkbenchError, describe_error

#: Sub-command modules, each with ``register(subparsers)``. Imported lazily: torch loads only
#: for the commands that need it.
COMMAND_MODULES = (
    "workbench.cli.setup_commands",
    "workbench.cli.run_commands",
    "workbench.cli.live_commands",
    "workbench.cli.compare_commands",
    "workbench.cli.export_commands",
    "workbench.cli.predict_commands",
    "workbench.cli.lr_find_commands",
    "workbench.cli.inside_commands",
    "workbench.cli.sweep_commands",
    "workbench.cli.queue_commands",
    "workbench.cli.bench_commands",
    "workbench.cli.remote_commands",
)

EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    import importlib

    from workbench.cli.remote_commands import add_remote_argument

    parser = argparse.ArgumentParser(
        prog="workbench", description="Train PyTorch models from a terminal. With no command, opens the app."
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks for unexpected errors")
    add_remote_argument(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    app = sub.add_parser("app", help="open the app (the default with no command)")
    app.add_argument("experiment", nargs="?", default=None, help="preset name or TOML file to open")
    add_remote_argument(app, suppress_default=True)
    app.set_defaults(handler=_open_app)
    return parser


def _open_app(args: argparse.Namespace, console: Console) -> int:
    from workbench.experiment.presets import DEFAULT_PRESET, read_experiment
    from workbench.usercode.probing import start_ahead_for

    start_ahead_for(read_experiment(args.experiment or DEFAULT_PRESET))  # before the app's imports
    from workbench.tui.app import run_app

    run_app(args.experiment, remotes=args.remote or ())  # ends the process


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` (default: the program's own arguments); returns its exit status.
    Run as the program (no ``argv``), a command that loaded torch ends the process itself
    (:func:`end_without_teardown`)."""
    status = _run(list(sys.argv[1:] if argv is None else argv))
    if argv is None:
        end_without_teardown(status)
    return status


def end_without_teardown(status: int) -> None:
    """End the process now (``os._exit``) if it loaded torch, rather than through the
    interpreter's shutdown, which tears down the two thousand modules a training command loads:
    about 0.9 s after `workbench train digits-cnn` on 2 cores, a sixth of the command.

    Output is flushed first. Nothing is lost: a run's files are written atomically and synced
    before it ends, the run's lock is released, a TensorBoard writer is closed by the run's end.
    The atexit handlers skipped are torch's and the standard library's; the one that matters,
    multiprocessing's ending of child processes, is kept by not ending here while any child
    (a streaming loader's worker) is alive. The app ends the same way (``tui.app.run_app``)."""
    if "torch" not in sys.modules:
        return
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None and multiprocessing.active_children():
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _first_positional(argv: list[str]) -> str | None:
    """The first argument that is neither an option nor an option's value (``--remote gpu1``)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--remote":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _run(argv: list[str]) -> int:
    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    first_positional = _first_positional(argv)
    if first_positional is None or first_positional not in known:
        # `workbench` or `workbench digits-mlp` / `workbench my.toml`: open the app.
        if not any(a in ("-h", "--help", "--version") for a in argv):
            argv = ["app", *argv]
    args = parser.parse_args(argv)
    # No markup anywhere: what is printed carries user text (names, paths, descriptions, error
    # messages), and "[/]" in any of them must print as itself. Styles come from Text objects.
    console = Console(highlight=False, markup=False)
    err = Console(stderr=True, highlight=False, markup=False)
    try:
        return int(args.handler(args, console) or 0)
    except WorkbenchError as error:
        err.print(Text.assemble(("error:", "bold red"), f" {error}"), soft_wrap=True)
        if args.verbose:
            # The user's code failed: its own traceback (the run's log has it too), not Workbench's.
            details = getattr(error, "details", "")
            if details:
                err.print(details, soft_wrap=True)
            else:
                err.print_exception()
        return error.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return EXIT_INTERRUPTED
    except OSError as error:  # the machine, not the program: a full or read-only disk, a permission
        err.print(Text.assemble(("error:", "bold red"), f" {describe_error(error)}"), soft_wrap=True)
        if args.verbose:
            err.print_exception()
        return 1
    except Exception as error:  # noqa: BLE001 - the CLI promises one readable line
        if args.verbose:
            err.print_exception()
        else:
            err.print(
                Text.assemble(("error:", "bold red"), f" {type(error).__name__}: {error} (run with --verbose for details)"),
                soft_wrap=True,
            )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
