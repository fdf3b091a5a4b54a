"""Training curves: loss, the task's metric and the learning rate over epochs, with axes.

:class:`Chart` is a textual-plot ``PlotWidget`` that draws a :class:`ChartSpec` (series plus
axis limits) under a one-line title that doubles as the legend. :class:`ChartDeck` holds a few
charts: on a small terminal it shows one at a time and ``cycle()`` moves to the next; with the
``-all`` class it shows them side by side. The ``*_chart`` functions turn one or more
:class:`RunHistory` into specs, so the live Train screen, a past run and any number of runs
compared are drawn by the same code. A deck's :class:`ChartView` is what the person chose with
:data:`CHART_BINDINGS`: the loss on a log or a linear axis, and how much the training curves
are smoothed; the title says both. The y axis's ticks are :mod:`axes`' (ordered, distinct, as
many as the chart's height has room for).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual_plot import HiResMode, PlotWidget

from workbench.runs.history import RunHistory, metric_label
from workbench.tui.widgets.axes import FixedLabels, epoch_ticks, format_values, y_ticks
from workbench.tui.widgets.lr_chart import thin

#: Smoothing levels ``[`` and ``]`` step through: TensorBoard's, the weight of the running
#: average in an exponential moving average (0: off; 0.6 is TensorBoard's default).
SMOOTHINGS = (0.0, 0.6, 0.8, 0.9)
#: One colour per run when runs are compared (train: line; validation: line with dots); the
#: ninth run takes the first colour again.
RUN_COLOURS = (
    "bright_cyan",
    "bright_magenta",
    "bright_yellow",
    "bright_green",
    "bright_red",
    "dodger_blue1",
    "orange1",
    "bright_white",
)
TRAIN_COLOUR, VAL_COLOUR, RAW_COLOUR = "bright_cyan", "bright_yellow", "grey50"
MARKER = "•"

#: The keys of a screen that shows a :class:`ChartDeck`; the screen's actions call
#: :meth:`ChartDeck.toggle_scale` and :meth:`ChartDeck.change_smoothing`.
CHART_BINDINGS = [
    Binding("l", "chart_scale", "Log/linear", show=False, tooltip="Draw the loss on a log or on a linear y axis"),
    Binding("[", "smoothing(-1)", "Less smoothing", show=False, tooltip="Smooth the training curves less (0.9, 0.8, 0.6, off)"),
    Binding("]", "smoothing(1)", "More smoothing", show=False, tooltip="Smooth the training curves more (off, 0.6, 0.8, 0.9)"),
]


@dataclass(frozen=True)
class ChartView:
    """How a deck draws its charts, as the person chose: the smoothing and the loss's scale."""

    smoothing: float = 0.0  # of the training curves; one of SMOOTHINGS
    log: bool = True  # charts that may be (the loss) on a log y axis, else linear

    def smoother(self, step: int) -> ChartView:
        """The next smoothing level up (``step`` 1) or down (-1); the ends stay where they are."""
        index = min(range(len(SMOOTHINGS)), key=lambda i: abs(SMOOTHINGS[i] - self.smoothing))
        return replace(self, smoothing=SMOOTHINGS[max(0, min(len(SMOOTHINGS) - 1, index + step))])


@dataclass(frozen=True)
class Legend:
    """One entry of a chart's legend: ``━ train`` in the curve's colour."""

    mark: str
    label: str
    style: str = ""
    short: str = ""  # the label on a narrow chart ("val"); a label without one (a run's) is cut there if need be


@dataclass(frozen=True)
class Series:
    xs: Sequence[float]
    ys: Sequence[float]
    style: str
    dots: bool = False  # mark each point (epoch values), not only the line
    line: bool = True  # join the points (False: dots alone, as a sweep's points)
    smooth: bool = False  # a training curve: smoothed as the view says, its raw values faint behind


@dataclass(frozen=True)
class ChartSpec:
    name: str  # the chart's title, before the scale, the smoothing and the legend
    legend: tuple[Legend, ...] = ()
    series: list[Series] = field(default_factory=list)
    epochs: int = 0  # x axis from 0 to this many epochs (0: fit the data)
    y_floor: float | None = None  # the y axis never goes below / above these (on a linear axis)
    y_ceiling: float | None = None
    log_y: bool = False  # may be on a log axis (losses fall over decades): the view's scale says
    #: The x axis's marks and labels when it is not epochs (a sweep's points, an axis's values):
    #: the axis then spans the marks and the data.
    x_ticks: tuple[tuple[float, str], ...] = ()


#: The smallest value a logarithmic axis shows (a loss of exactly 0 is drawn there).
LOG_FLOOR = 1e-8


class Chart(PlotWidget, can_focus=False):
    """A plot with epochs on the x axis and a title line that carries the legend."""

    DEFAULT_CSS = """
    Chart { height: 1fr; width: 1fr; border-top: solid $panel-lighten-2; border-title-align: left; border-title-color: $text; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, allow_pan_and_zoom=False)
        self.spec = ChartSpec("")
        self.view = ChartView()
        self.title = Text()  # the border's title as drawn last (the border keeps only its markup)
        self.y_labels: list[str] = []  # the y axis's labels, bottom to top, as drawn last

    def on_mount(self) -> None:
        self.margin_top = 0
        self.margin_bottom = 1  # the epoch labels
        self.margin_left = 8

    def draw(self, spec: ChartSpec, view: ChartView) -> None:
        """Plot ``spec`` as ``view`` says; the y labels are chosen here, for this chart's rows and
        margin (:func:`axes.y_ticks`), and a flat curve is labelled with its value alone."""
        if not self.children:  # not composed yet (a screen built ahead, hidden): its legend is not
            self.call_after_refresh(self.draw, spec, view)  # there to clear; drawn once it is
            return
        self.spec, self.view = spec, view
        title = chart_title(spec, view, self.size.width - 2)  # the border's corners take a column each
        if self.title != title:  # a new title re-lays out the screen: only when it changes
            self.title = self.border_title = title
        self.clear()
        log = spec.log_y and view.log
        series = drawn_series(spec.series, view.smoothing)
        values = [y for s in series for y in s.ys if math.isfinite(y)]
        xs = [x for s in series for x in s.xs]
        if not values:
            self.set_xlimits(0, spec.epochs or 1)
            self.set_ylimits(0, 1)
            self.set_xticks(epoch_ticks(spec.epochs or 1, self._plot_width()))
            self.set_yticks([])
            self.y_labels = []
            return
        points = max(8, 2 * self._plot_width())
        for line in series:
            x, y = np.asarray(line.xs, dtype=float), np.asarray([_y(v, log) for v in line.ys], dtype=float)
            keep = thin(y, points)
            if len(keep) > 1 and line.line:
                self.plot(x[keep], y[keep], line_style=line.style, hires_mode=HiResMode.BRAILLE)
            if line.dots or len(keep) == 1:
                self.scatter(x[keep], y[keep], marker=MARKER, marker_style=line.style)
        floor, ceiling = (None, None) if log else (spec.y_floor, spec.y_ceiling)
        low, high = y_range([_y(v, log) for v in values], floor, ceiling, log=log)
        self.set_ylimits(low, high)
        width, rows = self.margin_left - 1, self.content_size.height - self.margin_top - self.margin_bottom
        if min(values) == max(values):  # a flat curve: its value, alone, says it
            labels = format_values(values[:1], width) or [""]
            ticks = [_y(values[0], log)]
        else:
            ticks, labels = y_ticks(low, high, rows, width, log=log)
        self.set_y_formatter(FixedLabels(ticks, labels))
        self.set_yticks(ticks)
        self.y_labels = labels
        if spec.x_ticks:
            marks = [x for x, _ in spec.x_ticks]
            left, right = min(marks + xs), max(marks + xs)
            pad = (right - left) * 0.03 or 0.5
            self.set_xlimits(left - pad, right + pad)
            self.set_x_formatter(FixedLabels(marks, [label for _, label in spec.x_ticks]))
            self.set_xticks(marks)
            return
        top = spec.epochs or max(1, math.ceil(max(xs)))
        self.set_xlimits(0, top)
        self.set_xticks(epoch_ticks(top, self._plot_width()))

    def _plot_width(self) -> int:
        return max(10, self.size.width - self.margin_left)

    def on_resize(self) -> None:
        self.refresh(layout=True)  # textual-plot sizes its canvases again on a layout refresh
        if self.spec.name:
            self.draw(self.spec, self.view)


def _y(value: float, log: bool) -> float:
    return math.log10(max(value, LOG_FLOOR)) if log and math.isfinite(value) else value


def y_range(values: Sequence[float], floor: float | None, ceiling: float | None, *, log: bool = False) -> tuple[float, float]:
    """Limits that show every value with a little room, kept within ``floor`` and ``ceiling``.

    A flat or nearly flat curve gets room around it (a tenth of its value, or a twentieth of a
    decade on a log axis) rather than a range so thin that no tick label could tell its ends apart.
    """
    low, high = min(values), max(values)
    least = 0.05 if log else 0.1 * max(abs(low), abs(high)) or 0.1
    pad = max((high - low) * 0.05, (least - (high - low)) / 2)
    low, high = low - pad, high + pad
    if floor is not None:
        low = max(floor, low)
    if ceiling is not None:
        high = min(ceiling, high)
    return low, max(high, low + pad)


def chart_title(spec: ChartSpec, view: ChartView, width: int) -> Text:
    """The chart's name, its scale and smoothing, and its legend, in ``width`` columns if it can be:
    the labels shortened (``val``), closer together (``━train``), then the words (``log ~0.6``),
    then the labels cut (``run-…``)."""
    tags = []
    if spec.log_y:
        tags.append("log" if view.log else "linear")
    smoothed = any(s.smooth for s in spec.series)
    long_tags = [*tags, f"smoothing {view.smoothing:g}" if view.smoothing else "no smoothing"] if smoothed else tags
    short_tags = [*tags, f"~{view.smoothing:g}"] if smoothed and view.smoothing else tags
    head = f"{spec.name} ({', '.join(long_tags)})" if long_tags else spec.name
    short = [(e, e.short or e.label) for e in spec.legend]
    tries = [
        _title(head, [(e, e.label) for e in spec.legend], "  ", " "),
        _title(head, short, "  ", " "),
        _title(head, short, " ", ""),
        _title(" ".join([spec.name, *short_tags]), short, " ", ""),
    ]
    longest = max((len(e.label) for e in spec.legend if not e.short), default=0)
    for most in range(longest - 1, 1, -1):
        if tries[-1].cell_len <= width:
            break
        labels = [(e, e.short or _cut(e.label, most)) for e in spec.legend]
        tries.append(_title(" ".join([spec.name, *short_tags]), labels, " ", ""))
    return next((t for t in tries if t.cell_len <= width), tries[-1])


def _title(head: str, entries: Sequence[tuple[Legend, str]], gap: str, mark_gap: str) -> Text:
    return Text(gap).join([Text(head), *(Text(f"{entry.mark}{mark_gap}{label}", entry.style) for entry, label in entries)])


def _cut(label: str, most: int) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"


def drawn_series(series: Sequence[Series], smoothing: float) -> list[Series]:
    """The curves as drawn: with smoothing on, each training curve's raw values faint (with its
    dots) and the smoothed curve over them in its colour."""
    drawn = []
    for s in series:
        if s.smooth and smoothing and len(s.ys) > 1:
            drawn += [Series(s.xs, s.ys, RAW_COLOUR, dots=s.dots), Series(s.xs, smooth(s.ys, smoothing), s.style)]
        else:
            drawn.append(s)
    return drawn


class ChartDeck(Horizontal):
    """Charts shown one at a time (``cycle`` moves on), or all side by side with class ``-all``,
    all drawn as ``view`` says (``toggle_scale``, ``change_smoothing``)."""

    DEFAULT_CSS = """
    ChartDeck { height: 1fr; }
    ChartDeck > Chart { display: none; }
    ChartDeck > Chart.-shown, ChartDeck.-all > Chart { display: block; }
    ChartDeck.-all > Chart { margin-right: 1; }
    """

    def __init__(self, names: Sequence[str], *, view: ChartView | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names = tuple(names)
        self.view = view or ChartView()
        self.current = 0
        self._waiting: dict[str, ChartSpec] = {}  # specs of hidden charts, drawn when shown

    def compose(self) -> ComposeResult:
        for index, name in enumerate(self.names):
            chart = Chart(id=f"chart-{name}")
            chart.set_class(index == self.current, "-shown")
            yield chart

    @property
    def charts(self) -> list[Chart]:
        return list(self.query_children(Chart))

    def chart(self, name: str) -> Chart:
        return self.query_one(f"#chart-{name}", Chart)

    def cycle(self) -> str:
        """Show the next chart; returns its name."""
        self.current = (self.current + 1) % len(self.names)
        for index, chart in enumerate(self.charts):
            chart.set_class(index == self.current, "-shown")
        self.draw({})
        return self.names[self.current]

    def spec(self, name: str) -> ChartSpec:
        """The newest data of a chart, drawn or waiting to be."""
        return self._waiting.get(name) or self.chart(name).spec

    def is_shown(self, name: str) -> bool:
        return self.has_class("-all") or self.names[self.current] == name

    def draw(self, specs: dict[str, ChartSpec]) -> None:
        """Draw the shown charts; a hidden one keeps its newest spec until it is shown."""
        self._waiting.update(specs)
        for name in [n for n in self._waiting if self.is_shown(n)]:
            self.chart(name).draw(self._waiting.pop(name), self.view)

    def toggle_scale(self) -> str:
        """Put the loss on a linear axis, or back on a log one; returns a sentence that says so."""
        self._redraw_with(replace(self.view, log=not self.view.log))
        return f"The loss on a {'log' if self.view.log else 'linear'} axis; l switches back"

    def change_smoothing(self, step: int) -> str:
        """Smooth the training curves more (``step`` 1) or less (-1); returns a sentence that says so."""
        self._redraw_with(self.view.smoother(step))
        if not self.view.smoothing:
            return "Training curves as measured, not smoothed; ] smooths them"
        return f"Training curves smoothed {self.view.smoothing:g}; [ less, ] more"

    def _redraw_with(self, view: ChartView) -> None:
        self.view = view
        self.draw({name: spec for name in self.names if (spec := self.spec(name)).name})

    def on_resize(self) -> None:
        self.draw({})  # a wider deck may show every chart now


# ----------------------------------------------------------------------------- specs from histories


def smooth(values: Sequence[float], smoothing: float) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average that keeps ``smoothing`` of the
    average at each point, corrected for its start (the first point is not dragged to 0). A
    value that is not finite (a loss gone to nan) is kept as it is and left out of the average."""
    out, average, total = [], 0.0, 0.0
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        average = smoothing * average + (1 - smoothing) * value
        total = smoothing * total + (1 - smoothing)
        out.append(average / total)
    return out


def _epochs(histories: Sequence[RunHistory]) -> int:
    return max((h.total_epochs for h in histories), default=0)


def _epoch_values(history: RunHistory, split: str, key: str) -> tuple[list[float], list[float]]:
    records = [e for e in history.epochs if key in (e.train if split == "train" else e.val)]
    return [float(e.epoch) for e in records], [(e.train if split == "train" else e.val)[key] for e in records]


def has_step_curve(history: RunHistory) -> bool:
    """Enough reports within epochs to draw a per-step curve: at least one per finished epoch
    (short epochs end between two reports; their per-epoch values make the better curve)."""
    return len(history.steps) >= max(8, len(history.epochs))


#: The legend of one run's charts: its training curve, its validation values.
TRAIN_LEGEND = Legend("━", "train", TRAIN_COLOUR, short="train")
VAL_LEGEND = Legend(MARKER, "validation", VAL_COLOUR, short="val")


def loss_chart(history: RunHistory, *, live: bool) -> ChartSpec:
    """Training loss (live: at every report) and validation loss per epoch."""
    if live and has_step_curve(history):
        train = Series([p.x for p in history.steps], [p.loss for p in history.steps], TRAIN_COLOUR, smooth=True)
    else:
        train = Series(*_epoch_values(history, "train", "loss"), TRAIN_COLOUR, dots=True, smooth=True)
    series = [train, Series(*_epoch_values(history, "val", "loss"), VAL_COLOUR, dots=True)]
    return ChartSpec("Loss", (TRAIN_LEGEND, VAL_LEGEND), series, _epochs([history]), y_floor=0.0, log_y=True)


def metric_chart(history: RunHistory, *, live: bool) -> ChartSpec:
    """The task's metric per epoch for training and validation; live, the epoch in progress too."""
    key = history.metric
    xs, ys = _epoch_values(history, "train", key)
    progress = history.progress
    if live and progress is not None and progress.acc is not None and key == "acc" and history.position > (xs[-1] if xs else 0):
        xs, ys = [*xs, history.position], [*ys, progress.acc]
    series = [
        Series(xs, ys, TRAIN_COLOUR, dots=True, smooth=True),
        Series(*_epoch_values(history, "val", key), VAL_COLOUR, dots=True),
    ]
    legend = (Legend(MARKER, "train", TRAIN_COLOUR, short="train"), VAL_LEGEND)
    return ChartSpec(
        metric_label(key).capitalize(), legend, series, _epochs([history]), y_floor=0.0, y_ceiling=1.0 if key == "acc" else None
    )


def lr_chart(history: RunHistory) -> ChartSpec:
    """The learning rate the optimizer used, at each report and at each epoch's end."""
    points = sorted([(p.x, p.lr) for p in history.steps] + [(float(e.epoch), e.lr) for e in history.epochs])
    xs, ys = [x for x, _ in points], [y for _, y in points]
    legend = (Legend("━", "lr", TRAIN_COLOUR, short="lr"),)
    return ChartSpec("Learning rate", legend, [Series(xs, ys, TRAIN_COLOUR)], _epochs([history]), y_floor=0.0)


def compare_charts(histories: Sequence[RunHistory], labels: Sequence[str]) -> dict[str, ChartSpec]:
    """Loss and the metric of any number of runs overlaid: one colour per run (RUN_COLOURS, in
    turn); train as a line, validation dotted. The legend names the runs by ``labels``, cut
    short where the chart is narrow."""
    legend = (
        Legend("━", "train", short="train"),
        Legend(MARKER, "validation", short="val"),
        *(Legend("■", label, run_colour(i)) for i, label in enumerate(labels)),
    )
    specs = {}
    key = histories[0].metric if histories else "acc"
    for name, metric in (("loss", "loss"), ("metric", key)):
        series = []
        for index, history in enumerate(histories):
            series.append(Series(*_epoch_values(history, "train", metric), run_colour(index), smooth=True))
            series.append(Series(*_epoch_values(history, "val", metric), run_colour(index), dots=True))
        specs[name] = ChartSpec(
            metric_label(metric).capitalize(),
            legend,
            series,
            _epochs(histories),
            y_floor=0.0,
            y_ceiling=1.0 if metric == "acc" else None,
            log_y=metric == "loss",
        )
    return specs


def run_colour(index: int) -> str:
    """The colour of the ``index``th run compared (from 0): RUN_COLOURS in turn."""
    return RUN_COLOURS[index % len(RUN_COLOURS)]
