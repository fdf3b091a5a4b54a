"""The evaluation view: how one checkpoint of a run does on the test split.

It shows the same report ``workbench eval`` prints and writes: the engine's
:func:`~workbench.engine.evaluate.evaluate_checkpoint`, run on the app's torch thread (in a child
process for a run of the user's own model or data set, whose code the app never imports), saved
next to the run with :func:`~workbench.outputs.reports.write_report`. A saved report that is newer than its checkpoint
(the one written at the end of training, or by an earlier ``workbench eval``) is shown without
recomputing; ``e`` evaluates again.

Classification: loss, accuracy (and top-5 where the task has it), a per-class table, the
confusion matrix as a heat map (scrollable for many classes), the most confused pairs, and the
misclassified test samples drawn as pictures with their true and predicted labels and the
model's confidence. Regression: MSE, MAE and R², a predicted-vs-true scatter and the worst
predictions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.events import Resize
from textual.widgets import Static
from textual_plot import HiResMode, PlotWidget

from workbench.errors import describe_error
from workbench.formatting import metrics_text
from workbench.outputs.reports import read_reports
from workbench.render.pictures import Captioned
from workbench.runs.folder import RunDir
from workbench.tui.runs.dialogs import FileScreen
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.screens.dialogs import ConfirmScreen
from workbench.tui.torch_thread import in_child_process, on_torch_thread
from workbench.tui.torch_work import evaluate_and_save, load_predictor, mistake_pictures, predict_once
from workbench.tui.widgets.confusion import LEGEND, heat_map
from workbench.tui.widgets.picture import PictureGrid
from workbench.tui.widgets.plain import plain_cells
from workbench.usercode.copies import runs_user_code

if TYPE_CHECKING:
    from workbench.engine.predict import Prediction, Predictor

T = TypeVar("T")

SPLIT = "test"
#: From this width the per-class table and the matrix sit side by side.
WIDE_COLUMNS = 110
#: Pairs listed under "most confused".
CONFUSED_PAIRS = 10
#: Rows of a CSV file whose predictions the view lists.
PREDICTIONS_SHOWN = 10


def saved_report(run: RunDir, checkpoint: Path, split: str = SPLIT) -> dict[str, Any] | None:
    """The newest saved report of ``checkpoint`` on ``split``, if the checkpoint has not been
    rewritten since (a resumed run rewrites last.pt and best.pt)."""
    try:
        written = checkpoint.stat().st_mtime
    except OSError:
        return None
    for report in reversed(read_reports(run)):
        if report.get("checkpoint_name") != checkpoint.stem or report.get("split") != split:
            continue
        try:
            created = datetime.fromisoformat(report.get("created_at", "")).timestamp()
        except ValueError:
            continue
        # created_at has whole seconds: a report written in the checkpoint's second still counts.
        return report if created >= written - 1.0 else None
    return None


def prediction_lines(predictions: list[Prediction]) -> Text:
    """The predictions as ``workbench predict`` prints them, the first few of a long file."""
    text = Text("Prediction\n", style="bold")
    for prediction in predictions[:PREDICTIONS_SHOWN]:
        text.append(prediction.text() + "\n")
    if len(predictions) > PREDICTIONS_SHOWN:
        text.append(f"… and {len(predictions) - PREDICTIONS_SHOWN:,} more rows (workbench predict prints them all)", style="dim")
    text.rstrip()
    return text


class EvaluationScreen(WorkbenchScreen):
    """Pushed over the Runs screen for one checkpoint of one run."""

    MODE = "runs"
    HINT = "↑↓ PgUp PgDn scroll · e evaluates again · p predicts on a file · escape goes back to the runs"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("e", "evaluate_again", "Evaluate again"),
        Binding("p", "predict", "Predict on a file", tooltip="The checkpoint's prediction for an image or CSV file of yours"),
    ]

    DEFAULT_CSS = """
    EvaluationScreen #evaluation { padding: 0 1; scrollbar-size-vertical: 1; }
    EvaluationScreen #eval-metrics { margin-bottom: 1; }
    EvaluationScreen #prediction { margin-bottom: 1; }
    EvaluationScreen #eval-tables { height: auto; layout: vertical; }
    EvaluationScreen.-wide #eval-tables { layout: horizontal; }
    EvaluationScreen #per-class { width: auto; margin-top: 1; }
    EvaluationScreen #confusion-box { width: auto; height: auto; margin-right: 3; }
    EvaluationScreen #confused { width: auto; max-width: 60; margin-top: 1; }
    EvaluationScreen #confusion-scroll { width: auto; max-width: 100%; height: auto; max-height: 24; scrollbar-size: 1 1; }
    EvaluationScreen #confusion { width: auto; }
    EvaluationScreen .section { text-style: bold; color: $accent; }
    EvaluationScreen #mistakes-title { margin-top: 1; }
    EvaluationScreen #scatter { height: 16; margin-top: 1; }
    """

    def __init__(self, run: RunDir, checkpoint: Path) -> None:
        super().__init__()
        self.run = run
        self.checkpoint = checkpoint
        #: The report shown (the dict ``workbench eval --json`` prints), once read.
        self.report: dict[str, Any] | None = None
        self.reused = False
        #: The checkpoint's model and its data's preparation, once a file has been predicted on.
        self.predictor: Predictor | None = None
        #: The last file's predictions (as ``workbench predict --json`` gives them).
        self.predictions: list[dict[str, Any]] | None = None
        #: The file being predicted on (asked again, resized, when its size is refused).
        self.predicting: Path | None = None
        #: Whether the run's model or data is the user's code (then its torch work runs in a child), once read.
        self.user_code: bool | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="evaluation", classes="body"):
            yield Static(id="eval-title", markup=False)
            yield Static(id="eval-metrics", markup=False)
            yield Static(id="prediction", classes="hidden", markup=False)
            with Horizontal(id="eval-tables"):
                with Vertical(id="confusion-box"):
                    yield Static(id="confusion-title", classes="section hidden", markup=False)
                    with ScrollableContainer(id="confusion-scroll"):
                        yield Static(id="confusion", markup=False)
                    yield Static(id="confused", markup=False)
                yield Static(id="per-class", markup=False)
            yield Static(id="mistakes-title", classes="section hidden", markup=False)
            yield PictureGrid(16, 8, id="mistakes")
            yield PlotWidget(id="scatter", classes="hidden", allow_pan_and_zoom=False)
            yield Static(id="worst", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#scatter", PlotWidget).can_focus = False
        self.query_one("#evaluation").focus()
        self._start(fresh=False)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE_COLUMNS, "-wide")

    def action_back(self) -> None:
        self.dismiss()

    def action_evaluate_again(self) -> None:
        self._start(fresh=True)

    def action_predict(self) -> None:
        self.app.push_screen(
            FileScreen("Predict on a file", "the path of an image, or of a .csv file of rows"), self._predict_file
        )

    def _predict_file(self, path: Path | None, resize: bool = False) -> None:
        if path is None:
            return
        self.predicting = path
        self._show_prediction(Text(f"Predicting {path}…", style="dim"))
        self.run_worker(self._predict(path, resize), exclusive=True, group="prediction", exit_on_error=False)

    def _start(self, fresh: bool) -> None:
        self.report = None
        self.query_one("#eval-title", Static).update(self._title())
        self.query_one("#eval-metrics", Static).update(
            Text(f"Evaluating {self.checkpoint.name} on the {SPLIT} split…", style="dim")
        )
        self.run_worker(self._evaluate(fresh), exclusive=True, group="evaluation", exit_on_error=False)

    def _title(self, report: dict[str, Any] | None = None) -> Text:
        epoch = f" (epoch {report['epoch']})" if report is not None and report.get("epoch") is not None else ""
        text = Text.assemble(
            ("Evaluation of ", "bold"), (f"{self.checkpoint.name}{epoch}", "bold cyan"), " · run ", (self.run.id, "bold")
        )
        if report is not None:
            saved = "from the saved report" if self.reused else "evaluated now and saved"
            text.append(f"\n{report['split']} split · {report['num_samples']:,} samples · {saved}", style="dim")
        return text

    # ------------------------------------------------------------------ the worker

    async def _evaluate(self, fresh: bool) -> None:
        """The saved report, or a new evaluation (saved), then the pictures of its mistakes.

        Torch work runs on the app's torch thread (:mod:`workbench.tui.torch_thread`); a failure
        of either step is said in its place by :meth:`worker_failed`."""
        report = None if fresh else await on_torch_thread(partial(saved_report, self.run, self.checkpoint))
        reused = report is not None
        if report is None:
            report = await self._torch(f"evaluating {self.checkpoint.name}", evaluate_and_save, self.run, self.checkpoint, SPLIT)
        self._show_report(report, reused)
        self.run_worker(self._read_pictures(report), exclusive=True, group="eval-pictures", exit_on_error=False)

    async def _predict(self, path: Path, resize: bool) -> None:
        """Build the predictor once (it loads the run's data for the normalisation), then ask it;
        a run of the user's code builds it in a child process for each prediction."""
        if await self._runs_user_code():
            predictions = await in_child_process(f"predicting on {path.name}", predict_once, self.checkpoint, path, resize)
        else:
            if self.predictor is None:
                self.predictor = await on_torch_thread(partial(load_predictor, self.checkpoint))
            predictions = await on_torch_thread(partial(self.predictor.predict, [path], resize=resize))
        self.predictions = [p.to_dict() for p in predictions]
        self._show_prediction(prediction_lines(predictions))

    async def _read_pictures(self, report: dict[str, Any]) -> None:
        self._show_pictures(await self._torch("reading the mistakes' pictures", mistake_pictures, self.run, report), "")

    async def _runs_user_code(self) -> bool:
        if self.user_code is None:
            self.user_code = await asyncio.to_thread(runs_user_code, self.run.path)
        return self.user_code

    async def _torch(self, what: str, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` on the torch thread, or in a child process for a run of the user's code."""
        if await self._runs_user_code():
            return await in_child_process(what, work, *args)
        return await on_torch_thread(partial(work, *args))

    def worker_failed(self, group: str, error: BaseException) -> None:
        if group == "evaluation":
            self._show_error(describe_error(error))
        elif group == "prediction":
            self._prediction_failed(error)
        elif group == "eval-pictures":
            self._show_pictures([], f"The pictures could not be read: {describe_error(error)}")
        else:
            super().worker_failed(group, error)

    def _prediction_failed(self, error: BaseException) -> None:
        """One red line in place; an image of another size than the dataset's is offered resized."""
        from workbench.data.prediction_inputs import ImageSizeError  # numpy: loaded by the prediction that failed

        path = self.predicting
        if isinstance(error, ImageSizeError) and path is not None:
            self._show_prediction(Text.styled(error.reason, "bold red"))
            self.app.push_screen(
                ConfirmScreen(f"{error.reason}. Resize it anyway?", yes="Resize", no="Cancel"),
                lambda yes: self._predict_file(path, resize=True) if yes else None,
            )
            return
        message = describe_error(error)
        self._show_prediction(Text.styled(message, "bold red"))
        self.notify(message, title="Prediction failed", severity="error", timeout=8)

    # ------------------------------------------------------------------ drawing

    def _show_error(self, message: str) -> None:
        self.query_one("#eval-metrics", Static).update(Text.styled(message, "bold red"))
        self.notify(message, title="Evaluation failed", severity="error", timeout=8)

    def _show_prediction(self, text: Text) -> None:
        prediction = self.query_one("#prediction", Static)
        prediction.remove_class("hidden")
        prediction.update(text)

    def _show_report(self, report: dict[str, Any], reused: bool) -> None:
        self.report, self.reused = report, reused
        self.query_one("#eval-title", Static).update(self._title(report))
        self.query_one("#eval-metrics", Static).update(metrics_lines(report))
        classification = report["task"] == "classification"
        self.query_one("#per-class", Static).update(per_class_table(report) if classification else "")
        self.query_one("#confusion-title", Static).set_class(not classification, "hidden")
        self.query_one("#confusion-title", Static).update("Confusion matrix")
        self.query_one("#confusion", Static).update(
            Text.assemble(heat_map(report["confusion"], report["class_names"]), "\n", (LEGEND, "dim")) if classification else ""
        )
        self.query_one("#confusion-scroll").display = classification
        self.query_one("#confused", Static).update(confused_text(report) if classification else "")
        scatter = self.query_one("#scatter", PlotWidget)
        scatter.set_class(classification, "hidden")
        if not classification:
            draw_scatter(scatter, report["pairs"])
        self.query_one("#worst", Static).update(worst_table(report))

    def _show_pictures(self, pictures: list[Captioned], problem: str) -> None:
        title = self.query_one("#mistakes-title", Static)
        title.set_class(not pictures and not problem, "hidden")
        title.update(problem or f"Misclassified {SPLIT} samples, worst first (true→predicted, confidence)")
        self.query_one("#mistakes", PictureGrid).set_pictures(pictures)


def metrics_lines(report: dict[str, Any]) -> Text:
    """The report's figures as ``workbench eval`` prints them, then in words."""
    metrics = report["metrics"]
    text = Text.assemble((f"{report['split']}  ", "bold"), (metrics_text(metrics), "bold"))
    if report["task"] == "classification":
        mistakes = sum(v for i, row in enumerate(report["confusion"]) for j, v in enumerate(row) if i != j)
        words = [f"accuracy {metrics['acc']:.1%}"]
        if "top5" in metrics:
            words.append(f"top-5 {metrics['top5']:.1%}")
        words.append(f"{mistakes:,} of {report['num_samples']:,} wrong")
    else:
        words = [
            f"MSE {metrics['mse']:.4f}",
            f"MAE {metrics['mae']:.4f}",
            f"R² {metrics['r2']:.3f}",
            "targets standardised as in training",
        ]
    text.append("\n" + " · ".join(words), style="dim")
    return text


def per_class_table(report: dict[str, Any]) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title="Per class", title_justify="left", title_style="bold"
    )
    for column in ("class", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right", no_wrap=True)
    for row in report["per_class"]:
        table.add_row(
            *plain_cells(row["class"], f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", str(row["support"]))
        )
    return table


def confused_text(report: dict[str, Any]) -> Text:
    pairs = report.get("most_confused", [])[:CONFUSED_PAIRS]
    text = Text("Most confused (true→predicted): ", style="bold")
    if not pairs:
        text.append("none, every sample is classified right", style="green")
    text.append(", ".join(f"{pair['true']}→{pair['predicted']} ×{pair['count']}" for pair in pairs))
    return text


def worst_table(report: dict[str, Any]) -> Table | str:
    """The worst predictions as a table; image classification shows them as pictures instead."""
    from workbench.data.registry import DATASETS

    worst = report.get("worst", [])[:8]
    spec = DATASETS.get(report.get("dataset", ""))
    if not worst or (report["task"] == "classification" and spec is not None and spec.kind == "image"):
        return ""
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title="Worst predictions", title_justify="left", title_style="bold"
    )
    if report["task"] == "classification":
        for column in ("sample", "true", "predicted", "confidence", "loss"):
            table.add_column(column, justify="right" if column in ("confidence", "loss") else "left", no_wrap=True)
        for w in worst:
            table.add_row(*plain_cells(f"#{w['index']}", w["true"], w["predicted"], f"{w['confidence']:.2f}", f"{w['loss']:.2f}"))
    else:
        for column in ("sample", "true", "predicted", "squared error"):
            table.add_column(column, justify="left" if column == "sample" else "right", no_wrap=True)
        for w in worst:
            table.add_row(
                *plain_cells(f"#{w['index']}", _numbers(w["true"]), _numbers(w["predicted"]), f"{w['squared_error']:.4f}")
            )
    return table


def _numbers(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def draw_scatter(plot: PlotWidget, pairs: list[list[float]]) -> None:
    """Predicted against true (first target), with the line where they would be equal."""
    plot.clear()
    plot.margin_top, plot.margin_bottom, plot.margin_left = 1, 3, 8
    if not pairs:
        return
    predicted, true = [p[0] for p in pairs], [p[1] for p in pairs]
    low, high = min(predicted + true), max(predicted + true)
    plot.plot([low, high], [low, high], line_style="grey50", hires_mode=HiResMode.BRAILLE)
    plot.scatter(true, predicted, marker_style="bright_cyan", hires_mode=HiResMode.BRAILLE)
    plot.set_xlabel("true")
    plot.set_ylabel("predicted")
