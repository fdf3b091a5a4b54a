"""The Runs screen: every run on disk, the selected one's details, and what can be done with it.

The table lists the runs as ``workbench runs`` does (from their status files: torch-free and
cheap), sortable by any column (``o`` moves to the next, ``O`` reverses) and filtered by the
words typed after ``/``. It is read again every two seconds while the screen is shown, so runs
that ``workbench train`` drives in another process appear and move on live. Below the table, the
highlighted run: its experiment in brief, its checkpoints and its curves (from metrics.jsonl).

Actions: show the run on the Train screen (enter: live, if it is training), evaluate the
highlighted checkpoint (``e``, the evaluation view), resume the run (``r``, in a training
process of its own), load its experiment into the setup screens (``c``), delete it (``d``, asks
first), write its metrics to metrics.csv in its folder (``w``), and compare runs (mark with ``m``
or space, every listed one with ``M``, then ``v``). Files are read in thread
workers, never on the UI thread. The columns say what ``workbench runs`` says
(:mod:`workbench.runs.listing`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize, ScreenResume
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

from workbench.errors import WorkbenchError, describe_error
from workbench.formatting import count, counted, counted_of, duration
from workbench.hosts.mirror import CONNECTED, CONNECTING, RECONNECTING, UNREACHABLE
from workbench.hosts.overview import HostState, evaluated_there, hosts_line
from workbench.outputs.export import export_to_run_folder
from workbench.runs.details import RunDetails, listed_checkpoints, metrics_stamp, read_details
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory
from workbench.runs.listing import (
    HOST_COLUMN,
    LISTING_COLUMNS,
    SORT_KEYS,
    STATE_STYLES,
    RunSummary,
    best_text,
    listing_cells,
    matches,
    state_label,
    test_text,
)
from workbench.runs.liveness import RunBusyError
from workbench.runs.mirrored import mirror_host, run_ref
from workbench.runs.resume_rules import check_resumable, needs_new_total, suggested_total
from workbench.runs.store import delete_run
from workbench.tui.messages import DeleteAsked, RunDeleted, RunDetailsRead, RunDetailsStale, SweepTableRead
from workbench.tui.screens.charts_screen import ChartsScreen
from workbench.tui.widgets.charts import CHART_BINDINGS, ChartDeck, loss_chart, metric_chart
from workbench.tui.widgets.plain import UnmeasuredCell, unmeasured_cells
from workbench.tui.widgets.text_field import TextField

#: Seconds between two looks at the metrics of a host's run highlighted (a stat of its mirror's file).
REMOTE_DETAILS_CHECK_S = 1.0
#: Terminal sizes from which the run's two charts sit side by side, and the details grow.
WIDE_COLUMNS = 150
TALL_ROWS = 40


@dataclass(frozen=True)
class SortColumn:
    label: str
    key: Any  # RunSummary -> a sortable value; None: the order the store lists runs in (by start time)
    newest_first: bool = False  # the natural order of the column is descending


SORTS: tuple[SortColumn, ...] = (
    SortColumn("started", None, newest_first=True),
    SortColumn("name", SORT_KEYS["name"]),
    SortColumn("dataset", SORT_KEYS["dataset"]),
    SortColumn("state", SORT_KEYS["state"]),
    SortColumn("best", SORT_KEYS["best"]),
    SortColumn("test", SORT_KEYS["test"], newest_first=True),
    SortColumn("params", SORT_KEYS["params"], newest_first=True),
    SortColumn("time", SORT_KEYS["time"], newest_first=True),
)


#: Columns a narrow terminal leaves out, first to last: the state, name, results and time stay
#: (the best epoch goes last, where the host column takes its room at 80 columns).
NARROW_DROPS = ("params", "started", "model", "dataset", "best")


def fitting_columns(
    cells: Iterable[dict[str, str]], width: int, all_columns: tuple[str, ...] = LISTING_COLUMNS
) -> tuple[tuple[str, int], ...]:
    """The columns of ``all_columns`` that fit ``width`` cells for these runs, with the width of each,
    leaving out :data:`NARROW_DROPS` in order until they fit (at 80 columns the time was cut off).

    The table is given these widths rather than measuring its cells itself: a DataTable whose
    columns are replaced keeps drawing rows at the new columns' header widths (Textual 8.2
    measures the cells after it has cached their first drawing).
    """
    cells = list(cells)
    needs = {column: max([len(column), *(len(c[column]) for c in cells)]) for column in all_columns}
    columns = list(all_columns)
    for column in NARROW_DROPS:
        if sum(needs[c] + 2 for c in columns) + 4 <= width:  # + padding, the mark column, the scrollbar
            break
        columns.remove(column)
    return tuple((column, needs[column]) for column in columns)


class RunsScreen(ChartsScreen):
    MODE = "runs"
    MAIN_WIDGET = "#runs"
    WORKER_FAILURES = {
        "runs-list": "The runs could not be read",
        "metrics-export": "The metrics could not be exported",
        "sweep-table": "The sweep could not be read",
        "run-delete": "The run could not be deleted",
        "run-resume": "The run could not be resumed",
        "run-eval-there": "The run could not be evaluated on its host",
        "run-load": "The run's experiment could not be read",
    }
    HINT = "↑↓ choose a run · tab to its checkpoints · / filters · o sorts · runs of other processes update live"

    BINDINGS = [
        Binding("enter", "attach", "Show", tooltip="Show the run on the Train screen (live while it trains)"),
        Binding("e", "evaluate", "Eval", tooltip="Evaluate the highlighted checkpoint on the test split"),
        Binding("r", "resume", "Resume", tooltip="Resume the run from its last checkpoint, in a process of its own"),
        Binding("c", "load", "Load", tooltip="Load the run's experiment into the setup screens"),
        Binding("d", "delete", "Delete", tooltip="Delete the run and its checkpoints (asks first)"),
        # In ? and the README: the footer has no room left at 80 columns.
        Binding(
            "w", "export", "CSV", show=False, tooltip="Write the run's metrics, one row per epoch, to metrics.csv in its folder"
        ),
        Binding("i", "inside", "Inside", show=False, tooltip="Look inside the run's model: weights, gradients, outputs, filters"),
        Binding("m,space", "mark", "Mark", tooltip="Mark or unmark the run for a comparison"),
        Binding(
            "M",
            "mark_all",
            "Mark all",
            show=False,
            tooltip="Mark every run listed (after a / filter: the matching ones), or unmark all",
        ),
        Binding("v", "compare", "Compare", tooltip="Compare the marked runs (one marked: with the highlighted run)"),
        Binding(
            "S",
            "sweep",
            "Sweep",
            show=False,
            tooltip="Show the highlighted run's sweep: its points as a table, best first (b there loads the best)",
        ),
        Binding("o", "sort", "Sort", tooltip="Sort by the next column"),
        Binding("O", "reverse", "Reverse", show=False, tooltip="Reverse the order of the sort"),
        # The filter field says "/ filter ..." on screen, so the footer keeps its room for the rest.
        Binding("slash", "filter", "Filter", show=False, tooltip="Filter the runs by name, dataset or state"),
        Binding("g", "next_chart", "Chart", show=False, tooltip="Show the run's other chart"),
        *CHART_BINDINGS,
    ]

    DEFAULT_CSS = """
    RunsScreen #runs-top { height: 1; }
    RunsScreen #filter { width: 1fr; height: 1; border: none; padding: 0 1; }
    RunsScreen #sort-note { width: auto; height: 1; padding: 0 1; color: $text-muted; }
    RunsScreen #hosts-line { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; display: none; }
    RunsScreen #hosts-line.-hosts { display: block; }
    RunsScreen #runs { height: 1fr; min-height: 4; scrollbar-size: 1 1; scrollbar-color: $panel-lighten-3; scrollbar-background: $panel; }
    RunsScreen #run-details { height: 11; border-top: solid $panel-lighten-2; border-title-align: left; border-title-color: $text; }
    RunsScreen #run-info { width: 40; padding: 0 1; }
    RunsScreen #run-summary { height: auto; }
    RunsScreen #checkpoints { height: 1fr; min-height: 2; border: none; padding: 0; scrollbar-size-vertical: 1; }
    RunsScreen #checkpoints:focus { border: none; background-tint: $foreground 5%; }
    RunsScreen #run-charts { width: 1fr; }
    RunsScreen.-tall #run-details { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.summaries: list[RunSummary] = []
        self.shown: list[RunSummary] = []
        self.marked: list[str] = []
        #: The listing's columns shown (a narrow terminal leaves some out).
        self.columns: tuple[str, ...] = ()
        self._layout: tuple[tuple[str, int], ...] = ()  # the shown columns and their widths
        self.sort_index = 0
        self.reverse = False
        self.details: RunDetails | None = None
        self._selected_shown = ""
        self._listed = False  # the runs have been listed once
        #: The run whose details are being read (to say so in place if they cannot be).
        self._details_pending: tuple[RunDir, RunSummary] | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            with Horizontal(id="runs-top"):
                yield TextField(placeholder="/ filter by name, dataset or state", id="filter")
                yield Static(id="sort-note", markup=False)
            yield Static(id="hosts-line", markup=False)
            yield DataTable(id="runs", cursor_type="row", zebra_stripes=False)
            with Horizontal(id="run-details"):
                with Vertical(id="run-info"):
                    yield Static(id="run-summary", markup=False)
                    yield OptionList(id="checkpoints", markup=False)
                yield ChartDeck(("loss", "metric"), id="run-charts")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#runs", DataTable)
        self.query_one("#filter", Input).can_focus = False
        table.focus()
        self._show_sort_note()
        self.watch(self.app, "listing_version", self._listing_changed, init=False)
        self.watch(self.app, "runs_version", self._runs_moved, init=False)
        self.query_one("#hosts-line").set_class(bool(self.app.remotes), "-hosts")
        self.watch(self.app, "hosts_version", self._show_hosts)
        if self.app.remotes:
            self.set_interval(REMOTE_DETAILS_CHECK_S, self._check_remote_details)

    def _check_remote_details(self) -> None:
        """A host's run highlighted: its metrics reach its mirror as its session fetches them,
        which no listing says (only its status is listed), so its curves look for them here."""
        details = self.details
        if details is not None and self.is_current and mirror_host(details.run.path):
            self._check_details(details)

    def _show_hosts(self, _version: int = 0) -> None:
        """The state of the connection to each host, in a line above the runs (with hosts only)."""
        if self.app.remotes:
            self.query_one("#hosts-line", Static).update(hosts_text(self.app.host_states))

    def on_screen_resume(self, _event: ScreenResume) -> None:
        """Shown: the app's last listing at once (it is kept current as runs change)."""
        self._listing_changed()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.height >= TALL_ROWS, "-tall")
        self.query_one(ChartDeck).set_class(event.size.width >= WIDE_COLUMNS, "-all")
        if self._listed and fitting_columns(map(listing_cells, self.shown), event.size.width, self.all_columns) != self._layout:
            self._fill_table()  # the columns that fit have changed

    @property
    def all_columns(self) -> tuple[str, ...]:
        """The listing's columns, led by the host's where the runs of other hosts are listed too."""
        return (HOST_COLUMN, *LISTING_COLUMNS) if self.app.remotes else LISTING_COLUMNS

    # ------------------------------------------------------------------ reading the runs

    def _listing_changed(self) -> None:
        """The app's listing changed (a run appeared, changed or went): shown here when this is
        the screen on view; a hidden one catches up when it is shown, but for its first listing,
        which it shows at once (built ahead of its first showing: see WorkbenchApp._build_ahead)."""
        listing = self.app.listing
        if listing is not None and (self.is_current or not self._listed):
            self._runs_read(listing)

    def _runs_read(self, summaries: list[RunSummary]) -> None:
        changed = summaries != self.summaries or not self._listed  # the first listing: "no runs yet" too
        self._listed = True
        self.summaries = summaries
        if changed:
            self._fill_table()
        self._select_shown_run()
        if self.details is not None:
            self._check_details(self.details)

    def _runs_moved(self) -> None:
        """A followed run moved on: the details of one in progress catch up with its curves. The
        listing changes only when a run's status does (an epoch's end, a new state), no longer
        every 2 s (issue 31), and an epoch can be long."""
        details = self.details
        if details is not None and self.is_current:
            followed = self.app.runs.followed.get(run_ref(details.run))
            if followed is not None and followed.live:
                self._check_details(details)

    @work(thread=True, exclusive=True, group="details-stamp", exit_on_error=False)
    def _check_details(self, details: RunDetails) -> None:
        """A run in progress: its curves moved on when metrics.jsonl did (a look at the file, off the UI thread)."""
        if metrics_stamp(details.run) != details.stamp:
            self.post_message(RunDetailsStale(run_ref(details.run)))

    def on_run_details_stale(self, message: RunDetailsStale) -> None:
        if self.details is not None and run_ref(self.details.run) == message.run_id:
            self._load_details(message.run_id)

    def _fill_table(self) -> None:
        table = self.query_one("#runs", DataTable)
        keep = self.highlighted_id
        sort = SORTS[self.sort_index]
        words = self.query_one("#filter", Input).value
        shown = [s for s in self.summaries if matches(s, words)]
        if sort.key is not None:
            shown.sort(key=sort.key)
        if sort.newest_first != self.reverse:
            shown.reverse()
        cells = {summary.ref: listing_cells(summary) for summary in shown}
        layout = fitting_columns(cells.values(), self.size.width, self.all_columns)
        if layout != self._layout:
            self._layout = layout
            self.columns = tuple(column for column, _ in layout)
            table.clear(columns=True)
            table.add_column(" ", width=1)
            for column, width in layout:
                table.add_column(column, width=width)
        same_rows = [s.ref for s in shown] == [s.ref for s in self.shown] and table.row_count == len(shown)
        before = dict(zip([s.ref for s in self.shown], self.shown, strict=True))
        self.shown = shown
        if same_rows and shown:  # a run in progress moved on: change its cells in place, keep the table as it is
            columns = [column.key for column in table.ordered_columns]
            for summary in shown:
                if before[summary.ref] == summary:
                    continue
                for column, cell in zip(columns, self._cells(summary, cells[summary.ref]), strict=True):
                    if table.get_cell(summary.ref, column) != cell:
                        table.update_cell(summary.ref, column, cell)
            self._show_sort_note()
            return
        table.clear()
        for summary in shown:
            table.add_row(*self._cells(summary, cells[summary.ref]), key=summary.ref)
        if not shown:
            self._show_empty(words)
        if keep and keep in {s.ref for s in shown}:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        elif shown:
            self._load_details(shown[table.cursor_row if 0 <= table.cursor_row < len(shown) else 0].ref)
        self._show_sort_note()

    def _cells(self, summary: RunSummary, cells: dict[str, str] | None = None) -> list[UnmeasuredCell]:
        """The row of ``summary`` (its ``listing_cells``, where they were made already)."""
        cells = cells if cells is not None else listing_cells(summary)
        state = cells["state"]
        host = cells[HOST_COLUMN]
        mark = Text("●", style="bold magenta") if summary.ref in self.marked else " "
        state_text = Text(state, style=STATE_STYLES.get(state, ""))
        texts = [
            state_text if c == "state" else Text(host, style="dim") if c == HOST_COLUMN and not summary.host else cells[c]
            for c in self.columns
        ]
        return unmeasured_cells(mark, *texts)

    def _show_empty(self, words: str) -> None:
        self.details = None
        message = (
            f"No run matches {words!r}" if words.strip() and self.summaries else "No runs yet: 4 then s trains the experiment"
        )
        self.query_one("#run-summary", Static).update(Text(message, style="dim"))
        self.query_one("#checkpoints", OptionList).clear_options()
        self.query_one(ChartDeck).draw(
            {"loss": loss_chart(RunHistory(), live=False), "metric": metric_chart(RunHistory(), live=False)}
        )

    def _show_sort_note(self) -> None:
        sort = SORTS[self.sort_index]
        arrow = "↓" if sort.newest_first != self.reverse else "↑"
        marked = f" · {count(len(self.marked))} marked" if self.marked else ""
        self.query_one("#sort-note", Static).update(
            f"{counted_of(len(self.shown), len(self.summaries), 'run')} · sort: {sort.label} {arrow}{marked}"
        )

    def _select_shown_run(self) -> None:
        """Once for each run the Train screen shows: select it here too."""
        run_id = self.app.runs.shown_id
        if not run_id or run_id == self._selected_shown or run_id not in {s.ref for s in self.shown}:
            return
        self._selected_shown = run_id
        table = self.query_one("#runs", DataTable)
        table.move_cursor(row=table.get_row_index(run_id), animate=False)

    @property
    def highlighted_id(self) -> str | None:
        """The highlighted run's ref (``gpu1:RUN`` for a run of another host)."""
        table = self.query_one("#runs", DataTable)
        if not self.shown or not 0 <= table.cursor_row < len(self.shown):
            return None
        return self.shown[table.cursor_row].ref

    @property
    def highlighted(self) -> RunSummary | None:
        run_id = self.highlighted_id
        return next((s for s in self.shown if s.ref == run_id), None)

    # ------------------------------------------------------------------ the selected run

    @on(DataTable.RowHighlighted, "#runs")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        asked = self._details_pending[1].ref if self._details_pending is not None else None
        if event.row_key.value and event.row_key.value != asked:  # not read twice when the table is filled
            self._load_details(event.row_key.value)

    def _load_details(self, run_id: str) -> None:
        summary = next((s for s in self.summaries if s.ref == run_id), None)
        if summary is not None:
            # A run the app follows (every run in progress) has its history at hand: re-reading a
            # long metrics.jsonl every poll would hold the interpreter away from the UI thread.
            followed = self.app.runs.followed.get(run_id)
            if summary.host and followed is None:
                self.app.fetch_history(summary.host, summary.id)  # a host's run: its curves come with its metrics
            self._details_pending = (RunDir(Path(summary.path)), summary)
            self._read_details(RunDir(Path(summary.path)), summary, followed.history if followed else None)

    @work(thread=True, exclusive=True, group="run-details", exit_on_error=False)
    def _read_details(self, run: RunDir, summary: RunSummary, history: RunHistory | None) -> None:
        self.post_message(RunDetailsRead(read_details(run, summary, history), summary))

    def on_run_details_read(self, message: RunDetailsRead) -> None:
        self._show_details(message.details, message.summary)

    def worker_failed(self, group: str, error: BaseException) -> None:
        """A run's details that cannot be read (deleted meanwhile, say) are said in their place;
        a run that cannot resume (it trains, it has no checkpoint) is a warning, not a failure."""
        if group == "run-details" and self._details_pending is not None:
            run, summary = self._details_pending
            self._show_details(RunDetails(run, None, RunHistory(), error=describe_error(error)), summary)
        elif group == "run-resume" and isinstance(error, WorkbenchError):
            hint = "; enter shows it" if isinstance(error, RunBusyError) else ""
            self.notify(f"{error}{hint}", severity="warning", timeout=5)
        else:
            super().worker_failed(group, error)

    def _show_details(self, details: RunDetails, summary: RunSummary) -> None:
        if run_ref(details.run) != self.highlighted_id:
            return  # the highlight moved on meanwhile
        same_run = self.details is not None and self.details.run.path == details.run.path
        self.details = details
        self.query_one("#run-details").border_title = summary.ref
        self.query_one("#run-summary", Static).update(summary_text(summary, details))
        self._show_checkpoints(details, keep=same_run, tested=bool(summary.test))
        history = details.history
        self.query_one(ChartDeck).draw({"loss": loss_chart(history, live=False), "metric": metric_chart(history, live=False)})

    def _show_checkpoints(self, details: RunDetails, keep: bool, tested: bool) -> None:
        """The run's checkpoints; the one its test used (or would use) is highlighted first."""
        options = self.query_one("#checkpoints", OptionList)
        previous = options.highlighted_option.id if keep and options.highlighted_option else None
        options.clear_options()
        chosen = str(details.chosen) if details.chosen else None
        for path, label in details.checkpoints:
            mark = " · tested" if tested and str(path) == chosen else ""
            options.add_option(Option(Text.assemble((f"{path.name:<13}", "bold"), label, (mark, "green")), id=str(path)))
        ids = [str(path) for path, _ in details.checkpoints]
        target = previous if previous in ids else chosen if chosen in ids else (ids[0] if ids else None)
        if target is not None:
            options.highlighted = ids.index(target)

    # ------------------------------------------------------------------ actions

    def _selected_run(self, here_only: str = "") -> tuple[RunSummary, RunDir] | None:
        """The highlighted run and its folder; ``here_only``: what cannot be done yet to a run of
        another host (its checkpoints stay there), said in one line instead."""
        summary = self.highlighted
        if summary is None:
            self.notify("No run is selected", severity="warning", timeout=3)
            return None
        if here_only and summary.host:
            self.notify(
                f"{here_only} is not on remote runs yet: pull it first (workbench pull {summary.ref})",
                severity="warning",
                timeout=8,
            )
            return None
        return summary, RunDir(Path(summary.path))

    def action_evaluate(self) -> None:
        from workbench.tui.runs.evaluation import EvaluationScreen

        selected = self._selected_run()
        if selected is None:
            return
        if selected[0].host:
            self.notify(f"Evaluating {selected[0].ref} on {selected[0].host}…", timeout=3)
            self._evaluate_there(selected[0])
            return
        options = self.query_one("#checkpoints", OptionList)
        option = options.highlighted_option
        details = self.details
        if option is None and details is not None and details.run.id == selected[0].id and details.error:
            self.notify(f"{selected[0].id} cannot be evaluated: {details.error}", severity="error", timeout=8)
            return
        if option is None or details is None or details.run.id != selected[0].id:
            self.notify("This run has no checkpoint to evaluate yet", severity="warning", timeout=4)
            return
        self.app.push_screen(EvaluationScreen(selected[1], Path(option.id or "")))

    @work(thread=True, group="run-eval-there", exit_on_error=False)
    def _evaluate_there(self, summary: RunSummary) -> None:
        """A host's run is evaluated there (its checkpoints stay there), through its session; its
        figures in a line. The whole view (classes, worst samples) needs the run here: pull it."""
        report = self.app.host_session(summary.host).evaluate(summary.id)
        line = evaluated_there(summary.ref, summary.host, report)
        self.notify(f"{line} · the whole view: workbench pull {summary.ref}", title="Evaluated on its host", timeout=20)

    @on(DataTable.RowSelected, "#runs")
    def _row_selected(self) -> None:
        """Enter on the table (the table takes the key before the screen's binding)."""
        self.action_attach()

    def action_attach(self) -> None:
        selected = self._selected_run()
        if selected is None:
            return
        self.app.show_run(selected[1])
        self.app.switch_mode("train")

    def action_resume(self) -> None:
        selected = self._selected_run()
        if selected is not None and selected[0].host:
            self._resumable(*selected)  # its lock and checkpoints are there: the host checks them
        elif selected is not None:
            self._check_resumable(*selected)

    @work(thread=True, group="run-resume", exit_on_error=False)
    def _check_resumable(self, summary: RunSummary, run: RunDir) -> None:
        """Whether the run can continue (a look at its lock and checkpoint), off the UI thread;
        a refusal is said by :meth:`worker_failed`."""
        check_resumable(run)
        self.app.call_from_thread(self._resumable, summary, run)

    def _resumable(self, summary: RunSummary, run: RunDir) -> None:
        """The run can continue: ask for a new total when it trained every epoch, or resume it."""
        from workbench.tui.runs.dialogs import EpochsScreen

        if needs_new_total(summary.epochs_done, summary.epochs, summary.state):
            question = f"{summary.id} has done all {summary.epochs} epochs. Train it up to how many epochs in total?"
            self.app.push_screen(
                EpochsScreen(question, suggested_total(summary.epochs), summary.epochs + 1),
                lambda epochs: self._resume(run, epochs) if epochs else None,
            )
            return
        self._resume(run, None)

    def _resume(self, run: RunDir, epochs: int | None) -> None:
        from workbench.scheduling.plan import plan_resume

        host = mirror_host(run.path)
        if host:
            self.notify(f"Resuming {run_ref(run)} on {host}…", timeout=3)
            self._resume_there(host, run, epochs)
            return
        self.app.start_run(lambda: plan_resume(run, epochs=epochs, gpus=self.app.cuda_count), f"Resuming {run.id}")
        self.app.switch_mode("train")

    @work(thread=True, group="run-resume", exit_on_error=False)
    def _resume_there(self, host: str, run: RunDir, epochs: int | None) -> None:
        """Resume a host's run there, detached, through its session; then show it (a refusal, one
        line from the host, is said by :meth:`worker_failed`)."""
        self.app.host_session(host).resume(run.id, epochs)
        self.app.call_from_thread(self._show_resumed, run)

    def _show_resumed(self, run: RunDir) -> None:
        self.app.show_run(run)
        self.app.switch_mode("train")

    def action_load(self) -> None:
        selected = self._selected_run()
        if selected is not None:
            self._load(*selected)

    @work(thread=True, group="run-load", exit_on_error=False)
    def _load(self, summary: RunSummary, run: RunDir) -> None:
        """Read the run's config.toml off the UI thread, then open it in the setup screens."""
        config = run.read_config()
        self.app.call_from_thread(self.app.open_experiment, config, f"run {summary.id}")

    def action_delete(self) -> None:
        selected = self._selected_run()
        if selected is None:
            return
        summary, run = selected
        if summary.host:  # a pulled copy would be deleted, not the run: it is the host's
            self.notify(
                f"{summary.ref} is a run of {summary.host}: delete it there (workbench delete {summary.id}, on {summary.host})",
                severity="warning",
                timeout=8,
            )
            return
        if summary.is_live:
            self.notify(
                f"{summary.id} is {summary.state}: stop it first (enter shows it, x stops it)", severity="warning", timeout=5
            )
            return
        self._ask_delete(summary, run)

    @work(thread=True, group="run-delete", exit_on_error=False)
    def _ask_delete(self, summary: RunSummary, run: RunDir) -> None:
        """Count what the question names (a look at the run's folder), off the UI thread."""
        self.post_message(DeleteAsked(summary.id, run, len(listed_checkpoints(run, summary))))

    def on_delete_asked(self, message: DeleteAsked) -> None:
        from workbench.tui.screens.dialogs import ConfirmScreen

        question = (
            f"Delete run {message.run_id} and its {counted(message.checkpoints, 'checkpoint file')}? This cannot be undone."
        )
        self.app.push_screen(
            ConfirmScreen(question, yes="Delete", no="Keep"), lambda yes: self._delete(message.run) if yes else None
        )

    @work(thread=True, group="run-delete", exit_on_error=False)
    def _delete(self, run: RunDir) -> None:
        """Remove the run's folder (checkpoints of a large model take a while), off the UI thread."""
        delete_run(run)
        self.post_message(RunDeleted(run.id))

    def on_run_deleted(self, message: RunDeleted) -> None:
        if message.run_id in self.marked:
            self.marked.remove(message.run_id)
        self.details = None
        self.notify(f"Deleted {message.run_id}", timeout=3)
        self.app.runs.rescan()

    def action_inside(self) -> None:
        from workbench.tui.runs.inside import InsideScreen

        selected = self._selected_run(here_only="Looking inside")
        if selected is not None:
            self.app.push_screen(InsideScreen(selected[1]))

    def action_export(self) -> None:
        selected = self._selected_run()
        if selected is not None:
            self._export(selected[1])

    @work(thread=True, group="metrics-export", exit_on_error=False)
    def _export(self, run: RunDir) -> None:
        """Read the run's whole metrics.jsonl (long for a long run) and write the CSV, off the UI thread."""
        path = export_to_run_folder(run)
        self.notify(str(path), title="Metrics written", timeout=8)  # thread-safe

    def action_mark(self) -> None:
        summary = self.highlighted
        if summary is None:
            return
        if summary.ref in self.marked:
            self.marked.remove(summary.ref)
        else:
            self.marked.append(summary.ref)
        table = self.query_one("#runs", DataTable)
        table.update_cell(summary.ref, table.ordered_columns[0].key, self._cells(summary)[0])
        self._show_sort_note()
        if len(self.marked) == 1:
            self.set_hint("Marked. Highlight another run and press v to compare, or mark a second one")

    def action_mark_all(self) -> None:
        listed = [s.ref for s in self.shown]
        self.marked = (
            []
            if all(run_id in self.marked for run_id in listed)
            else [*self.marked, *(i for i in listed if i not in self.marked)]
        )
        table = self.query_one("#runs", DataTable)
        for summary in self.shown:
            table.update_cell(summary.ref, table.ordered_columns[0].key, self._cells(summary)[0])
        self._show_sort_note()

    def action_compare(self) -> None:
        from workbench.tui.runs.compare import CompareScreen

        by_id = {s.ref: s for s in self.summaries}
        chosen = [run_id for run_id in self.marked if run_id in by_id]
        highlighted = self.highlighted_id
        if len(chosen) == 1 and highlighted and highlighted != chosen[0]:
            chosen.append(highlighted)
        if len(chosen) < 2:
            self.notify("Mark a run with m, then highlight another and press v", severity="warning", timeout=5)
            return
        self.app.push_screen(CompareScreen([by_id[run_id] for run_id in chosen]))

    def action_sweep(self) -> None:
        summary = self.highlighted
        if summary is None or not summary.sweep:
            self.notify("This run is not a point of a sweep (/ and a sweep's id lists its runs)", severity="warning", timeout=5)
            return
        self._read_sweep(summary.sweep)

    @work(thread=True, exclusive=True, group="sweep-table", exit_on_error=False)
    def _read_sweep(self, sweep_id: str) -> None:
        from workbench.scheduling.sweep import find_sweep
        from workbench.scheduling.sweep_table import sweep_table

        self.post_message(SweepTableRead(sweep_table(find_sweep(sweep_id))))

    def on_sweep_table_read(self, message: SweepTableRead) -> None:
        from workbench.tui.runs.sweep_view import SweepScreen

        if not message.table.comparison.runs:
            self.notify("No point of this sweep has started yet (workbench queue lists them)", severity="warning", timeout=5)
            return
        self.app.push_screen(SweepScreen(message.table))

    def show_sweep(self, sweep_id: str) -> None:
        """List only the runs of ``sweep_id`` (the filter says so and can be cleared)."""
        self.query_one("#filter", Input).value = sweep_id

    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self.reverse = False
        self._fill_table()

    def action_reverse(self) -> None:
        self.reverse = not self.reverse
        self._fill_table()

    def action_filter(self) -> None:
        """Type a filter. The field is out of the tab order otherwise: tab moves between the
        table and the checkpoints, and only ``/`` starts typing."""
        field = self.query_one("#filter", Input)
        field.can_focus = True
        self.set_focus(field)  # at once: the next key typed goes to the field, not to the table
        self.set_hint("Typing a filter (name, dataset or state) · enter or esc goes back to the runs")

    @on(Input.Blurred, "#filter")
    def _filter_left(self) -> None:
        self.query_one("#filter", Input).can_focus = False
        self.set_hint(self.HINT)

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._fill_table()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.focus_main_widget()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if (
            action in ("attach", "evaluate", "resume", "load", "delete", "export", "mark", "mark_all", "compare", "sweep")
            and not self.shown
        ):
            return None
        return super().check_action(action, parameters)


#: The colour of each state of a host's connection.
CONNECTION_STYLES = {CONNECTED: "green", CONNECTING: "yellow", RECONNECTING: "yellow", UNREACHABLE: "bold red"}


def hosts_text(states: Iterable[HostState]) -> Text:
    """:func:`workbench.hosts.overview.hosts_line`, each host's state in its colour."""
    states = list(states)
    line = hosts_line(states)
    text = Text(line)
    for state in states:
        words = state.words
        start = line.find(words)
        if start >= 0:
            text.stylize(CONNECTION_STYLES.get(state.connection.state, ""), start + len(state.name) + 1, start + len(words))
    return text


def summary_text(summary: RunSummary, details: RunDetails) -> Text:
    """The run in a few lines: where it stands, its data and model, how it learns, its results."""
    text = Text()
    state = state_label(summary)
    text.append(state, style=STATE_STYLES.get(state, "bold"))
    text.append(f" · {summary.epochs_done}/{summary.epochs} epochs · {duration(summary.train_seconds)}")
    if summary.device:
        text.append(f" on {summary.device}")
    config = details.config
    if config is not None:
        params = f" · {count(summary.num_params)} params" if summary.num_params is not None else ""
        text.append(f"\n{summary.data} · {summary.model}{params}")
        text.append(
            f"\n{config.optimizer.name} lr {config.optimizer.lr:g} · {config.schedule.name} · batch {config.data.batch_size}"
        )
    text.append(f"\nbest {best_text(summary)}\ntest {test_text(summary)}")
    if summary.sweep:
        text.append(f"\nsweep {summary.sweep}", style="dim")  # S shows its table
    message = details.error or summary.message
    if message:
        text.append(f"\n{message}", style="red")
    return text
