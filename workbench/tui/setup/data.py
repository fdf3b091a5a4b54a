"""The Data screen: datasets and presets, facts and real samples of the highlighted one, options.

Moving through the list shows the highlighted dataset (or a preset's dataset) on the right:
what it is, its sizes, source and licence, and a few real samples: pictures drawn with
half-blocks for image sets, rows for tabular data and points. Enter makes the highlighted
dataset the experiment's (or opens the highlighted preset). The options below always belong to
the experiment's dataset. Samples are read in a thread worker: some sources import torch or
torchvision, or read files, and nothing may stall the screen.

A data set of the user's own class ("code"): enter (or e) asks for the class and its arguments;
what it gives (sizes, input shape, classes, sample pictures) comes from one run of the class in
a child process (the app never imports the user's code), asked off the UI thread: by the app's
probe worker for the experiment's own data, by the samples worker for a preset's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from workbench.data.registry import DATASETS, DatasetInfo, dataset_spec, describe, is_cached, split_sizes
from workbench.data.sources.code_dataset import code_ref
from workbench.errors import ConfigError, WorkbenchError, describe_error
from workbench.experiment.draft import value_at
from workbench.experiment.naming import data_label
from workbench.experiment.presets import list_presets, read_experiment
from workbench.formatting import count, counted, shape
from workbench.model.backbones import backbone_input
from workbench.render.pictures import Captioned
from workbench.schema.config import AugmentConfig, DataConfig, ModelConfig, RunConfig, section_params
from workbench.tui.messages import DatasetDownloaded, DownloadProgressed, SamplesRead
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.setup.data_code import CodeDatasetDialog
from workbench.tui.widgets.param_form import ParamForm
from workbench.tui.widgets.picture import PictureGrid
from workbench.tui.widgets.plain import plain_cells
from workbench.tui.widgets.progress import StillProgressBar
from workbench.usercode.arguments import args_text
from workbench.usercode.probing import answers_on_hand

#: Rows of pictures shown for an image dataset (as many per row as fit).
PICTURE_ROWS = 2
#: Rows shown for tabular data and points.
ROW_COUNT = 6
#: Seconds the highlight must rest before samples are read (scrolling the list stays smooth).
SAMPLE_DELAY = 0.15

#: Plain DataConfig fields edited in the options form (the dataset is picked from the list).
_DATA_FIELDS = tuple(p for p in section_params(DataConfig) if p.name != "dataset")


class Catalog(OptionList):
    """The list of datasets and presets; its footer entry says what enter does here."""

    BINDINGS = [Binding("enter", "select", "Use", key_display="enter")]


class DataScreen(WorkbenchScreen):
    MODE = "data"
    MAIN_WIDGET = "#catalog"
    HINT = "↑↓ look at a dataset or preset · enter uses it · tab moves to the options."

    BINDINGS = [
        Binding("enter", "use", "Use", show=False, tooltip="Train on the highlighted dataset, or open the highlighted preset"),
        Binding("D", "download", "Download", tooltip="Download the highlighted dataset into the cache"),
        Binding("e", "edit_code", "Your class", tooltip="Train on a Dataset class of yours: its file, class and arguments"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.highlighted: str = ""  # "dataset:NAME" or "preset:NAME"
        self._samples: dict[str, Any] = {}
        self._sample_timer: Timer | None = None
        #: (settings key, dataset) of the samples being read, and the dataset being downloaded.
        self._samples_pending: tuple[str, str] = ("", "")
        self._downloading = ""
        #: The settings of a code data set whose facts wait for the samples worker's run of the
        #: class (a preset's: the experiment's own are asked by the app's probe worker).
        self._facts_pending = ""

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="body"):
            yield Catalog(id="catalog", markup=False)
            with VerticalScroll(id="details"):
                yield Static(id="about", markup=False)
                yield StillProgressBar(1, id="download-progress", classes="hidden")
                yield Static(id="samples-note", classes="muted", markup=False)
                yield PictureGrid(16, 8, id="pictures")
                yield Static(id="rows", markup=False)
                yield Static(id="options-title", classes="heading", markup=False)
                yield ParamForm(_DATA_FIELDS, {}, where="data", id="data-form")
                yield ParamForm(
                    section_params(AugmentConfig),
                    {},
                    where="data.augment",
                    title="Augmentation (training only)",
                    id="augment-form",
                )
                yield ParamForm((), {}, where="data.options", title="Dataset options", id="options-form")

    def on_mount(self) -> None:
        catalog = self.query_one("#catalog", OptionList)
        catalog.add_options(self._catalog_options())
        current = f"dataset:{self.draft.config.data.dataset}"
        index = next((i for i in range(catalog.option_count) if catalog.get_option_at_index(i).id == current), 1)
        catalog.highlighted = index
        catalog.focus()

    def _catalog_options(self) -> list[Option]:
        options = [Option(Text("Datasets", style="bold"), disabled=True)]
        for name in DATASETS:
            options.append(Option(self._dataset_label(name), id=f"dataset:{name}"))
        options.append(Option(Text("Presets", style="bold"), disabled=True))
        for entry in list_presets():
            mark = "*" if entry.source == "user" else " "
            options.append(Option(Text(f" {entry.name}{mark}"), id=f"preset:{entry.name}"))
        return options

    def _dataset_label(self, name: str) -> Text:
        spec = DATASETS[name]
        chosen = name == self.draft.config.data.dataset
        text = Text.assemble(("●" if chosen else " ", "bold green"), f"{name:<14}")
        if spec.offline:
            text.append("offline", style="green")
        elif is_cached(name):
            text.append("cached", style="green")
        else:
            text.append(f"{spec.download_mb:.0f} MB", style="yellow")
        return text

    # ------------------------------------------------------------------ the draft

    def draft_changed(self) -> None:
        self._show_catalog_marks()
        self._show_highlighted()
        self._show_options()

    def _show_options(self) -> None:
        data = self.draft.config.data
        info = self.draft.dataset_info
        self.query_one("#options-title", Static).update(f"Options for {data.dataset} (this experiment's data)")
        data_form = self.query_one("#data-form", ParamForm)
        data_form.set_values({p.name: getattr(data, p.name) for p in _DATA_FIELDS})
        data_form.show_problems(self._own_problems("data"))
        augment = self.query_one("#augment-form", ParamForm)
        augment.set_class(info is not None and info.kind != "image" and not self.draft.problems_under("data.augment"), "hidden")
        augment.set_values({p.name: getattr(data.augment, p.name) for p in section_params(AugmentConfig)})
        augment.show_problems(self.draft.problems_under("data.augment"))
        self.call_next(self._show_dataset_options)

    def _show_catalog_marks(self) -> None:
        catalog = self.query_one("#catalog", OptionList)
        for name in DATASETS:  # the ● follows the experiment's dataset
            index = self._index_of(f"dataset:{name}")
            if index is not None:
                catalog.replace_option_prompt_at_index(index, self._dataset_label(name))

    async def _show_dataset_options(self) -> None:
        data = self.draft.config.data
        form = self.query_one("#options-form", ParamForm)
        try:
            schema = dataset_spec(data.dataset).options
        except WorkbenchError:
            schema = ()
        # A code data set's class and arguments are set in one go, in their dialog (e).
        schema = tuple(p for p in schema if not (data.dataset == "code" and p.name == "code"))
        values = {p.name: value_at(self.draft.config, f"data.options.{p.name}") for p in schema}
        await form.set_schema(schema, values)
        form.set_class(not schema, "hidden")
        form.show_problems(self.draft.problems_under("data.options"))

    def _own_problems(self, where: str) -> list[ConfigError]:
        """Problems of the data section that the augmentation and options forms do not show."""
        return [p for p in self.draft.problems_under(where) if not p.field.startswith(("data.augment", "data.options"))]

    def focus_field(self, path: str) -> None:
        section, _, name = path.rpartition(".")
        form_id = {"data": "data-form", "data.augment": "augment-form", "data.options": "options-form"}.get(section)
        if form_id is None or name == "dataset":
            self.query_one("#catalog").focus()
            return
        for widget in self.query(f"#{form_id} #field-{name}"):
            widget.focus()

    # ------------------------------------------------------------------ the highlighted entry

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "catalog" and event.option.id:
            self.highlighted = event.option.id
            self._show_highlighted()
            self.refresh_bindings()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "catalog":
            self.action_use()

    def _show_highlighted(self) -> None:
        kind, _, name = self.highlighted.partition(":")
        if not name:
            return
        about = self.query_one("#about", Static)
        try:
            data, preset = self._entry(kind, name)
        except WorkbenchError as error:
            about.update(Text.styled(str(error), "red"))
            self._show_samples_message("")
            return
        in_use = kind == "dataset" and name == self.draft.config.data.dataset
        try:
            with answers_on_hand() as pending:  # the user's class is never run here: see below
                info = describe(data)
        except WorkbenchError as error:  # a csv without a path, an unknown dataset in a preset...
            spec = DATASETS.get(data.dataset)
            heading = _heading(spec.title, spec.help) if spec else Text("")
            about.update(Group(heading, Text(f"\n{error}", style="red" if not pending else "")))
            self._show_samples_message("")
            if pending and not in_use:  # the samples worker runs the class once, then this again
                self._facts_pending = self._samples_key(data, self._sample_count(data))
                self._request_samples(data)
            return
        model = preset.model if preset is not None else self.draft.config.model if in_use else None
        current = data_label(self.draft.config.data)
        about.update(_about(info, data, preset, in_use=in_use, model=model, current=current))
        self._request_samples(data)

    def _entry(self, kind: str, name: str) -> tuple[DataConfig, RunConfig | None]:
        """The data settings to show for a list entry, and the preset it belongs to (if one)."""
        if kind == "preset":
            preset = read_experiment(name)
            return preset.data, preset
        if name == self.draft.config.data.dataset:
            return self.draft.config.data, None
        return DataConfig(dataset=name), None

    # ------------------------------------------------------------------ samples

    def _sample_count(self, data: DataConfig) -> int:
        """Enough pictures to fill two rows of the details pane (3 per row at 80 columns)."""
        if DATASETS[data.dataset].kind != "image":
            return ROW_COUNT
        grid = self.query_one("#pictures", PictureGrid)
        per_row = max(3, (self.query_one("#details").size.width + 1) // (grid.tile_width + 1))
        return PICTURE_ROWS * per_row

    @staticmethod
    def _samples_key(data: DataConfig, count: int) -> str:
        return repr((data.dataset, sorted(data.options.items()), count))

    def _request_samples(self, data: DataConfig) -> None:
        count = self._sample_count(data)
        key = self._samples_key(data, count)
        if key in self._samples:
            self._show_samples(data.dataset, self._samples[key])
            return
        self._show_samples_message("reading samples…")
        if self._sample_timer is not None:
            self._sample_timer.stop()
        self._sample_timer = self.set_timer(SAMPLE_DELAY, lambda: self._start_samples(key, data, count))

    def _start_samples(self, key: str, data: DataConfig, count: int) -> None:
        self._samples_pending = (key, data.dataset)
        self._read_samples(key, data, count)

    @work(thread=True, exclusive=True, group="samples", exit_on_error=False)
    def _read_samples(self, key: str, data: DataConfig, count: int) -> None:
        from workbench.data.preview import preview_samples  # may import torch: only in this worker

        self.post_message(SamplesRead(key, data.dataset, preview_samples(data, count)))

    def on_samples_read(self, message: SamplesRead) -> None:
        self._samples_read(message.key, message.dataset, message.samples)

    def _samples_read(self, key: str, dataset: str, result: Any) -> None:
        if isinstance(result, list):
            self._samples[key] = result
        if key == self._facts_pending:  # the class has run once: its facts are on hand now
            self._facts_pending = ""
            self._show_highlighted()
        kind, _, name = self.highlighted.partition(":")
        try:
            still_shown = self._entry(kind, name)[0].dataset == dataset
        except WorkbenchError:
            still_shown = False
        if still_shown:
            self._show_samples(dataset, result)

    def _show_samples(self, dataset: str, result: Any) -> None:
        pictures = self.query_one("#pictures", PictureGrid)
        rows = self.query_one("#rows", Static)
        if isinstance(result, str):
            self._show_samples_message(result, error=True)
            return
        note = self.query_one("#samples-note", Static)
        note.remove_class("error")
        if dataset == "code":
            note.update(f"Items your class gave ({len(result)})")
        elif result and result[0].image is not None:
            note.update(f"Samples of the test split ({len(result)})")
        if result and result[0].image is not None:
            pictures.set_pictures([Captioned(s.image, s.label) for s in result])
            rows.update("")
        else:
            if dataset != "code":
                target = f" · target: {result[0].target}" if result and result[0].target else ""
                note.update(f"Rows of the test split ({len(result)}){target}")
            pictures.set_pictures([])
            rows.update(_rows_table(result[:ROW_COUNT]))

    def _show_samples_message(self, message: str, error: bool = False) -> None:
        note = self.query_one("#samples-note", Static)
        note.update(message)
        note.set_class(error, "error")
        self.query_one("#pictures", PictureGrid).set_pictures([])
        self.query_one("#rows", Static).update("")

    # ------------------------------------------------------------------ actions

    def action_use(self) -> None:
        kind, _, name = self.highlighted.partition(":")
        if kind == "dataset" and name == "code":
            self.action_edit_code()
        elif kind == "dataset" and name != self.draft.config.data.dataset:
            # Said first and painted before the change: every screen redraws for a new data
            # set, and the first enter left the screen as it was for up to 2 s meanwhile.
            self.notify(f"The experiment now trains on {name} (ctrl+z undoes)", timeout=3, markup=False)
            self.call_after_refresh(self.draft.set_dataset, name)
        elif kind == "preset":
            self.app.open_preset(name)

    def action_edit_code(self) -> None:
        self.app.push_screen(CodeDatasetDialog(self.draft), self._use_code)

    def _use_code(self, options: dict[str, Any] | None) -> None:
        """The dialog's settings become the experiment's data set: one undo step."""
        if options is None:
            return

        def change(config: RunConfig) -> None:
            config.data.dataset, config.data.options = "code", options

        if self.draft.edit("dataset code", change):
            label = code_ref(options).label
            self.notify(f"The experiment now trains on {label} (ctrl+z undoes)", timeout=3, markup=False)

    def action_download(self) -> None:
        kind, _, name = self.highlighted.partition(":")
        if kind != "dataset" or DATASETS[name].download is None:
            return
        bar = self.query_one("#download-progress", StillProgressBar)
        bar.remove_class("hidden")
        bar.update(total=None, progress=0)  # animated until the first report gives the size
        self._downloading = name
        self._download(name)

    @work(thread=True, exclusive=True, group="download", exit_on_error=False)
    def _download(self, name: str) -> None:
        from workbench.data.download import download

        download(name, lambda done, total: self.post_message(DownloadProgressed(done, total)))
        self.post_message(DatasetDownloaded(name))

    def on_download_progressed(self, message: DownloadProgressed) -> None:
        self._download_progress(message.done, message.total)

    def on_dataset_downloaded(self, message: DatasetDownloaded) -> None:
        self._download_done(message.name, None)

    def worker_failed(self, group: str, error: BaseException) -> None:
        """Samples that cannot be read say why in their place; a failed download is named."""
        if group == "samples":
            key, dataset = self._samples_pending
            self._samples_read(key, dataset, describe_error(error))
        elif group == "download":
            self._download_done(self._downloading, describe_error(error))
        else:
            super().worker_failed(group, error)

    def _download_progress(self, done: int, total: int) -> None:
        self.query_one("#download-progress", StillProgressBar).update(total=total, progress=done)

    def _download_done(self, name: str, error: str | None) -> None:
        self.query_one("#download-progress", StillProgressBar).rest()
        if error:
            self.notify(error.split(";")[0], title=f"{name} was not downloaded", severity="error", timeout=8)
            self._show_samples_message(error, error=True)
            return
        self.notify(f"{name} downloaded", timeout=4)
        self.draft.recheck()  # the status stops saying the dataset downloads first
        self._samples.clear()
        index = self._index_of(f"dataset:{name}")
        if index is not None:
            self.query_one("#catalog", OptionList).replace_option_prompt_at_index(index, self._dataset_label(name))
        self._show_highlighted()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "download":
            kind, _, name = self.highlighted.partition(":")
            return kind == "dataset" and DATASETS[name].download is not None and not is_cached(name)
        if action == "edit_code":
            return self.highlighted == "dataset:code"
        return super().check_action(action, parameters)

    def _index_of(self, option_id: str) -> int | None:
        catalog = self.query_one("#catalog", OptionList)
        try:
            return catalog.get_option_index(option_id)
        except OptionDoesNotExist:
            return None


def _heading(title: str, help: str) -> Text:
    return Text.assemble((title, "bold"), "\n", (help, "italic"))


def _about(
    info: DatasetInfo, data: DataConfig, preset: RunConfig | None, in_use: bool, model: ModelConfig | None, current: str
) -> Group:
    """The facts of a dataset as a small two-column table, under a title; ``model``: the one
    that trains on it here (a pretrained backbone has its inputs resized and normalised);
    ``current``: the experiment's data set with its file, said whatever entry is shown."""
    facts = Table.grid(padding=(0, 1))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    if info.task == "classification":
        names = " ".join(info.class_names[:10]) + (" …" if len(info.class_names) > 10 else "")
        facts.add_row(*plain_cells("task", f"classification, {len(info.class_names)} classes: {names}"))
    else:
        facts.add_row(*plain_cells("task", f"regression, {counted(info.num_outputs, 'target')}"))
    facts.add_row(*plain_cells("input", f"{shape(info.input_shape)} ({info.kind})"))
    if info.name == "code":
        ref = code_ref(data.options)
        facts.add_row(*plain_cells("class", f"{ref.label} in {ref.folder}"))
        facts.add_row(*plain_cells("arguments", args_text(_beside(data.options.get("args"), ref.folder)) or "none"))
        test = args_text(_beside(data.options.get("test_args"), ref.folder))
        facts.add_row(*plain_cells("test set", f"the class with {test}" if test else "20% of the items, held out"))
    prepared = backbone_input(model.layers) if model is not None and info.kind == "image" else None
    if prepared is not None:
        facts.add_row(*plain_cells("", prepared.note(info.input_shape[0])))
    sizes = split_sizes(data, info)
    facts.add_row(
        *plain_cells("samples", f"train {count(sizes.train)} · validation {count(sizes.val)} · test {count(sizes.test)}")
    )
    facts.add_row(*plain_cells("source", info.source))
    facts.add_row(*plain_cells("licence", info.licence))
    if info.offline:
        status = Text("offline: ready", style="green")
    elif info.cached:
        status = Text(f"downloaded ({info.download_mb} MB, cached)", style="green")
    else:
        status = Text(f"not downloaded: {info.download_mb} MB; press D to download", style="yellow")
    facts.add_row(*plain_cells("files", status))
    parts: list[Any] = [_heading(info.title, dataset_spec(info.name).help)]
    if preset is not None:
        parts.insert(
            0,
            Text.assemble(("preset ", "bold"), (preset.name, "bold cyan"), f": {preset.description}\nenter opens this preset\n"),
        )
    if in_use:
        parts.append(Text(f"this experiment's dataset: {current}", style="green"))
    else:  # whatever is highlighted, the pane says what the experiment trains on
        said = f"the experiment trains on {current} now" if preset else f"enter: train the experiment on it, not {current}"
        parts.append(Text(said, style="dim"))
    parts.append(facts)
    return Group(*parts)


def _beside(args: dict[str, Any] | None, folder: Path) -> dict[str, Any]:
    """Arguments as the facts pane shows them: a file in the class's folder by its path from
    there (``train.txt``), so that the line fits beside the list at 80 columns."""
    shown = {}
    for name, value in (args or {}).items():
        path = Path(value) if isinstance(value, str) and value.startswith("/") else None
        shown[name] = str(path.relative_to(folder)) if path is not None and path.is_relative_to(folder) else value
    return shown


#: Feature columns a preview shows, and their widest cell: with the target, they fit the details
#: pane at 80 columns (a CSV's 13 long header names pushed its target column out of sight).
ROWS_SHOWN = 5
ROWS_CELL = 7


def _rows_table(samples: list[Any]) -> Table:
    """A few rows of tabular data or points: their values and label (token sequences as text)."""
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    if samples and samples[0].text:
        table.add_column("sequence")
        table.add_column("label", style="bold")
        for sample in samples:
            table.add_row(*plain_cells(sample.text, sample.label))
        return table
    width = len(samples[0].features or ()) if samples else 0
    shown = min(width, ROWS_SHOWN)
    names = samples[0].names if samples and len(samples[0].names) == width else tuple(f"x{i + 1}" for i in range(width))
    for name in names[:shown]:  # a CSV's header names them: long ones are cut, the note under the list says the target
        table.add_column(name, justify="right", max_width=ROWS_CELL, overflow="ellipsis", no_wrap=True)
    if width > shown:
        table.add_column("…")
    target = samples[0].target if samples else ""
    table.add_column(target or "label", style="bold", max_width=ROWS_CELL + 4, overflow="ellipsis", no_wrap=True)
    for sample in samples:
        values = [f"{v:.3g}" for v in (sample.features or ())[:shown]]
        if width > shown:
            values.append("…")
        table.add_row(*plain_cells(*values, sample.label))
    return table
