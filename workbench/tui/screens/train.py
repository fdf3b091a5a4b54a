"""The Train screen: start, watch, pause and stop a run of the experiment being edited.

``s`` starts the draft (refused, with the reason, while it has problems); the trainer runs off
the UI thread (:mod:`workbench.tui.training`) and its events arrive here as messages, even while
another screen is shown. A message only updates the run's :class:`RunHistory`; a timer redraws
what changed twice a second, so a fast run never costs one redraw per step. What is shown:
the epoch and whole-run progress with the engine's ETA, the loss, metric and LR charts, a stats
panel, a table of finished epochs and a log of checkpoints, warnings and errors in plain words.
The app's activity line (in every screen's status bar) follows the run.

The Runs screen resumes a run here (:meth:`TrainScreen.resume_run`), so the app trains one run
at most, and one place draws it.
"""

from __future__ import annotations

import sys
import time

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize, ScreenResume
from textual.timer import Timer
from textual.widgets import DataTable, ProgressBar, RichLog, Static
from textual.worker import Worker

from workbench.formatting import metrics_text
from workbench.engine import events as ev
from workbench.formatting import count, duration
from workbench.store import RunDir
from workbench.tui.run_history import LogLine, RunHistory
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.training import TrainerEvent, TrainerFactory, TrainingSession, new_run, resumed_run
from workbench.tui.widgets.bars import problems_summary
from workbench.tui.widgets.charts import ChartDeck, lr_chart, loss_chart, metric_chart

#: Seconds between two redraws while a run reports: twice a second, never once per step. Each
#: redraw costs the UI thread some milliseconds that a CPU-bound run on a small machine misses.
REDRAW_INTERVAL_S = 0.5
#: Every how many redraws the parts that re-lay out the screen are redrawn (once a second).
LAYOUT_EVERY = 2
#: Terminal sizes from which all three charts show side by side, and the tables grow.
WIDE_COLUMNS = 150
TALL_ROWS = 40

LOG_STYLES = {"info": "", "good": "bold green", "warning": "yellow", "error": "bold red"}


class TrainScreen(WorkbenchScreen):
    MODE = "train"
    HINT = "g shows the next chart · a run goes on while other screens are shown"

    BINDINGS = [
        Binding("s", "start", "Start", tooltip="Start training the experiment"),
        Binding("p", "pause", "Pause/resume", tooltip="Pause or resume the run"),
        Binding("x", "stop", "Stop", tooltip="Stop the run (a checkpoint is saved first)"),
        Binding("g", "next_chart", "Next chart", tooltip="Show the next chart: loss, metric, learning rate"),
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
    TrainScreen #stats { height: 11; padding: 0 0 0 1; border-top: solid $panel-lighten-2; border-title-align: left; }
    TrainScreen #log { height: 1fr; padding-left: 1; border-top: solid $panel-lighten-2; border-title-align: left; scrollbar-size-vertical: 1; }
    TrainScreen.-tall #epochs { height: 14; }
    TrainScreen.-wide #train-right { width: 44; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.session: TrainingSession | None = None
        self.history = RunHistory()
        self._drawn_version = -1
        self._log_lines: list[tuple[str, LogLine]] = []
        self._logged = 0
        self._table_rows = 0
        self._table_metric = ""
        self._timer: Timer | None = None
        self._ticks = 0

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            yield Static(id="headline")
            with Horizontal(classes="progress-row"):
                yield Static("epoch", id="epoch-label", classes="progress-label")
                yield ProgressBar(100, id="epoch-bar", show_eta=False)
                yield Static(id="epoch-note", classes="progress-note")
            with Horizontal(classes="progress-row"):
                yield Static("whole run", classes="progress-label")
                yield ProgressBar(100, id="run-bar", show_eta=False)
                yield Static(id="run-note", classes="progress-note")
            with Horizontal(id="train-main"):
                with Vertical(id="train-left"):
                    yield ChartDeck(("loss", "metric", "lr"), id="train-charts")
                    yield DataTable(id="epochs", show_cursor=False, zebra_stripes=False)
                with Vertical(id="train-right"):
                    yield Static(id="stats")
                    yield RichLog(id="log", wrap=True, markup=False, max_lines=2000, min_width=20)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#stats", Static).border_title = "Stats"
        self.query_one("#log", RichLog).border_title = "Log"
        self._redraw(force=True)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE_COLUMNS, "-wide")
        self.set_class(event.size.height >= TALL_ROWS, "-tall")
        self.query_one(ChartDeck).set_class(event.size.width >= WIDE_COLUMNS, "-all")
        self.refresh_bindings()  # g has nothing to switch while every chart is shown

    def on_screen_resume(self, _event: ScreenResume) -> None:
        self._redraw(force=True)

    def draft_changed(self) -> None:
        self._show_headline()

    @property
    def is_training(self) -> bool:
        return self.session is not None and self.session.is_running()

    # ------------------------------------------------------------------ actions

    def action_start(self) -> None:
        if self.app.is_training:
            self.notify("A run is already training: x stops it first", severity="warning", timeout=4)
            return
        problems = self.draft.problems
        if problems:
            self._show_headline()
            self.notify(f"Cannot train yet: {problems[0]}", title="The experiment has problems", severity="error", timeout=6)
            return
        config = self.draft.ready_to_train()
        self._begin(new_run(config), RunHistory(), f"Starting {config.name or 'the run'}: loading data and building the model…")

    def resume_run(self, run: RunDir, epochs: int | None = None) -> bool:
        """Continue ``run`` here (the Runs screen's ``r``); its past curves stay on the charts."""
        if self.app.is_training:
            self.notify("A run is already training: stop it first (x on the Train screen)", severity="warning", timeout=5)
            return False
        history = RunHistory.from_records(run.read_events())
        self._begin(resumed_run(run, epochs), history, f"Resuming {run.id}: loading data and the last checkpoint…")
        return True

    def _begin(self, factory: TrainerFactory, history: RunHistory, message: str) -> None:
        self.history = history
        self._drawn_version = -1
        self._log_lines, self._logged, self._table_rows, self._table_metric = [], 0, 0, ""  # redrawn from scratch
        self.query_one("#log", RichLog).clear()
        self._add_log(LogLine("info", message))
        self.session = TrainingSession(self, factory)
        self.app.training = self.session
        self.session.start(self)
        self._timer = self.set_interval(REDRAW_INTERVAL_S, self._redraw)
        self._redraw(force=True)
        self.refresh_bindings()

    def action_pause(self) -> None:
        if not self.is_training or self.session is None or self.session.stopping:
            return
        paused = self.session.toggle_pause()
        self.notify("Pausing after this step…" if paused else "Resuming…", timeout=2)
        self._redraw(force=True)

    def action_stop(self) -> None:
        if not self.is_training or self.session is None or self.session.stopping:
            return
        self.session.request_stop()
        self.notify("Stopping after this step; a checkpoint is saved first…", timeout=3)
        self._redraw(force=True)

    def action_next_chart(self) -> None:
        name = self.query_one(ChartDeck).cycle()
        self.set_hint(f"Showing the {'learning rate' if name == 'lr' else name} chart; g shows the next one")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        running = self.is_training and self.session is not None and not self.session.stopping
        if action == "start":
            return not self.app.is_training or None
        if action in ("pause", "stop"):
            return running or None  # shown dimmed while nothing can be paused or stopped
        if action == "next_chart":
            decks = self.query(ChartDeck)
            return not (decks and decks.first().has_class("-all"))
        return super().check_action(action, parameters)

    def on_unmount(self) -> None:
        """The app is closing: whatever happens, the trainer stops at its next step with a checkpoint."""
        if self.session is not None:
            self.session.request_stop()

    # ------------------------------------------------------------------ the trainer's messages

    def on_trainer_event(self, message: TrainerEvent) -> None:
        event = message.event
        line = self.history.add(event)
        if line is not None:
            self._add_log(line)
        if isinstance(event, ev.RunStarted) and self.session is not None:
            self.session.run_id = event.run_id
        if isinstance(event, (ev.RunStarted, ev.StateChanged, ev.RunFinished, ev.RunFailed)):
            self._redraw(force=True)
            self.refresh_bindings()
        if isinstance(event, ev.RunFinished):
            self._announce(event)
        elif isinstance(event, ev.RunFailed):
            self.notify(event.message, title="Training failed", severity="error", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The trainer's thread has ended: say why if it could not train, and draw the end."""
        session = self.session
        if session is None or event.worker is not session.worker or session.is_running():
            return
        error = session.error
        if error and self.history.failed is None:
            self._add_log(LogLine("error", f"Training could not run: {error}"))
            self.notify(error, title="Training could not run", severity="error", timeout=10)
            if not self.history.is_over:
                self.history.state = "failed"
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._redraw(force=True)
        self.refresh_bindings()

    def _announce(self, event: ev.RunFinished) -> None:
        if event.state == "stopped":
            self.notify(f"Run stopped after {event.epochs_done} epoch(s); r on the Runs screen resumes it", timeout=6)
        else:
            self.notify(f"Test {metrics_text(event.test)}; 5 shows the run", title="Training finished", timeout=8)

    def _add_log(self, line: LogLine) -> None:
        self._log_lines.append((time.strftime("%H:%M:%S"), line))

    # ------------------------------------------------------------------ drawing

    def _redraw(self, force: bool = False) -> None:
        """Redraw from the history: called by the timer, and at once for state changes.

        Every tick redraws what costs no layout (progress, stats, the chart in view). What
        re-lays out the whole screen (new rows of the epoch table, new log lines, the status
        bar's activity line) waits for every other tick, and goes together: one layout a second.
        """
        self._ticks += 1
        if force or self._ticks % LAYOUT_EVERY == 0:
            self.app.activity = self._activity()
            self._write_log()
            self._show_epochs()
        if not force and self._drawn_version == self.history.version:
            return
        self._show_headline()
        self._show_progress()
        self._show_stats()
        if self.is_current or force:
            history = self.history
            self.query_one(ChartDeck).draw(
                {"loss": loss_chart(history, live=True), "metric": metric_chart(history, live=True), "lr": lr_chart(history)}
            )
            self._drawn_version = history.version

    def _activity(self) -> str:
        """The status bar's line on every screen: ``▶ epoch 3/12 loss 0.2310``."""
        if not self.is_training or self.session is None:
            return ""
        history = self.history
        if history.started is None:
            return "… starting"
        where = f"epoch {history.current_epoch}/{history.total_epochs}"
        loss = history.latest_loss
        loss = f" loss {loss:.4f}" if loss is not None else ""
        if self.session.stopping:
            return f"■ stopping, {where}"
        if self.session.control.paused:
            return f"‖ paused, {where}{loss}" if history.state == "paused" else f"‖ pausing, {where}"
        return f"▶ {where}{loss}"

    def _show_headline(self) -> None:
        headline = self.query_one("#headline", Static)
        history, session = self.history, self.session
        if session is None:
            problems = self.draft.problems
            text = problems_summary(problems)
            if not problems:
                train = self.draft.config.train
                text.append(f": s trains {self.draft.name} for {train.epochs} epochs on {train.device}", style="green")
            headline.update(text, layout=False)
            return
        name = history.started.name if history.started else self.draft.name
        run = history.run_id or "new run"
        if history.finished is not None and history.finished.test:
            text = Text.assemble(("✓ test ", "bold green"), (metrics_text(history.finished.test), "bold"), "  · 5 shows the run")
        elif history.state == "stopped":
            text = Text.assemble(("■ stopped ", "bold yellow"), f"{run}: r on the Runs screen resumes it; s starts a new run")
        elif history.state == "failed":
            reason = history.failed.message if history.failed else "see the log"
            text = Text.assemble(("✗ failed ", "bold red"), (reason, "red"))
        elif session.stopping:
            text = Text.assemble(("■ stopping ", "bold yellow"), f"{name}: saving a checkpoint…")
        elif session.control.paused:
            text = Text.assemble(("‖ paused ", "bold yellow"), f"{name} ({run}): p resumes, x stops")
        elif history.started is None:
            text = Text.assemble(("… ", "bold"), f"{name}: loading data and building the model")
        else:
            text = Text.assemble(("▶ training ", "bold green"), f"{name} ({run})")
        headline.update(text, layout=False)

    def _show_progress(self) -> None:
        history = self.history
        progress, epochs, last = history.progress, history.total_epochs, history.last_epoch
        if history.progress_is_current and progress is not None:
            epoch, step, steps = progress.epoch, progress.step, progress.steps_per_epoch
            note = f"step {step}/{steps}"
        elif last is not None:  # between reports (short epochs end between two of them)
            epoch, step, steps = last.epoch, 1, 1
            note = f"done in {duration(last.duration_s)}"
        else:
            epoch, step, steps, note = 0, 0, 1, ""
        self.query_one("#epoch-label", Static).update(f"epoch {epoch}/{epochs}" if epochs else "epoch", layout=False)
        self.query_one("#epoch-bar", ProgressBar).update(total=max(1, steps), progress=step)
        self.query_one("#run-bar", ProgressBar).update(total=max(1, epochs), progress=min(history.position, epochs) if epochs else 0)
        self.query_one("#epoch-note", Static).update(note, layout=False)
        eta = history.eta_s
        note = ""
        if history.is_over:
            note = f"done in {duration(history.elapsed_s)}" if history.finished else f"{duration(history.elapsed_s)} trained"
        elif history.epochs or progress is not None:
            note = f"{'ETA ' + duration(eta) if eta is not None else 'ETA -'} · {duration(history.elapsed_s)} elapsed"
        self.query_one("#run-note", Static).update(note, layout=False)

    def _show_stats(self) -> None:
        history = self.history
        started, progress, last = history.started, history.progress, history.last_epoch
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True, min_width=8)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        grid.add_row("state", _state_text(history.state, self.session))
        if started is not None:
            grid.add_row("device", f"{started.device} · {started.device_name}")
            memory = _gpu_memory(started.device)
            if memory:
                grid.add_row("GPU mem", memory)
            grid.add_row("params", count(started.num_params))
        speed, eta = history.samples_per_s, history.eta_s
        if speed is not None:
            grid.add_row("speed", f"{speed:,.0f} samples/s")
            grid.add_row("elapsed", duration(history.elapsed_s))
            grid.add_row("ETA", duration(eta) if eta is not None else "-")
        lr = progress.lr if history.progress_is_current and progress is not None else (last.lr if last else None)
        if lr is not None:
            grid.add_row("lr", f"{lr:.3g}")
        if last is not None:
            best = f"{last.best_value:.4g} @{last.best_epoch}" if last.best_value is not None else "-"
            grid.add_row("best", f"{last.monitor.replace('_', ' ')} {best}")
            metric = history.metric
            if last.val:
                grid.add_row("last val", f"loss {last.val['loss']:.4f} {metric} {last.val.get(metric, float('nan')):.3f}")
        self.query_one("#stats", Static).update(grid, layout=False)

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
            table.add_row(*_epoch_cells(record, history.metric), key=str(record.epoch))
        self._table_rows = len(history.epochs)
        if new:
            table.scroll_end(animate=False)

    def _write_log(self) -> None:
        log = self.query_one("#log", RichLog)
        for stamp, line in self._log_lines[self._logged :]:
            log.write(Text.assemble((stamp + " ", "dim"), (line.text, LOG_STYLES.get(line.level, ""))))
        self._logged = len(self._log_lines)


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


def _state_text(state: str, session: TrainingSession | None) -> Text:
    if session is not None and session.is_running():
        if session.stopping:
            return Text("stopping…", style="yellow")
        if session.control.paused and state != "paused":
            return Text("pausing…", style="yellow")
    styles = {"running": "green", "paused": "yellow", "failed": "red", "finished": "bold green", "early_stopped": "bold green"}
    label = "idle" if session is None else state.replace("_", " ")
    return Text(label, style=styles.get(state, ""))


def _gpu_memory(device: str) -> str:
    """``1.2 GiB, peak 3.4`` on CUDA; empty elsewhere. torch is loaded by then (by the run)."""
    torch = sys.modules.get("torch")
    if not device.startswith("cuda") or torch is None:
        return ""
    try:
        now, peak = torch.cuda.memory_allocated(device), torch.cuda.max_memory_allocated(device)
    except Exception:  # noqa: BLE001 - a statistic, never worth an error
        return ""
    return f"{now / 2**30:.1f} GiB, peak {peak / 2**30:.1f}"
