"""Small modal dialogs: confirm, save as preset, open an experiment, list the problems.

Each one returns its answer with ``dismiss`` (use ``push_screen(dialog, callback)``); none of
them changes the draft itself, except that the save dialog calls the save function it is given
so that a refused name is reported in the dialog, where it can be corrected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from workbench.errors import ConfigError
from workbench.experiment.naming import data_label
from workbench.experiment.presets import list_presets, read_experiment, resolve
from workbench.formatting import counted
from workbench.paths import runs_dir
from workbench.schema import config as config_io
from workbench.schema.config import RunConfig
from workbench.tui.widgets.bars import KeysFooter
from workbench.tui.widgets.text_field import TextField


class Dialog(ModalScreen):
    """A centred box with its own footer; escape cancels (dismisses with None).

    Subclasses lay out the box's content in :meth:`compose_dialog`.
    """

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    Dialog .title { text-style: bold; width: 1fr; }
    Dialog .note { color: $text-muted; }
    Dialog .error { color: $text-error; }
    Dialog OptionList, Dialog OptionList:focus { border: none; padding: 0; text-wrap: nowrap; text-overflow: ellipsis; }
    Dialog Horizontal.buttons { height: 1; align-horizontal: right; margin-top: 1; }
    Dialog Button { margin-left: 2; min-width: 10; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield from self.compose_dialog()
        yield KeysFooter()

    def compose_dialog(self) -> ComposeResult:
        yield from ()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(Dialog):
    """Ask a yes/no question; dismisses with True or False."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose_dialog(self) -> ComposeResult:
        yield Static(self.question, classes="title", markup=False)
        with Horizontal(classes="buttons"):
            yield Button(f"{self.no} (n)", id="no", compact=True)
            yield Button(f"{self.yes} (y)", id="yes", variant="warning", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class QuitWithRunsScreen(Dialog):
    """Quitting while runs train: they keep training unless the person explicitly stops them.

    Dismisses with ``quit`` (leave; the runs go on), ``stop`` (ask each run to stop with a
    checkpoint, then leave) or None (stay).
    """

    BINDINGS = [
        Binding("y,enter", "choose('quit')", "Quit, runs keep training"),
        Binding("s", "choose('stop')", "Stop the runs and quit"),
        Binding("n,escape", "choose(None)", "Stay"),
    ]

    def __init__(self, run_ids: list[str], *, dirty: bool) -> None:
        super().__init__()
        self.run_ids = run_ids
        self.dirty = dirty

    def compose_dialog(self) -> ComposeResult:
        count = len(self.run_ids)
        which = f"{count} runs keep" if count > 1 else f"Run {self.run_ids[0]} keeps"
        yield Static(f"{which} training after you quit.", classes="title", markup=False)
        yield Static(
            "Come back with `workbench` (it shows runs in progress) or `workbench attach RUN`, "
            "from this terminal or any other login.",
            classes="note",
            markup=False,
        )
        if self.dirty:
            yield Static("The experiment's unsaved changes are lost (ctrl+s saves them).", classes="error", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Stay (n)", id="stay", compact=True)
            yield Button("Stop them (s)", id="stop", variant="error", compact=True)
            yield Button("Quit (y)", id="quit", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#quit", Button).focus()

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss({"quit": "quit", "stop": "stop"}.get(event.button.id or ""))


class SaveScreen(Dialog):
    """Ask for a preset name (and a description) and save.

    ``save(name, description)`` does the saving and may refuse the name with a ConfigError,
    which is shown here to be corrected. Dismisses with the saved path, or None if cancelled.
    """

    def __init__(self, name: str, description: str, save: Callable[[str, str], Path], problems: int, *, was: str = "") -> None:
        super().__init__()
        self.initial = name
        self.description = description
        self.save = save
        self.problems = problems
        self.was = was  # the description before the edits, shown while the field is empty

    def compose_dialog(self) -> ComposeResult:
        yield Label("Save as a user preset", classes="title", markup=False)
        yield TextField(self.initial, placeholder="preset name (letters, digits, - _ .)", id="name")
        hint = f"what this experiment does (was: {self.was})" if self.was else "one line about the experiment (optional)"
        yield TextField(self.description, placeholder=hint, id="description")
        yield Static(id="note", classes="note", markup=False)
        yield Static("enter save · tab next field · escape cancel", classes="note", markup=False)

    def on_mount(self) -> None:
        self._describe(self.initial)

    @on(Input.Changed, "#name")
    def _describe(self, event: Input.Changed | str) -> None:
        name = event if isinstance(event, str) else event.value
        existing = {entry.name: entry for entry in list_presets()}
        notes = []
        entry = existing.get(name.strip())
        if entry is not None and entry.source == "user":
            notes.append(f"replaces your preset {entry.name!r}")
        elif entry is not None:
            notes.append(f"your preset will be used instead of the shipped {entry.name!r}")
        if self.problems:
            notes.append(f"the experiment has {counted(self.problems, 'problem')}; it is saved as it is")
        note = self.query_one("#note", Static)
        note.remove_class("error")
        note.update("; ".join(notes))

    @on(Input.Submitted)
    def _submit(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        description = self.query_one("#description", Input).value.strip()
        try:
            path = self.save(name, description)
        except ConfigError as error:
            note = self.query_one("#note", Static)
            note.add_class("error")
            note.update(str(error))
            return
        self.dismiss(path)


@dataclass(frozen=True)
class Opened:
    """An experiment read for the open dialog: the config and where it came from."""

    config: RunConfig
    source: str


class OpenScreen(Dialog):
    """Pick a preset, a past run's config, or type the path of a TOML file.

    Dismisses with :class:`Opened`; a file that cannot be read is reported here and nothing
    else changes.
    """

    DEFAULT_CSS = """
    OpenScreen OptionList { height: auto; max-height: 14; }
    """

    BINDINGS = [Binding("down", "move(1)", "Next", show=False), Binding("up", "move(-1)", "Previous", show=False)]

    def compose_dialog(self) -> ComposeResult:
        yield Label("Open an experiment", classes="title", markup=False)
        yield TextField(placeholder="filter, or the path of a .toml file", id="filter")
        yield OptionList(id="choices", markup=False)
        yield Static(id="message", classes="note", markup=False)
        yield Static("↑↓ choose · enter open · escape cancel", classes="note", markup=False)

    def on_mount(self) -> None:
        self._entries = _openable()
        self._fill("")

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, text: str) -> None:
        choices = self.query_one("#choices", OptionList)
        choices.clear_options()
        wanted = text.strip().lower()
        options = []
        if wanted.endswith(".toml") or Path(text.strip()).expanduser().is_file():
            options.append(Option(f"file  {text.strip()}", id=f"file:{text.strip()}"))
        for ref, label in self._entries:
            if wanted in label.lower():
                options.append(Option(label, id=ref))
        choices.add_options(options)
        if options:
            choices.highlighted = 0

    def action_move(self, delta: int) -> None:
        choices = self.query_one("#choices", OptionList)
        if choices.option_count:
            current = choices.highlighted or 0
            choices.highlighted = max(0, min(choices.option_count - 1, current + delta))

    @on(Input.Submitted, "#filter")
    def _submit(self) -> None:
        choices = self.query_one("#choices", OptionList)
        if choices.highlighted is not None:
            self._open(choices.get_option_at_index(choices.highlighted).id or "")

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._open(event.option.id or "")

    def _open(self, ref: str) -> None:
        kind, _, target = ref.partition(":")
        try:
            if kind == "run":
                config = config_io.read(runs_dir() / target / "config.toml")
                source = f"run {target}"
            else:
                config = read_experiment(target) if kind == "preset" else config_io.read(resolve(target))
                source = target
        except ConfigError as error:
            message = self.query_one("#message", Static)
            message.add_class("error")
            message.update(str(error))
            return
        self.dismiss(Opened(config, source))


def _openable() -> list[tuple[str, str]]:
    """(ref, label) for every preset and every past run with a config, newest run first.

    A label's columns (what, name, about) keep a gap of two: a run's id is longer than a
    preset's name, and with a fixed width the two ran together ("...-digits-cnncsv")."""
    presets = [(entry, "your preset" if entry.source == "user" else "preset") for entry in list_presets()]
    entries = _columns([(f"preset:{entry.name}", where, entry.name, entry.path) for entry, where in presets])
    folder = runs_dir()
    if folder.is_dir():
        configs = sorted(folder.glob("*/config.toml"), reverse=True)
        entries += _columns([(f"run:{path.parent.name}", "run", path.parent.name, path) for path in configs])
    return entries


def _columns(rows: list[tuple[str, str, str, Path]]) -> list[tuple[str, str]]:
    """(ref, label) of rows of (ref, what, name, file): the names padded to the longest, two apart."""
    width = max((len(name) for _, _, name, _ in rows), default=0)
    return [(ref, f"{what:<12}{name:<{width}}  {_about(path)}") for ref, what, name, path in rows]


def _about(path: Path) -> str:
    """A few words on an experiment file for the list: its data set (with its file) and description."""
    try:
        experiment = config_io.read(path)
    except ConfigError:
        return "(cannot be read)"
    return f"{data_label(experiment.data)}: {experiment.description or experiment.name}"


class ProblemsScreen(Dialog):
    """Every problem of the draft; choosing one dismisses with its field path (to go there)."""

    DEFAULT_CSS = """
    ProblemsScreen OptionList, ProblemsScreen OptionList:focus { height: auto; max-height: 16; text-wrap: wrap; }
    """

    def __init__(self, problems: list[ConfigError]) -> None:
        super().__init__()
        self.problems = problems

    def compose_dialog(self) -> ComposeResult:
        count = len(self.problems)
        yield Label(f"{counted(count, 'problem')} before this experiment can train", classes="title", markup=False)
        yield OptionList(*[Option(str(p), id=str(i)) for i, p in enumerate(self.problems)], markup=False)
        yield Static("enter go to the field · escape close", classes="note", markup=False)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.problems[int(event.option.id or 0)].field)
