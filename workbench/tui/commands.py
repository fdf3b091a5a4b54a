"""The command palette (ctrl+p): every screen, every action of every screen, presets and datasets.

Commands are generated from the same bindings the footer and the help screen show, so the
palette cannot fall behind the keys. An action that belongs to another screen switches there
first and then runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from workbench.tui.app_base import WorkbenchAppBase


@dataclass(frozen=True)
class Command:
    title: str
    help: str
    run: Callable[[], object]


def palette_commands(app: WorkbenchAppBase) -> list[Command]:
    """Everything the palette offers, in the order it lists them with an empty query."""
    from workbench.data.registry import DATASETS
    from workbench.experiment.presets import list_presets
    from workbench.tui.main_screens import SCREENS
    from workbench.tui.screens.help import display_key

    commands = [
        Command(f"Go to {title}", f"screen {key}", partial(app.action_show, mode)) for mode, title, key, _location in SCREENS
    ]
    offered = set()  # one command per action (q and ctrl+q both quit)
    for binding in app.BINDINGS:
        if binding.description and not binding.action.startswith("show(") and binding.action not in offered:
            offered.add(binding.action)
            commands.append(
                Command(binding.description, f"key {display_key(binding.key)}", partial(app.run_action, binding.action))
            )
    for mode, title, _key, _location in SCREENS:
        for binding in app.screen_bindings(mode):
            if binding.description:
                commands.append(
                    Command(
                        f"{title}: {binding.tooltip or binding.description}",
                        f"key {display_key(binding.key)} on the {title} screen",
                        partial(app.run_on_screen, mode, binding.action),
                    )
                )
    for entry in list_presets():
        commands.append(Command(f"Open preset {entry.name}", f"{entry.source} preset", partial(app.open_preset, entry.name)))
    for name, spec in DATASETS.items():
        commands.append(Command(f"Use dataset {name}", spec.title, partial(app.use_dataset, name)))
    return commands


class WorkbenchCommands(Provider):
    """Palette provider over :func:`palette_commands`."""

    async def discover(self) -> Hits:
        for command in palette_commands(self.app):  # type: ignore[arg-type]
            yield DiscoveryHit(command.title, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in palette_commands(self.app):  # type: ignore[arg-type]
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), command.run, help=command.help)
