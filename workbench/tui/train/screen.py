"""The Train screen: start a run of the experiment being edited, and watch any run live.

A run trains in a process of its own; this screen draws the run the app shows
(``app.runs.shown``): one it started with ``s``, one resumed or attached from the Runs screen,
or one found training when the app opened (another terminal's ``workbench train``, a run left
before an SSH drop). What is shown: the epoch and whole-run progress with the engine's ETA, the
loss, metric and LR charts, a stats panel, a table of finished epochs and the run's log in plain
words. ``p`` pauses or continues it and ``x`` stops it (a checkpoint first), whoever started it;
``n`` shows the next run in progress; ``Q`` puts the experiment in the queue instead of starting it. The screen redraws when the app says the run moved on.
"""

from __future__ import annotations

import time

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize, ScreenResume
from textual.timer import Timer
from textual.widgets import DataTable, RichLog, Static

from workbench.errors import WorkbenchError, describe_error
from workbench.formatting import count, duration
from workbench.model.memory import byte_size
from workbench.runs import events as ev
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory
from workbench.runs.listing import STATE_STYLES
from workbench.runs.mirrored import run_ref
from workbench.runs.words import headline as headline_segments
from workbench.runs.words import state_word
from workbench.scheduling.plan import DETACHED, QUEUED, How
from workbench.schema.config import RunConfig
from workbench.tui.live_runs import FollowedRun
from workbench.tui.messages import ControlRefused
from workbench.tui.screens.charts_screen import ChartsScreen
from workbench.tui.widgets.bars import problems_summary, show_content
from workbench.tui.widgets.charts import CHART_BINDINGS, ChartDeck, ChartView, loss_chart, lr_chart, metric_chart
from workbench.tui.widgets.plain import plain_cells
from workbench.tui.widgets.progress import StillProgressBar
from workbench.usercode.probing import StillRunning

#: Terminal sizes from which all three charts show side by side, and the tables grow.
WIDE_COLUMNS = 150
TALL_ROWS = 40

#: Seconds between two redraws of what re-lays out the screen or re-plots (table, log, charts).
LAYOUT_INTERVAL_S = 2.0

#: The most log lines written at once (see TrainScreen._write_log).
LOG_CATCH_UP = 100

#: Log lines the box leaves out: each epoch has a row in the table and the latest save a row in
#: the stats, where a line per epoch in a box of a few narrow rows would push out the lines that
#: matter (a warning, a pause) within a few epochs. `workbench logs` prints them all.
ROUTINE_LEVELS = ("epoch", "saved")


class TrainScreen(ChartsScreen):
    MODE = "train"
    HINT = "g next chart · l log/linear · [ ] smoothing · n next run in progress · runs go on when the app closes"
    SHOWS_ACTIVITY = False  # the headline and the progress rows are the run's activity

    BINDINGS = [
        Binding("s", "start", "Start", tooltip="Start training the experiment in a process of its own"),
        Binding("Q", "queue", "Queue", tooltip="Put the experiment in the queue: it trains when a slot is free"),
        Binding("p", "pause", "Pause/continue", tooltip="Pause or continue the run shown"),
        Binding("x", "stop", "Stop", tooltip="Stop the run shown (a checkpoint is saved first)"),
        Binding("n", "next_run", "Next run", tooltip="Show the next run in progress"),
        Binding("d", "where", "Device", tooltip="Choose the device (GPUs with their memory) and the number of workers"),
        Binding("g", "next_chart", "Next chart", tooltip="Show the next chart: loss, metric, learning rate"),
        *CHART_BINDINGS,
    ]

    DEFAULT_CSS = """
    TrainScreen #headline { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    TrainScreen .progress-row { height: 1; padding: 0 1; }
    TrainScreen .progress-label { width: 15; text-wrap: nowrap; }
    TrainScreen .progress-row ProgressBar { width: 1fr; }
    TrainScreen .progress-row Bar { width: 1fr; }
    TrainScreen .progress-note { width: 28; padding-left: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    TrainScreen #train-main { height: 1fr; }
    TrainScreen #train-left { width: 1fr; }
    TrainScreen #epochs { height: 6; scrollbar-size: 1 1; }
    TrainScreen #train-right { width: 32; border-left: vkey $panel-lighten-2; }
    TrainScreen #stats { height: 11; padding: 0 0 0 1; border-top: solid $panel-lighten-2; border-title-align: left; border-title-color: $text; }
    TrainScreen #log { height: 1fr; padding-left: 1; border-top: solid $panel-lighten-2; border-title-align: left; border-title-color: $text; scrollbar-size-vertical: 1; }
    TrainScreen.-tall #epochs { height: 14; }
    TrainScreen.-wide #train-right { width: 44; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown_id = ""
        #: (history version, run state, request) last drawn: a redraw with nothing new is skipped.
        self._drawn: tuple[int, str, str] = (-1, "", "")
        self._last_layout = 0.0
        self._layout_due: Timer | None = None
        self._keys_shown: tuple[bool, bool] = (False, False)
        self._logged = 0
        #: s or Q pressed while the user's code was being run once: asked again once it answered.
        self._start_when_checked: How | None = None
        self._table_rows = 0
        self._table_metric = ""
        self._stats_shown: list[tuple[str, str | Text]] = []

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            yield Static(id="headline", markup=False)
            with Horizontal(classes="progress-row"):
                yield Static("epoch", id="epoch-label", classes="progress-label", markup=False)
                yield StillProgressBar(100, id="epoch-bar")
                yield Static(id="epoch-note", classes="progress-note", markup=False)
            with Horizontal(classes="progress-row"):
                yield Static("whole run", classes="progress-label", markup=False)
                yield StillProgressBar(100, id="run-bar")
                yield Static(id="run-note", classes="progress-note", markup=False)
            with Horizontal(id="train-main"):
                with Vertical(id="train-left"):
                    yield ChartDeck(("loss", "metric", "lr"), view=ChartView(smoothing=0.6), id="train-charts")
                    yield DataTable(id="epochs", show_cursor=False, zebra_stripes=False)
                with Vertical(id="train-right"):
                    yield Static(id="stats", markup=False)
                    yield RichLog(id="log", wrap=True, markup=False, max_lines=2000, min_width=20)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#stats", Static).border_title = "Stats"
        self.query_one("#log", RichLog).border_title = "Log"
        self.watch(self.app, "runs_version", self._runs_moved, init=False)
        self._redraw(force=True)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE_COLUMNS, "-wide")
        self.set_class(event.size.height >= TALL_ROWS, "-tall")
        self.query_one(ChartDeck).set_class(event.size.width >= WIDE_COLUMNS, "-all")
        self.refresh_bindings()  # g has nothing to switch while every chart is shown

    def on_screen_resume(self, _event: ScreenResume) -> None:
        """Coming back: paint the screen first, then catch up on the table, log and chart."""
        self._redraw()
        self.call_after_refresh(self._draw_slow_parts)

    def draft_changed(self) -> None:
        self._show_headline()
        waiting = self._start_when_checked
        if waiting is not None and not any(isinstance(problem, StillRunning) for problem in self.draft.problems):
            self._start_when_checked = None
            self._ask_name(waiting)

    @property
    def shown(self) -> FollowedRun | None:
        return self.app.runs.shown

    @property
    def history(self) -> RunHistory:
        shown = self.shown
        return shown.history if shown is not None else RunHistory()

    # ------------------------------------------------------------------ actions

    def action_start(self) -> None:
        """Ask for the run's name (proposed by the draft), then start it."""
        self._ask_name(DETACHED)

    def action_queue(self) -> None:
        """Ask for the run's name, then put it in the queue (as ``workbench train --queue``)."""
        self._ask_name(QUEUED)

    def _ask_name(self, how: How) -> None:
        from workbench.tui.train.name_dialog import RunNameScreen

        problems = self.draft.problems
        if problems and all(isinstance(problem, StillRunning) for problem in problems):
            self._start_when_checked = how
            label = next(problem.label for problem in problems if isinstance(problem, StillRunning))
            self.notify(f"{label} is being run once to check it: the run starts as soon as it has answered", timeout=6)
            return
        if problems:
            self._show_headline()
            self.notify(f"Cannot train yet: {problems[0]}", title="The experiment has problems", severity="error", timeout=6)
            return
        host = self.app.train_host
        if host and how == QUEUED:
            self.notify(f"The queue is this machine's: s starts the run on {host} now (d chooses this machine)", timeout=6)
            return
        name, description = self.draft.run_identity()
        verb = "queue" if how == QUEUED else "start"
        self.app.push_screen(RunNameScreen(name, description, verb), lambda chosen: self._named(chosen, description, how))

    def _named(self, name: str | None, description: str, how: How) -> None:
        if name is None:
            return
        live = [followed for followed in self.app.runs.live() if not followed.host]
        if live and how == DETACHED and not self.app.train_host:  # a queued run waits for a free slot: nothing to ask
            from workbench.tui.screens.dialogs import ConfirmScreen

            which = f"{len(live)} runs are" if len(live) > 1 else f"{live[0].id} is"
            question = f"{which} already training. Start {name} alongside (they share this machine)?"
            self.app.push_screen(
                ConfirmScreen(question, yes="Start", no="Cancel"),
                lambda yes: self._start(name, description, how) if yes else None,
            )
            return
        self._start(name, description, how)

    def _start(self, name: str, description: str, how: How) -> None:
        from workbench.scheduling.plan import plan_new_run

        config = self.draft.ready_to_train()
        config.name, config.description = name, description
        host = self.app.train_host
        if host:
            self.app.start_remote_run(host, config, self.app.train_host_device)
            return
        what = f"Queueing {name}" if how == QUEUED else f"Starting {name}"
        self.app.start_run(lambda: plan_new_run(config, how=how, gpus=self.app.cuda_count), what)

    def action_where(self) -> None:
        from workbench.tui.train.where_dialog import Where, WhereScreen

        train = self.draft.config.train

        def chosen(where: Where | None) -> None:
            if where is None:
                return

            def change(config: RunConfig) -> None:
                # Another host's device is checked there, not against this machine's: it goes with the start.
                config.train.device = train.device if where.host else where.device
                config.train.workers = where.workers

            self.app.train_host, self.app.train_host_device = where.host, where.device if where.host else ""
            self.draft.edit("device and workers", change)
            self._show_headline()

        device = self.app.train_host_device if self.app.train_host else train.device
        self.app.refresh_gpus()  # what trains on each host's GPUs now: the dialog's rows follow
        self.app.push_screen(
            WhereScreen(self.app.devices, device, train.workers, self.app.host_states, self.app.train_host), chosen
        )

    def action_pause(self) -> None:
        shown = self.shown
        if shown is None or not shown.live or shown.requested == "stop":
            return
        action = "continue" if shown.state == "paused" or shown.requested == "pause" else "pause"
        self._request(shown, action)

    def action_stop(self) -> None:
        shown = self.shown
        if shown is None or not shown.live or shown.requested == "stop":
            return
        self._request(shown, "stop")

    def _request(self, shown: FollowedRun, action: str) -> None:
        shown.requested = action
        self.notify(
            {
                "pause": "Pausing after this step…",
                "continue": "Continuing…",
                "stop": "Stopping after this step; a checkpoint is saved first…",
            }[action],
            timeout=3,
        )
        self._send(shown.run, action)
        self._redraw(force=True)
        self.refresh_bindings()

    @work(thread=True, group="control", exit_on_error=False)
    def _send(self, run: RunDir, action: str) -> None:
        """A signal to the run's process, or the far command through its host's session (a run of
        another host), off the UI thread: either may wait."""
        try:
            self.app.control_run(run, action)
        except WorkbenchError as error:  # expected: the run ended, or is not this user's, or its host is out of reach
            self.post_message(ControlRefused(run_ref(run), describe_error(error)))

    def on_control_refused(self, message: ControlRefused) -> None:
        followed = self.app.runs.followed.get(message.run_id)
        if followed is not None:
            followed.requested = ""
        self.notify(message.reason, severity="error", timeout=6)
        self._redraw(force=True)
        self.refresh_bindings()

    def action_next_run(self) -> None:
        live = self.app.runs.live()
        if not live:
            self.notify("No run is training now; the Runs screen (5) shows past runs", timeout=4)
            return
        ids = [f.id for f in live]
        current = self.app.runs.shown_id
        following = ids[(ids.index(current) + 1) % len(ids)] if current in ids else ids[0]
        if following == current:
            self.notify("This is the only run in progress", timeout=3)
            return
        self.app.show_run(live[ids.index(following)].run)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        shown = self.shown
        if action in ("pause", "stop"):
            return (shown is not None and shown.live and shown.requested != "stop") or None
        if action == "next_run":
            return bool(self.app.runs.live()) or None
        if action == "next_chart":
            decks = self.query(ChartDeck)
            return not (decks and decks.first().has_class("-all"))
        return super().check_action(action, parameters)

    # ------------------------------------------------------------------ drawing

    def _runs_moved(self, _version: int) -> None:
        """The app says the runs moved on (a few times a second at most): draw what changed."""
        keys = self._key_state()
        if keys != self._keys_shown:  # the footer is recomposed only when a key comes or goes
            self._keys_shown = keys
            self.refresh_bindings()
        if self.is_current:
            self._redraw()

    def _key_state(self) -> tuple[bool, bool]:
        """What decides which of p, x and n the footer offers."""
        return self.check_action("stop", ()) is True, self.check_action("next_run", ()) is True

    def _redraw(self, force: bool = False) -> None:
        """Draw what changed since the last time: a new run shown is drawn from scratch.

        The headline and the progress rows follow every change; the parts that change once an
        epoch (the stats, the epoch table, the log and the chart, which re-lay out or re-plot) follow
        every LAYOUT_INTERVAL_S, or at once when the run's state changes. Each repaint covers the
        rectangle around everything changed since the last, so the rows that move with every
        report are kept together at the top.
        """
        if self.app.runs.shown_id != self._shown_id:
            self._shown_id = self.app.runs.shown_id
            self._logged, self._table_rows, self._table_metric = 0, 0, ""
            self.query_one("#log", RichLog).clear()
            force = True
        history = self.history
        shown = self.shown
        drawn = (history.version, shown.state, shown.requested) if shown is not None else (history.version, "", "")
        if not force and self._drawn == drawn:
            return
        force = force or drawn[1:] != self._drawn[1:]  # a new state (paused, ended...) is drawn whole at once
        self._show_headline()
        self._show_progress()
        self._drawn = drawn
        wait = self._last_layout + LAYOUT_INTERVAL_S - time.monotonic()
        if force or wait <= 0:
            self._draw_slow_parts()
        elif self._layout_due is None:
            self._layout_due = self.set_timer(wait, self._draw_slow_parts)

    def _draw_slow_parts(self) -> None:
        self._layout_due = None
        self._last_layout = time.monotonic()
        history = self.history
        self._show_stats()
        self._write_log()
        self._show_epochs()
        self.query_one(ChartDeck).draw(
            {"loss": loss_chart(history, live=True), "metric": metric_chart(history, live=True), "lr": lr_chart(history)}
        )

    def _show_headline(self) -> None:
        headline = self.query_one("#headline", Static)
        shown = self.shown
        if shown is None:
            problems = self.draft.problems
            text = problems_summary(problems, self.draft.dataset_info)
            if not problems:
                train = self.draft.config.train
                workers = f" ×{train.workers} workers" if train.workers > 1 else ""
                name = self.draft.run_identity()[0]  # what s proposes to call the run
                where = f"{self.app.train_host} {self.app.train_host_device}" if self.app.train_host else train.device
                text.append(f": s trains {name} for {train.epochs} epochs on {where}{workers}", style="green")
            show_content(headline, text)
            return
        show_content(headline, Text.assemble(*headline_segments(shown.facts, len(self.app.runs.live()))))

    def _show_progress(self) -> None:
        history = self.history
        progress, epochs, last, end = history.progress, history.total_epochs, history.last_epoch, history.finished
        if end is not None and end.state == "stopped" and end.step and end.steps_per_epoch:
            # Where the stop left it, as the headline says: the last report came steps before.
            epoch, step, steps = end.epoch, end.step, end.steps_per_epoch
            note = f"stopped at step {step}/{steps}"
        elif history.progress_is_current and progress is not None:
            epoch, step, steps = progress.epoch, progress.step, progress.steps_per_epoch
            speed = history.samples_per_s
            note = f"step {step}/{steps}" + (f" · {speed:,.0f}/s" if speed is not None else "")
        elif last is not None:  # between reports (short epochs end between two of them)
            epoch, step, steps = last.epoch, 1, 1
            note = f"done in {duration(last.duration_s)}"
        else:
            epoch, step, steps, note = 0, 0, 1, ""
        show_content(self.query_one("#epoch-label", Static), f"epoch {epoch}/{epochs}" if epochs else "epoch")
        self.query_one("#epoch-bar", StillProgressBar).update(total=max(1, steps), progress=step)
        self.query_one("#run-bar", StillProgressBar).update(
            total=max(1, epochs), progress=min(history.position, epochs) if epochs else 0
        )
        show_content(self.query_one("#epoch-note", Static), note)
        eta = history.eta_s
        note = ""
        if history.is_over:
            finished = history.finished is not None and history.state != "stopped"
            note = f"done in {duration(history.elapsed_s)}" if finished else f"{duration(history.elapsed_s)} trained"
        elif history.epochs or progress is not None:
            note = f"{'ETA ' + duration(eta) if eta is not None else 'ETA -'} · {duration(history.elapsed_s)} elapsed"
        show_content(self.query_one("#run-note", Static), note)

    def _show_stats(self) -> None:
        rows = self._stats_rows()
        if rows == self._stats_shown:
            return  # unchanged: the box is not repainted
        self._stats_shown = rows
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True, min_width=8)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        for label, value in rows:
            grid.add_row(*plain_cells(label, value))
        self.query_one("#stats", Static).update(grid, layout=False)

    def _stats_rows(self) -> list[tuple[str, str | Text]]:
        """The Stats box, label and value per row: what changes at most once an epoch (the speed,
        elapsed time and ETA are on the progress rows), so that between epochs only those rows
        are repainted."""
        history = self.history
        started, progress, last = history.started, history.progress, history.last_epoch
        rows: list[tuple[str, str | Text]] = [("state", _state_text(self.shown))]
        if started is not None:
            rows.append(("device", f"{started.where} · {started.device_name}"))
            if history.progress is not None and history.progress.device_memory_gib:
                rows.append(("GPU mem", f"{byte_size(history.progress.device_memory_gib * 2**30)} peak"))
            rows.append(("params", count(started.num_params)))
        lr = progress.lr if history.progress_is_current and progress is not None else (last.lr if last else None)
        if lr is not None:
            rows.append(("lr", f"{lr:.3g}"))
        if last is not None:
            best = f"{last.best_value:.4g} @{last.best_epoch}" if last.best_value is not None else "-"
            rows.append(("best", f"{last.monitor.replace('_', ' ')} {best}"))
            metric = history.metric
            if last.val:
                rows.append(("last val", f"loss {last.val['loss']:.4f} {metric} {last.val.get(metric, float('nan')):.3f}"))
        if history.checkpoints:
            saved = history.checkpoints[-1]
            rows.append(("saved", f"epoch {saved.epoch}" + (", best" if "best" in saved.kinds else "")))
        return rows

    def _show_epochs(self) -> None:
        table = self.query_one("#epochs", DataTable)
        history = self.history
        if not table.columns or len(history.epochs) < self._table_rows or self._table_metric != history.metric:
            metric = history.metric
            table.clear(columns=True)
            table.add_columns("epoch", "loss", metric, "val loss", f"val {metric}", "time", "lr")
            self._table_rows, self._table_metric = 0, history.metric
        new = history.epochs[self._table_rows :]
        for record in new:
            table.add_row(*plain_cells(*_epoch_cells(record, history.metric)), key=str(record.epoch))
        self._table_rows = len(history.epochs)
        if new:
            table.scroll_end(animate=False)

    def _write_log(self) -> None:
        """The run's new log lines but the routine ones (ROUTINE_LEVELS). Catching up on a long
        history (attaching, coming back to this screen) writes only the newest LOG_CATCH_UP lines:
        each line written costs the UI thread, and `workbench logs` prints them all."""
        log = self.query_one("#log", RichLog)
        lines = self.history.log
        new = [line for line in lines[self._logged :] if line.level not in ROUTINE_LEVELS]
        for line in new[-LOG_CATCH_UP:]:
            log.write(Text.assemble((line.stamp, "dim"), (line.text, line.style)))
        self._logged = len(lines)


def _epoch_cells(record: ev.EpochEnded, metric: str) -> list[Text | str]:
    val = record.val
    epoch = Text(f"{record.epoch}{' *' if record.is_best else ''}", style="bold green" if record.is_best else "")
    return [
        epoch,
        f"{record.train['loss']:.4f}",
        f"{record.train.get(metric, float('nan')):.3f}",
        f"{val['loss']:.4f}" if val else "-",
        f"{val.get(metric, float('nan')):.3f}" if val else "-",
        duration(record.duration_s),
        f"{record.lr:.3g}",
    ]


def _state_text(shown: FollowedRun | None) -> Text:
    if shown is None:
        return Text("idle")
    state = state_word(shown.facts)
    return Text(state.replace("_", " "), style=STATE_STYLES.get(state, ""))
