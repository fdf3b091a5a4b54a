"""Where a run trains: the device (each GPU with its name and memory) and how many workers.

The Train screen's `d` opens it; what it returns goes into the experiment (``train.device`` and
``train.workers``) as one undo step, so that `s`, a saved preset and the run's config.toml all
say the same. Several workers train one run with DistributedDataParallel, one per GPU; the
check that there is a GPU for each is the launcher's own (``Workers.check_devices``).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from workbench.errors import ConfigError
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


class WhereScreen(Dialog):
    """Choose the device (↑↓) and the number of workers; enter sets both, escape cancels."""

    def __init__(self, devices: tuple[tuple[str, str], ...], device: str, workers: int) -> None:
        super().__init__()
        self.devices = (("auto", "CUDA if there is a GPU, else Apple's mps, else the CPU"), *devices)
        self.current_device = device
        self.current_workers = workers

    def compose_dialog(self) -> ComposeResult:
        yield Static("Where to train", classes="title", markup=False)
        yield OptionList(*(Option(f"{name:<8} {about}", id=name) for name, about in self.devices), id="devices")
        yield Static("workers on this machine (one per GPU; data.batch_size stays the global batch)", classes="note")
        yield TextField(str(self.current_workers), type="integer", id="workers")
        yield Static(id="note", classes="note", markup=False)
        yield Static("↑↓ device · tab workers · enter set both · escape cancel", classes="note", markup=False)

    def on_mount(self) -> None:
        options = self.query_one("#devices", OptionList)
        names = [name for name, _ in self.devices]
        options.highlighted = names.index(self.current_device) if self.current_device in names else 0
        options.focus()

    @on(OptionList.OptionSelected)
    @on(Input.Submitted)
    def _submit(self) -> None:
        options = self.query_one("#devices", OptionList)
        device = self.devices[options.highlighted or 0][0]
        note = self.query_one("#note", Static)
        try:
            workers = int(self.query_one("#workers", Input).value)
        except ValueError:
            workers = 0
        gpus = cuda_devices(self.devices)
        try:
            if workers < 1:
                raise ConfigError("give a whole number of workers, 1 or more")
            Workers(per_node=workers).check_devices(device, gpus)
        except ConfigError as error:
            note.add_class("error")
            note.update(str(error))
            return
        self.dismiss(Where(device, workers))
