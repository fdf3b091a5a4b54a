"""Training curves: loss, the task's metric and the learning rate over epochs, with axes.

:class:`Chart` is a textual-plot ``PlotWidget`` that draws a :class:`ChartSpec` (series plus
axis limits) under a one-line title that doubles as the legend. :class:`ChartDeck` holds a few
charts: on a small terminal it shows one at a time and ``cycle()`` moves to the next; with the
``-all`` class it shows them side by side. The ``*_chart`` functions turn one or more
:class:`RunHistory` into specs, so the live Train screen, a past run and two runs compared are
drawn by the same code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual_plot import AxisFormatter, HiResMode, NumericAxisFormatter, PlotWidget

from workbench.runs.history import RunHistory, metric_label
from workbench.tui.widgets.lr_chart import epoch_ticks, thin

#: Weight of the newest point in the smoothed loss (an exponential moving average; TensorBoard's
#: default smoothing of 0.6 is a weight of 0.4).
SMOOTHING = 0.4
#: One colour per run when runs are compared (train: line; validation: line with dots).
RUN_COLOURS = ("bright_cyan", "bright_magenta", "bright_yellow", "bright_green")
TRAIN_COLOUR, VAL_COLOUR, RAW_COLOUR = "bright_cyan", "bright_yellow", "grey50"
MARKER = "•"


@dataclass(frozen=True)
class Series:
    xs: Sequence[float]
    ys: Sequence[float]
    style: str
    dots: bool = False  # mark each point (epoch values), not only the line


@dataclass(frozen=True)
class ChartSpec:
    title: Text  # the chart's name and its legend, in the series' colours
    series: list[Series] = field(default_factory=list)
    epochs: int = 0  # x axis from 0 to this many epochs (0: fit the data)
    y_floor: float | None = None  # the y axis never goes below / above these
    y_ceiling: float | None = None
    log_y: bool = False  # a logarithmic y axis (losses fall over decades)


#: The smallest value a logarithmic axis shows (a loss of exactly 0 is drawn there).
LOG_FLOOR = 1e-8


class LogAxis(AxisFormatter):
    """Ticks of a log10 axis: the plotted values are log10 of the data, the labels the data
    (1, 2 and 5 of each decade, or whole decades when those are too many)."""

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        ticks = [
            decade + math.log10(step)
            for decade in range(math.floor(min_), math.ceil(max_) + 1)
            for step in (1, 2, 5)
            if min_ <= decade + math.log10(step) <= max_
        ]
        if len(ticks) > max_ticks:
            ticks = [t for t in ticks if t == round(t)]
        if len(ticks) < 2:  # less than a decade: evenly spaced ticks, labelled with their values
            ticks = NumericAxisFormatter().get_ticks(min_, max_, max_ticks)
        return ticks

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return [f"{10**tick:.2g}" for tick in ticks]


class Chart(PlotWidget, can_focus=False):
    """A plot with epochs on the x axis and a title line that carries the legend."""

    DEFAULT_CSS = """
    Chart { height: 1fr; width: 1fr; border-top: solid $panel-lighten-2; border-title-align: left; border-title-color: $text; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, allow_pan_and_zoom=False)
        self.spec = ChartSpec(Text())

    def on_mount(self) -> None:
        self.margin_top = 0
        self.margin_bottom = 1  # the epoch labels
        self.margin_left = 8

    def draw(self, spec: ChartSpec) -> None:
        self.spec = spec
        if self.border_title != spec.title:  # a new title re-lays out the screen: only when it changes
            self.border_title = spec.title
        self.clear()
        self.set_y_formatter(LogAxis() if spec.log_y else NumericAxisFormatter())
        ys = [_y(y, spec.log_y) for s in spec.series for y in s.ys if math.isfinite(y)]
        xs = [x for s in spec.series for x in s.xs]
        if not ys:
            self.set_xlimits(0, spec.epochs or 1)
            self.set_ylimits(0, 1)
            self.set_xticks(epoch_ticks(spec.epochs or 1, self._plot_width()))
            return
        points = max(8, 2 * self._plot_width())
        for series in spec.series:
            x, y = np.asarray(series.xs, dtype=float), np.asarray([_y(v, spec.log_y) for v in series.ys], dtype=float)
            keep = thin(y, points)
            if len(keep) > 1:
                self.plot(x[keep], y[keep], line_style=series.style, hires_mode=HiResMode.BRAILLE)
            if series.dots or len(keep) == 1:
                self.scatter(x[keep], y[keep], marker=MARKER, marker_style=series.style)
        floor, ceiling = (None, None) if spec.log_y else (spec.y_floor, spec.y_ceiling)
        self.set_ylimits(*y_range(ys, floor, ceiling))
        top = spec.epochs or max(1, math.ceil(max(xs)))
        self.set_xlimits(0, top)
        self.set_xticks(epoch_ticks(top, self._plot_width()))

    def _plot_width(self) -> int:
        return max(10, self.size.width - self.margin_left)

    def on_resize(self) -> None:
        self.refresh(layout=True)  # textual-plot sizes its canvases again on a layout refresh
        if self.spec.title.plain:
            self.draw(self.spec)


def _y(value: float, log: bool) -> float:
    return math.log10(max(value, LOG_FLOOR)) if log and math.isfinite(value) else value


def y_range(values: Sequence[float], floor: float | None, ceiling: float | None) -> tuple[float, float]:
    """Limits that show every value with a little room, kept within ``floor`` and ``ceiling``."""
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or abs(high) * 0.05 or 0.05
    low, high = low - pad, high + pad
    if floor is not None:
        low = max(floor, low)
    if ceiling is not None:
        high = min(ceiling, high)
    return low, max(high, low + 1e-9)


class ChartDeck(Horizontal):
    """Charts shown one at a time (``cycle`` moves on), or all side by side with class ``-all``."""

    DEFAULT_CSS = """
    ChartDeck { height: 1fr; }
    ChartDeck > Chart { display: none; }
    ChartDeck > Chart.-shown, ChartDeck.-all > Chart { display: block; }
    ChartDeck.-all > Chart { margin-right: 1; }
    """

    def __init__(self, names: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names = tuple(names)
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
            self.chart(name).draw(self._waiting.pop(name))

    def on_resize(self) -> None:
        self.draw({})  # a wider deck may show every chart now


# ----------------------------------------------------------------------------- specs from histories


def smooth(values: Sequence[float], weight: float = SMOOTHING) -> list[float]:
    """Exponential moving average, corrected for its start (the first point is not dragged to 0)."""
    out, average, total = [], 0.0, 0.0
    for value in values:
        average = (1 - weight) * average + weight * value
        total = (1 - weight) * total + weight
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


def loss_chart(history: RunHistory, *, live: bool) -> ChartSpec:
    """Training loss (live: every report, faint, and smoothed) and validation loss per epoch."""
    series = []
    if live and has_step_curve(history):
        xs, ys = [p.x for p in history.steps], [p.loss for p in history.steps]
        series += [Series(xs, ys, RAW_COLOUR), Series(xs, smooth(ys), TRAIN_COLOUR)]
        train = "train (smoothed)"
    else:
        series.append(Series(*_epoch_values(history, "train", "loss"), TRAIN_COLOUR, dots=True))
        train = "train"
    series.append(Series(*_epoch_values(history, "val", "loss"), VAL_COLOUR, dots=True))
    title = Text.assemble("Loss (log)  ", (f"━ {train}", TRAIN_COLOUR), "  ", (f"{MARKER} validation", VAL_COLOUR))
    return ChartSpec(title, series, _epochs([history]), log_y=True)


def metric_chart(history: RunHistory, *, live: bool) -> ChartSpec:
    """The task's metric per epoch for training and validation; live, the epoch in progress too."""
    key = history.metric
    xs, ys = _epoch_values(history, "train", key)
    progress = history.progress
    if live and progress is not None and progress.acc is not None and key == "acc" and history.position > (xs[-1] if xs else 0):
        xs, ys = [*xs, history.position], [*ys, progress.acc]
    series = [Series(xs, ys, TRAIN_COLOUR, dots=True), Series(*_epoch_values(history, "val", key), VAL_COLOUR, dots=True)]
    title = Text.assemble(
        f"{metric_label(key).capitalize()}  ", (f"{MARKER} train", TRAIN_COLOUR), "  ", (f"{MARKER} validation", VAL_COLOUR)
    )
    return ChartSpec(title, series, _epochs([history]), y_floor=0.0, y_ceiling=1.0 if key == "acc" else None)


def lr_chart(history: RunHistory) -> ChartSpec:
    """The learning rate the optimizer used, at each report and at each epoch's end."""
    points = sorted([(p.x, p.lr) for p in history.steps] + [(float(e.epoch), e.lr) for e in history.epochs])
    xs, ys = [x for x, _ in points], [y for _, y in points]
    title = Text.assemble("Learning rate  ", ("━ lr", TRAIN_COLOUR))
    return ChartSpec(title, [Series(xs, ys, TRAIN_COLOUR)], _epochs([history]), y_floor=0.0)


def compare_charts(histories: Sequence[RunHistory], labels: Sequence[str]) -> dict[str, ChartSpec]:
    """Loss and the metric of several runs overlaid: one colour per run; train as a line, validation dotted."""
    legend = Text("  ").join(Text(f"■ {label}", RUN_COLOURS[i % len(RUN_COLOURS)]) for i, label in enumerate(labels))
    specs = {}
    key = histories[0].metric if histories else "acc"
    for name, metric in (("loss", "loss"), ("metric", key)):
        series = []
        for index, history in enumerate(histories):
            colour = RUN_COLOURS[index % len(RUN_COLOURS)]
            series.append(Series(*_epoch_values(history, "train", metric), colour))
            series.append(Series(*_epoch_values(history, "val", metric), colour, dots=True))
        log = metric == "loss"
        label = f"{metric_label(metric).capitalize()}{' (log)' if log else ''}"
        title = Text.assemble(f"{label}, line: train, {MARKER}: validation  ", legend)
        specs[name] = ChartSpec(
            title, series, _epochs(histories), y_floor=0.0, y_ceiling=1.0 if metric == "acc" else None, log_y=log
        )
    return specs
