"""Runs on other machines from the command line (issue 28), both sides of it.

Far side (what a near ``workbench`` runs over ssh): ``version --json``, ``gpus --json`` and
``pack RUN``, a tar of a run's files ending with their SHA-256 manifest. Near side: ``pull
HOST:RUN`` (the pack checked file by file, then a local run), and what ``runs``, ``logs``,
``pause``/``continue``/``stop`` and ``train --on`` do with a host (:func:`remote_listing`,
:func:`follow_remote_logs`, :func:`control_remote`, :func:`train_remote`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console

from workbench.errors import WorkbenchError
from workbench.hosts.remotes import Remote, configured_remotes, find_remote

if TYPE_CHECKING:
    from workbench.runs.folder import RunDir

#: How long `pull` waits for the far side to start sending.
PULL_TIMEOUT_S = 3600.0


def register(sub: argparse._SubParsersAction) -> None:
    version = sub.add_parser("version", help="print this workbench's version (--json: with the remote protocol's)")
    version.add_argument("--json", action="store_true", help="print JSON")
    version.set_defaults(handler=version_command)

    gpus = sub.add_parser("gpus", help="list this machine's GPUs and the run training on each")
    gpus.add_argument("--json", action="store_true", help="print JSON")
    gpus.set_defaults(handler=gpus_command)

    pack = sub.add_parser("pack", help="write a run's files as a tar on standard output, with their SHA-256 manifest")
    pack.add_argument("run", metavar="RUN", help="run id, a unique prefix of one, or 'latest'")
    pack.add_argument("--checkpoint", help="only this checkpoint of the run's: best, last or an epoch number")
    pack.set_defaults(handler=pack_command)

    pull = sub.add_parser("pull", help="copy a run of another host here (HOST:RUN), checked file by file")
    pull.add_argument("run", metavar="HOST:RUN", help="a host's name, a colon, and one of its run ids")
    pull.add_argument("--checkpoint", help="only this checkpoint of the run's: best, last or an epoch number")
    pull.set_defaults(handler=pull_command)


def add_remote_argument(parser: argparse.ArgumentParser, suppress_default: bool = False) -> None:
    """``--remote NAME[=DEST]``, repeatable: the hosts a command works with (see workbench.hosts.remotes)."""
    parser.add_argument(
        "--remote",
        action="append",
        metavar="NAME[=DEST]",
        default=argparse.SUPPRESS if suppress_default else None,
        help="a host reached with ssh: a name of [remotes] in config.toml, or NAME=user@host (repeatable)",
    )


def remotes_of(args: argparse.Namespace) -> list[Remote]:
    """The hosts the command line names (``--remote``), else those of the user's config."""
    return configured_remotes(getattr(args, "remote", None) or ())


def remote_named(args: argparse.Namespace, name: str) -> Remote:
    """The host ``name`` (of ``HOST:RUN``, ``--on HOST``): one named by ``--remote``, else one of
    the user's config; an unknown one is one line naming them all."""
    named = configured_remotes(getattr(args, "remote", None) or ())
    everyone = {remote.name: remote for remote in [*configured_remotes(), *named]}
    return find_remote(name, [*named, *(r for r in everyone.values() if r not in named)])


# ----------------------------------------------------------------------------- far side


def version_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.hosts.far import version_record

    record = version_record()
    if args.json:
        print(json.dumps(record), flush=True)
    else:
        console.print(f"workbench {record['workbench']} (remote protocol {record['protocol']})", markup=False)
    return 0


def gpus_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.hosts.far import gpu_listing

    gpus = gpu_listing()
    if args.json:
        print(json.dumps(gpus), flush=True)
        return 0
    if not gpus:
        console.print("no NVIDIA GPU here (nvidia-smi lists none)", markup=False)
    for gpu in gpus:
        busy = f"training {gpu['busy_with']}" if gpu["busy_with"] else "idle"
        console.print(
            f"{gpu['index']}  {gpu['name']}  {gpu['memory_used_mb']}/{gpu['memory_total_mb']} MiB used  {busy}", markup=False
        )
    return 0


def pack_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.hosts.far import pack_run
    from workbench.runs.store import find_run

    run = find_run(args.run)
    if sys.stdout.isatty():
        raise WorkbenchError("pack writes a tar on standard output: send it to a file or a pipe (workbench pack RUN > run.tar)")
    with far_output():
        pack_run(run, args.checkpoint, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    return 0


@contextmanager
def far_output() -> Iterator[None]:
    """A far stream whose reader went away (the near side closed the connection) ends quietly."""
    try:
        yield
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing more to flush at exit


# ----------------------------------------------------------------------------- near side: pull


def pull_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.hosts.ids import split_run_ref
    from workbench.paths import runs_dir

    host, run_ref = split_run_ref(args.run)
    if host is None:
        raise WorkbenchError(f"pull: {args.run!r} names no host; give HOST:RUN, e.g. gpu1:{args.run}")
    remote = remote_named(args, host)
    root = runs_dir()
    target = root / resolve_far_run(remote, run_ref)
    if target.exists():  # said before anything is sent
        raise WorkbenchError(f"a run {target.name} is here already ({target}); delete it first to pull it again")
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".pulling-{os.getpid()}"
    try:
        run_id, files, size = _receive_pack(remote, target.name, args.checkpoint, staging)
        if run_id != target.name:
            raise WorkbenchError(f"{remote.name}: asked for {target.name}, the pack holds {run_id}; nothing was pulled")
        (staging / run_id / "checkpoints").mkdir(exist_ok=True)
        os.rename(staging / run_id, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    console.print(
        f"pulled {host}:{run_id} -> {target} ({files} files, {size / 1e6:.1f} MB, SHA-256 checked)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return 0


def _receive_pack(remote: Remote, run_ref: str, checkpoint: str | None, staging: Path) -> tuple[str, int, int]:
    """Receive the far pack of ``run_ref`` into ``staging/<run-id>/``, checking every file against
    its manifest; the run's id, how many files and bytes."""
    from workbench.hosts.far import MANIFEST
    from workbench.hosts.ssh import SSH_FAILED, HostUnreachable, last_line, ssh_argv

    args = ["pack", run_ref, *(["--checkpoint", checkpoint] if checkpoint else [])]
    process = subprocess.Popen(
        ssh_argv(remote, args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    assert process.stdout is not None and process.stderr is not None
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    sums: dict[str, str] = {}
    manifest: dict[str, str] | None = None
    run_id = ""
    size = 0
    try:
        with tarfile.open(fileobj=process.stdout, mode="r|") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if (
                    not member.isfile()
                    or len(parts) < 2
                    or any(p in ("", ".", "..") for p in parts)
                    or member.name.startswith("/")
                ):
                    raise WorkbenchError(f"{remote.name}: the pack holds {member.name!r}, not a run's file; nothing was pulled")
                run_id = run_id or parts[0]
                relative = "/".join(parts[1:])
                source = tar.extractfile(member)
                assert source is not None
                if relative == MANIFEST:
                    manifest = _read_manifest(source.read().decode("utf-8"))
                    continue
                sums[relative] = _write_hashed(source, staging / run_id / relative)
                size += member.size
    except tarfile.TarError as error:
        process.kill()
        reader.join(10)
        status = process.wait()
        message = last_line(b"".join(errors).decode("utf-8", errors="replace"))
        if status == SSH_FAILED:
            raise HostUnreachable(f"{remote.name}: {message or 'ssh failed'}") from None
        raise WorkbenchError(f"{remote.name}: {message or f'the pack of {run_ref} was cut short ({error})'}") from None
    process.wait()
    reader.join(10)
    if manifest is None:
        raise WorkbenchError(f"{remote.name}: the pack of {run_ref} ended without its manifest; nothing was pulled")
    if manifest != sums:
        bad = sorted(name for name in manifest.keys() | sums.keys() if manifest.get(name) != sums.get(name))
        raise WorkbenchError(
            f"{remote.name}: {run_id}: {', '.join(bad[:3])} did not match the manifest's SHA-256; nothing was pulled"
        )
    return run_id, len(sums), size


def _read_manifest(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if name:
            found[name] = digest
    return found


def _write_hashed(source: IO[bytes], path: Path) -> str:
    digest = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- near side: runs, logs, control, train


def remote_listing(remotes: Sequence[Remote], words: Sequence[str]) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Each host's runs (``workbench runs --json WORDS`` there), asked of all hosts at once: the
    runs by host, and the one line of each host that could not answer."""
    from workbench.hosts.ssh import run_far_json

    found: dict[str, list[dict[str, Any]]] = {}
    failed: dict[str, str] = {}

    def ask(remote: Remote) -> None:
        try:
            answer = run_far_json(remote, ["runs", "--json", *words], timeout_s=30)
            found[remote.name] = [item for item in answer if isinstance(item, dict)] if isinstance(answer, list) else []
        except WorkbenchError as error:
            failed[remote.name] = str(error)

    threads = [threading.Thread(target=ask, args=(remote,), daemon=True) for remote in remotes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(45)
    for remote in remotes:
        if remote.name not in found and remote.name not in failed:
            failed[remote.name] = f"{remote.name}: no answer within 45s"
    return found, failed


def control_remote(remote: Remote, run_id: str, action: str, no_wait: bool) -> str:
    """Pause, continue or stop a run of ``remote``; the far side's one line."""
    from workbench.hosts.session import CONTROL_TIMEOUT_S
    from workbench.hosts.ssh import run_far_json

    answer = run_far_json(remote, [action, run_id, "--json", *(["--no-wait"] if no_wait else [])], timeout_s=CONTROL_TIMEOUT_S)
    return f"{remote.name}: {answer.get('message', '')}" if isinstance(answer, dict) else f"{remote.name}: done"


@contextmanager
def mirrored_log(remote: Remote, run_ref: str, follow: bool) -> Iterator[tuple[RunDir, Callable[[], str | None]]]:
    """The mirror of a host's run, its metrics brought up to date (``follow``: kept so by a
    :class:`HostSession` until the run ends, resuming after a dropped connection), and a
    function that says the run's state once all of its metrics are in the mirror (None before)."""
    from workbench.hosts import mirror
    from workbench.hosts.session import HostSession, check_version
    from workbench.hosts.ssh import run_far

    check_version(remote)
    run_id = resolve_far_run(remote, run_ref)
    run = mirror.mirrored_run(remote.name, run_id)
    if not follow:
        output = run_far(remote, ["logs", run_id, "--json", "--offset", str(mirror.metrics_size(run))], timeout_s=120)
        state = ""
        for line in output.splitlines():
            state = mirror.apply_metrics_record(run, json.loads(line)) or state
        yield run, lambda: state or "unknown"
        return
    session = HostSession(remote).start()
    try:
        session.follow(run_id)
        yield run, lambda: session.ended(run_id)
    finally:
        session.close()


def resolve_far_run(remote: Remote, run_ref: str) -> str:
    """The full id of the far run ``run_ref`` names (a prefix, latest): the far side resolves it."""
    from workbench.hosts.ssh import run_far_json

    answer = run_far_json(remote, ["logs", run_ref, "--json", "--resolve"], timeout_s=30)
    if not isinstance(answer, dict) or not isinstance(answer.get("run"), str):
        raise WorkbenchError(f"{remote.name}: no run id in the answer to {run_ref!r}")
    return str(answer["run"])


def run_on_host(args: argparse.Namespace, console: Console, command: str, valued: list[str], flags: list[str]) -> bool:
    """For ``args.run`` of another host (``gpu1:RUN``): run the same command there, with the
    options named in ``valued`` and ``flags`` that were given, and print what it printed; False
    for a run of this machine."""
    from workbench.hosts.ids import split_run_ref

    host, ref = split_run_ref(args.run)
    if host is None:
        return False
    from workbench.hosts.ssh import COMMAND_TIMEOUT_S, run_far

    far = [command, ref]
    for option in valued:
        value = getattr(args, option.lstrip("-").replace("-", "_"))
        if value is not None:
            far += [option, str(value)]
    far += [flag for flag in flags if getattr(args, flag.lstrip("-").replace("-", "_"))]
    output = run_far(remote_named(args, host), far, timeout_s=COMMAND_TIMEOUT_S * 10)
    console.file.write(output)
    console.file.flush()
    return True


def train_remote(remote: Remote, config_toml: str, device: str | None) -> str:
    from workbench.hosts.session import check_version, start_far_run

    check_version(remote)
    return start_far_run(remote, config_toml, device)
