"""Which hosts there are: ``[remotes]`` in the user's config.toml and ``--remote`` on the command line.

```
# <config dir>/config.toml
[remotes.gpu1]
destination = "gpu1"                        # what `ssh` is given: a ~/.ssh/config Host, user@host
command = "~/wb/.venv/bin/workbench"        # the far side's workbench (default: workbench)
ssh_options = ["-p", "2222"]                # more options for ssh (default: none; ~/.ssh/config is the place)
```

``--remote gpu1`` names a configured host, or an SSH destination of that name with the default
command; ``--remote gpu1=me@box.lab`` names a host for this command only.
"""

from __future__ import annotations

import shlex
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.hosts.ids import check_host_name
from workbench.paths import config_dir

#: The far side's command when none is configured: `workbench` on the remote's PATH.
DEFAULT_COMMAND = ("workbench",)


@dataclass(frozen=True)
class Remote:
    """A host: its ``name`` here, the ``destination`` given to ssh, the far side's ``command``,
    and any ``ssh_options`` given to ssh before the destination."""

    name: str
    destination: str
    command: tuple[str, ...] = DEFAULT_COMMAND
    ssh_options: tuple[str, ...] = ()


def user_config_path() -> Path:
    return config_dir() / "config.toml"


def configured_remotes(extra: Sequence[str] = ()) -> list[Remote]:
    """The ``[remotes]`` of the user's config, then each ``--remote NAME[=DEST]`` of ``extra``
    (a configured NAME with no DEST is that one; the same NAME twice is one host)."""
    found = {remote.name: remote for remote in _from_config(user_config_path())}
    chosen: dict[str, Remote] = {} if extra else dict(found)
    for item in extra:
        name, equals, destination = item.partition("=")
        name = check_host_name(name.strip())
        if equals:
            if not destination.strip():
                raise WorkbenchError(f"--remote {item}: give an SSH destination after '=' (user@host or a ~/.ssh/config Host)")
            base = found.get(name)
            chosen[name] = Remote(name, destination.strip(), *((base.command, base.ssh_options) if base else ()))
        else:
            chosen[name] = found.get(name) or Remote(name, name)
    return list(chosen.values())


def find_remote(name: str, remotes: Sequence[Remote]) -> Remote:
    """The host called ``name``; an unknown one is one line naming those configured."""
    for remote in remotes:
        if remote.name == name:
            return remote
    known = ", ".join(r.name for r in remotes) or "none"
    raise WorkbenchError(
        f"unknown host {name!r} (configured: {known}); add it with --remote {name}=user@host or [remotes.{name}] in {user_config_path()}"
    )


def _from_config(path: Path) -> list[Remote]:
    """The hosts of ``[remotes]`` in the config file at ``path`` (none if it is missing)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise WorkbenchError(f"{path}: cannot be read ({error})") from None
    table = data.get("remotes", {})
    if not isinstance(table, dict):
        raise WorkbenchError(f"{path}: [remotes] must be a table of hosts, e.g. [remotes.gpu1]")
    remotes = []
    for name, entry in table.items():
        where = f"{path}: [remotes.{name}]"
        if not isinstance(entry, dict):
            raise WorkbenchError(f'{where} must be a table with destination = "user@host"')
        try:
            check_host_name(name)
        except WorkbenchError as error:
            raise WorkbenchError(f"{where}: {error}") from None
        destination = entry.get("destination", name)
        command = entry.get("command", DEFAULT_COMMAND)
        if not isinstance(destination, str) or not destination.strip():
            raise WorkbenchError(f"{where}: destination must be a non-empty string (user@host or a ~/.ssh/config Host)")
        if isinstance(command, str):
            command = tuple(shlex.split(command))
        if not command or not all(isinstance(part, str) for part in command):
            raise WorkbenchError(f'{where}: command must be a string such as "~/wb/.venv/bin/workbench"')
        options = entry.get("ssh_options", [])
        if not isinstance(options, list) or not all(isinstance(option, str) for option in options):
            raise WorkbenchError(f'{where}: ssh_options must be a list of strings, e.g. ["-p", "2222"]')
        remotes.append(Remote(name, destination.strip(), tuple(command), tuple(options)))
    return remotes
