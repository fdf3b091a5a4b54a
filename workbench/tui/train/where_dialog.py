"""Where a run trains: the device (each GPU with its name and memory) and how many workers,
on this machine or on one of the other hosts (``--remote``, ``[remotes]``; issue 28).

The Train screen's `d` opens it; what it returns goes into the experiment (``train.device`` and
``train.workers``) as one undo step, so that `s`, a saved preset and the run's config.toml all
say the same. Several workers train one run with DistributedDataParallel, one per GPU; the
check that there is a GPU for each is the launcher's own (``Workers.check_devices``).

Each host is listed below this machine's devices with the state of its connection and its GPUs
as its session last saw them (connection.json: name, memory used, the run training on each);
a host's device is chosen as ``gpu1:cuda:0``, and `s` then starts the experiment on that host.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from workbench.errors import ConfigError
from workbench.hosts.mirror import CONNECTED
from workbench.hosts.overview import HostState, gpu_words
from workbench.scheduling.launch import Workers
from workbench.tui.screens.dialogs import Dialog
from workbench.tui.widgets.text_field import TextField


def cuda_devices(devices: tuple[tuple[str, str], ...]) -> int:
    """How many of the app's detected devices (``App.devices``) are CUDA GPUs."""
    return sum(name.startswith("cuda") for name, _ in devices)


@dataclass(frozen=True)
class Where:
    device: str
    workers: int
    host: str = ""  # another host's name: the run starts there; "" for this machine


def host_choices(state: HostState) -> list[tuple[str, str, int]]:
    """A host's devices as (option id, label, its GPUs): the host's own choice, then each GPU."""
    gpus = state.connection.gpus
    if state.connection.state != CONNECTED:
        about = "its GPUs are listed once it answers"
    else:
        about = "its GPU if it has one, else its CPU" if gpus else "no GPU listed: its CPU"
    choices = [(f"{state.name}:auto", f"  auto     {about}", len(gpus))]
    for gpu in gpus:
        choices.append(
            (f"{state.name}:cuda:{gpu.get('index', 0)}", f"  cuda:{gpu.get('index', 0):<3} {gpu_words(gpu)}", len(gpus))
        )
    return choices


class WhereScreen(Dialog):
    """Choose the device (↑↓) and the number of workers; enter sets both, escape cancels."""

    def __init__(
        self, devices: tuple[tuple[str, str], ...], device: str, workers: int, hosts: Sequence[HostState] = (), host: str = ""
    ) -> None:
        super().__init__()
        self.devices = (("auto", "CUDA if there is a GPU, else Apple's mps, else the CPU"), *devices)
        self.current_device = f"{host}:{device}" if host else device
        self.current_workers = workers
        self.hosts = tuple(hosts)
        #: Each option's id (None: a host's heading), the host it trains on and how many GPUs that has.
        self.choices: list[tuple[str | None, str, int]] = []

    def _options(self) -> list[Option]:
        """This machine's devices, then each host's heading and devices (``choices`` made anew)."""
        self.choices = [(name, "", cuda_devices(self.devices)) for name, _ in self.devices]
        options = [Option(f"{name:<8} {about}", id=name) for name, about in self.devices]
        for state in self.hosts:
            self.choices.append((None, state.name, 0))
            options.append(Option(Text(state.words), disabled=True))  # the host's words: never markup
            for option, label, gpus in host_choices(state):
                self.choices.append((option, state.name, gpus))
                options.append(Option(Text(label), id=option))
        return options

    def compose_dialog(self) -> ComposeResult:
        yield Static("Where to train", classes="title", markup=False)
        yield OptionList(*self._options(), id="devices")
        yield Static("workers (one per GPU; data.batch_size stays the global batch)", classes="note")
        yield TextField(str(self.current_workers), type="integer", id="workers")
        yield Static(id="note", classes="note", markup=False)
        yield Static("↑↓ device · tab workers · enter set both · escape cancel", classes="note", markup=False)

    def on_mount(self) -> None:
        options = self.query_one("#devices", OptionList)
        ids = [option for option, _, _ in self.choices]
        options.highlighted = ids.index(self.current_device) if self.current_device in ids else 0
        options.focus()
        if self.hosts:
            self.watch(self.app, "hosts_version", self._hosts_changed, init=False)

    def _hosts_changed(self, _version: int) -> None:
        """A host connected, went, or listed its GPUs anew (asked as the dialog opened): its
        rows follow, the highlight stays on the same choice."""
        self.hosts = tuple(self.app.host_states)  # type: ignore[attr-defined]
        options = self.query_one("#devices", OptionList)
        kept = self.choices[options.highlighted or 0][0]
        options.clear_options()
        options.add_options(self._options())
        ids = [option for option, _, _ in self.choices]
        options.highlighted = ids.index(kept) if kept in ids else 0

    @on(OptionList.OptionSelected)
    @on(Input.Submitted)
    def _submit(self) -> None:
        options = self.query_one("#devices", OptionList)
        option, host, gpus = self.choices[options.highlighted or 0]
        if option is None:
            return  # a host's heading
        device = option.removeprefix(f"{host}:") if host else option
        note = self.query_one("#note", Static)
        state = next((s for s in self.hosts if s.name == host), None)
        if state is not None and state.connection.state != CONNECTED:
            note.add_class("error")
            note.update(f"{state.words}: a run cannot start there now; choose this machine or a host connected")
            return
        try:
            workers = int(self.query_one("#workers", Input).value)
        except ValueError:
            workers = 0
        try:
            if workers < 1:
                raise ConfigError("give a whole number of workers, 1 or more")
            Workers(per_node=workers).check_devices(device, gpus)
        except ConfigError as error:
            note.add_class("error")
            note.update(str(error))
            return
        self.dismiss(Where(device, workers, host))
