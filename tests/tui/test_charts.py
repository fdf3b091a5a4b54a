"""The charts: y labels that read in order at every size, smoothing and log/linear keys, the LR's
values labelled, and any number of runs compared.

The axis tests read the labels as painted on the screen by the real app (the chart's left
margin, top to bottom), so a label cut by the margin or written over another shows up as it
would to a person.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.pilot import Pilot
from textual.widgets import Select

from workbench.engine.sinks import RunRecorder
from workbench.experiment.presets import read_experiment
from workbench.runs import events as ev
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory
from workbench.runs.store import create_run
from workbench.tui.app import WorkbenchApp, build_app
from workbench.tui.widgets.axes import MAX_LABELS, format_values, label_row, y_ticks
from workbench.tui.widgets.charts import (
    RAW_COLOUR,
    RUN_COLOURS,
    SMOOTHINGS,
    TRAIN_COLOUR,
    VAL_COLOUR,
    Chart,
    ChartDeck,
    ChartView,
    Series,
    chart_title,
    compare_charts,
    drawn_series,
    smooth,
    y_range,
)
from workbench.tui.widgets.lr_chart import LRChart

from .helpers import SIZE, screen_text, wait_for
from .runs import recorded_run, run_started

SMALL = (60, 20)


def losses_run(train: Sequence[float], val: Sequence[float], *, lr: float = 0.01) -> RunDir:
    """A finished run whose epochs had these losses (and a constant ``lr``), written by the
    engine's own recorder: the Train screen reads it as it would any run."""
    config = read_experiment("digits-cnn")
    config.name, config.train.epochs = "losses", len(train)
    run = create_run(config)
    record = RunRecorder(run)
    record(run_started(run, "losses", num_params=1234, epochs=len(train), steps_per_epoch=10, sizes=(100, 10, 10)))
    for epoch, (train_loss, val_loss) in enumerate(zip(train, val, strict=True), start=1):
        record(
            ev.EpochEnded(
                epoch=epoch,
                epochs=len(train),
                train={"loss": train_loss, "acc": 0.5},
                val={"loss": val_loss, "acc": 0.5},
                lr=lr,
                duration_s=0.1,
                samples_per_s=1000.0,
                is_best=True,
                best_epoch=epoch,
                best_value=val_loss,
                monitor="val_loss",
            )
        )
    record(
        ev.RunFinished(state="finished", epochs_done=len(train), best_epoch=len(train), best_value=val[-1], monitor="val_loss")
    )
    return run


def painted_rows(app: WorkbenchApp, chart: Chart | LRChart) -> dict[int, str]:
    """The y labels on the screen by row (0: the plot's top line): what the chart's left margin shows."""
    margin = chart.query_one("#margin-left").region
    lines = screen_text(app).splitlines()
    cells = {row - margin.y: lines[row][margin.x : margin.right].strip() for row in range(margin.y, margin.bottom)}
    return {row: cell for row, cell in cells.items() if cell}


def painted_labels(app: WorkbenchApp, chart: Chart | LRChart) -> list[str]:
    """The y labels on the screen, top to bottom."""
    return list(painted_rows(app, chart).values())


async def assert_reads_in_order(pilot: Pilot, app: WorkbenchApp, chart: Chart | LRChart) -> list[str]:
    """The labels painted are whole (as chosen, not cut by the margin or written over), distinct
    and fall from top to bottom; returns them. Waits for the frame that paints the labels last
    chosen: textual-plot draws them a frame after the data (a loaded machine showed the old ones)."""
    chosen = list(reversed(chart.y_labels))
    await wait_for(
        pilot, lambda: painted_labels(app, chart) == chosen, timeout=10, what=f"{painted_labels(app, chart)} != {chosen}"
    )
    painted = painted_labels(app, chart)
    values = [float(label) for label in painted]
    assert all(upper > lower for upper, lower in zip(values, values[1:], strict=False)), painted
    return painted


def _train_chart(app: WorkbenchApp, name: str) -> Chart:
    return app.screen.query_one(ChartDeck).chart(name)


async def _attached(app: WorkbenchApp, pilot: Pilot, epochs: int) -> None:
    """Wait until the Train screen shows the run's ``epochs`` epochs and has drawn its loss chart."""
    await wait_for(pilot, lambda: app.runs.shown is not None and len(app.runs.shown.history.epochs) == epochs)
    await wait_for(pilot, lambda: _train_chart(app, "loss").y_labels)


# ----------------------------------------------------------------------------- the Train screen


async def test_the_train_screens_loss_axis_under_a_decade_reads_in_order_at_60x20_and_80x24() -> None:
    """The reported defect: losses from 2.7 to 1.1 (under a decade, on a log axis) were labelled
    2.5 / 1.2 / 1.6 at 60x20, and at 80x24 a label was written over another (``00.1``)."""
    run = losses_run([2.7, 1.9, 1.4, 1.2], [2.5, 1.8, 1.3, 1.1])
    for size in (SMALL, SIZE):
        app = build_app("digits-cnn", attach=run.id)
        async with app.run_test(size=size) as pilot:
            await _attached(app, pilot, 4)
            chart = _train_chart(app, "loss")
            assert len(await assert_reads_in_order(pilot, app, chart)) >= 2
            assert "log" in chart.title.plain


async def test_l_puts_the_loss_on_a_linear_axis_and_back_and_the_title_says_which() -> None:
    run = losses_run([2.3, 0.9, 0.2, 0.05], [2.0, 1.0, 0.3, 0.08])  # over decades
    app = build_app("digits-cnn", attach=run.id)
    async with app.run_test(size=SMALL) as pilot:
        await _attached(app, pilot, 4)
        chart = _train_chart(app, "loss")
        log_labels = await assert_reads_in_order(pilot, app, chart)
        await pilot.press("l")
        await wait_for(pilot, lambda: "linear" in chart.title.plain)
        linear_labels = await assert_reads_in_order(pilot, app, chart)
        assert linear_labels != log_labels and float(linear_labels[-1]) == 0.0  # a linear loss axis starts at 0
        assert "linear" in screen_text(app).splitlines()[-3]  # the help line says what l did
        await pilot.press("l")
        await wait_for(pilot, lambda: "log" in chart.title.plain)
        assert await assert_reads_in_order(pilot, app, chart) == log_labels


async def test_smoothing_keys_step_through_tensorboards_levels_and_the_title_says_the_current_one() -> None:
    run = losses_run([2.3, 0.9, 0.2, 0.05], [2.0, 1.0, 0.3, 0.08])
    app = build_app("digits-cnn", attach=run.id)
    async with app.run_test(size=SIZE) as pilot:
        await _attached(app, pilot, 4)
        deck = app.screen.query_one(ChartDeck)
        chart = deck.chart("loss")
        assert deck.view.smoothing == 0.6 and "smoothing 0.6" in chart.title.plain  # the Train screen's default
        await pilot.press("right_square_bracket")
        assert deck.view.smoothing == 0.8 and "smoothing 0.8" in chart.title.plain
        await pilot.press("right_square_bracket", "right_square_bracket")  # 0.9 is the most
        assert deck.view.smoothing == 0.9
        await pilot.press(*["left_square_bracket"] * 4)  # off is the least
        assert deck.view.smoothing == 0.0 and "no smoothing" in chart.title.plain
        await pilot.press("g")  # the metric chart, shown next, is drawn as the view now says
        assert "no smoothing" in deck.chart("metric").title.plain


async def test_a_constant_lr_is_drawn_inside_the_chart_with_its_value_labelled() -> None:
    run = recorded_run("constant-lr", lr=0.003)
    app = build_app("digits-cnn", attach=run.id)
    async with app.run_test(size=SMALL) as pilot:
        await _attached(app, pilot, 3)
        await pilot.press("g", "g")
        chart = _train_chart(app, "lr")
        await wait_for(pilot, lambda: chart.y_labels)
        [(row, label)] = painted_rows(app, chart).items()
        assert label == "0.003"
        assert 0 < row < chart.query_one("#margin-left").region.height - 1  # inside, not on the axis lines


# ----------------------------------------------------------------------------- the Runs screen


async def test_the_run_view_and_the_comparison_take_the_chart_keys(fixed_app: Callable[..., WorkbenchApp]) -> None:
    first, second = recorded_run("first", val_acc=(0.3, 0.5)), recorded_run("second", val_acc=(0.6, 0.9))
    app = fixed_app(start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.screen.details is not None and app.screen.details.history.epochs)
        deck = app.screen.query_one(ChartDeck)
        assert deck.view.smoothing == 0.0  # a past run's epochs as measured
        await pilot.press("l", "right_square_bracket")
        title = deck.chart("loss").title.plain
        assert "linear" in title and "0.6" in title
        await assert_reads_in_order(pilot, app, deck.chart("loss"))
        await pilot.press("m", "down", "v")
        await wait_for(pilot, lambda: app.screen.query(ChartDeck) and app.screen.query_one(ChartDeck).chart("loss").y_labels)
        compare = app.screen.query_one(ChartDeck)
        assert {first.id, second.id} == {h.run_id for h in app.screen.histories}
        await pilot.press("l")
        assert "linear" in compare.chart("loss").title.plain
        await assert_reads_in_order(pilot, app, compare.chart("loss"))


def test_compared_runs_get_distinct_colours_up_to_eight_and_the_legend_fits_one_line() -> None:
    histories = [RunHistory.from_records(recorded_run(f"run-{i}").read_events()) for i in range(8)]
    labels = [f"a-long-run-name-{i}" for i in range(8)]
    spec = compare_charts(histories, labels)["loss"]
    run_styles = [s.style for s in spec.series if s.dots]
    assert len(set(run_styles)) == 8 and run_styles[:4] == list(RUN_COLOURS[:4])
    for width in (58, 78, 200):  # a 60-column terminal's compare chart, an 80-column one's, a wide one
        title = chart_title(spec, ChartView(), width)
        assert "\n" not in title.plain and title.cell_len <= width
        assert title.plain.count("■") == 8  # every run keeps its mark, in its colour
        assert {span.style for span in title.spans} >= set(RUN_COLOURS)
    assert "a-long-run-name-7" in chart_title(spec, ChartView(), 400).plain  # whole where there is room


# ----------------------------------------------------------------------------- the Optimize screen


async def test_the_lr_previews_axis_labels_its_values_and_a_constant_lr_shows_its_value(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        chart = app.screen.query_one(LRChart)
        await wait_for(pilot, lambda: chart.preview is not None and chart.y_labels)
        stepped = await assert_reads_in_order(pilot, app, chart)  # 0.1 halved every 2 epochs
        assert len(stepped) >= 2 and float(stepped[-1]) == 0.0
        previous = chart.preview
        app.screen.query_one("#schedule-form #field-name", Select).value = "constant"
        await wait_for(pilot, lambda: chart.preview is not previous)
        await pilot.pause()
        assert await assert_reads_in_order(pilot, app, chart) == ["0.1", "0.0"]


# ----------------------------------------------------------------------------- ticks and labels


def _check_axis(low: float, high: float, rows: int, width: int, log: bool) -> tuple[list[float], list[str]]:
    ticks, labels = y_ticks(low, high, rows, width, log=log)
    values = [float(label) for label in labels]
    assert ticks == sorted(ticks) and len(set(ticks)) == len(ticks)
    assert all(a < b for a, b in zip(values, values[1:], strict=False)), labels  # increasing upward
    assert len(set(labels)) == len(labels) and all(len(label) <= width for label in labels)
    assert all(low <= t <= high for t in ticks)
    for tick, value in zip(ticks, values, strict=True):  # the label says the tick's value
        data = 10**tick if log else tick
        assert math.isclose(value, data, rel_tol=0.05, abs_tol=1e-12), (tick, value)
    used = [label_row(t, low, high, rows) for t in ticks]
    assert len(set(used)) == len(used)  # never two on one row
    assert len(ticks) <= min(MAX_LABELS, max(2, (rows + 1) // 2))  # one label per two rows at most
    return ticks, labels


values_strategy = st.lists(
    st.floats(min_value=1e-7, max_value=1e5, allow_nan=False, allow_infinity=False), min_size=1, max_size=30
)


@settings(max_examples=300, deadline=None)
@given(values=values_strategy, rows=st.integers(min_value=3, max_value=60), log=st.booleans())
def test_y_labels_are_ordered_distinct_whole_and_spaced_for_any_range_and_height(
    values: list[float], rows: int, log: bool
) -> None:
    plotted = [math.log10(v) for v in values] if log else values
    low, high = y_range(plotted, None, None, log=log)
    ticks, _ = _check_axis(low, high, rows, 7, log)
    assert ticks or min(values) == max(values)  # only a flat curve is labelled otherwise (by its value)
    if rows >= 5 and min(values) != max(values):  # a chart of 60x20's (5 rows) has two labels at least
        assert len(ticks) >= 2


@settings(max_examples=200, deadline=None)
@given(
    low=st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
    span=st.floats(min_value=1e-6, max_value=1e4),
    rows=st.integers(min_value=3, max_value=40),
)
def test_y_labels_of_a_linear_axis_with_negative_values_stay_ordered(low: float, span: float, rows: int) -> None:
    _check_axis(low, low + span, rows, 8, False)


def test_the_reported_ranges_read_in_order() -> None:
    loss = y_range([math.log10(v) for v in (2.7, 1.1)], None, None, log=True)
    assert len(_check_axis(*loss, 5, 7, True)[1]) == 2  # 60x20: two in order, not 2.5 / 1.2 / 1.6
    assert _check_axis(*loss, 14, 7, True)[1] == ["1.5", "2.0", "2.5"]  # 1.2, 1.4... crowd at the top of a log axis
    assert _check_axis(-8, 1, 20, 7, True)[1] == ["1e-8", "1e-6", "1e-4", "1e-2", "1"]


def test_labels_are_plain_or_scientific_for_a_whole_axis_never_mixed() -> None:
    assert format_values([0.0, 0.0005, 0.001], 7) == ["0.0000", "0.0005", "0.0010"]
    assert format_values([0.0, 5e-5, 1e-4], 7) == ["0", "5e-5", "1e-4"]
    assert format_values([1e-4, 1.5e-4, 2e-4], 7) == ["1.0e-4", "1.5e-4", "2.0e-4"]
    assert format_values([0.05, 0.1, 0.2], 7, shared=False) == ["0.05", "0.1", "0.2"]
    assert format_values([0.0, 2e6, 4e6], 7) == ["0", "2e6", "4e6"]
    assert format_values([123456.5], 4) is None  # too wide whichever way: no label rather than a cut one


def test_a_flat_curve_gets_room_around_it() -> None:
    assert y_range([0.003, 0.003], 0.0, None) == (0.00285, 0.00315)
    low, high = y_range([1.0], 0.0, 1.0)
    assert low < 1.0 == high  # an accuracy of 1 sits on the ceiling, with room below
    assert y_range([0.0], None, None) == (-0.05, 0.05)


def test_with_smoothing_on_a_training_curve_is_drawn_smoothed_over_its_raw_values_in_grey() -> None:
    train, val = Series([1, 2, 3], [1.0, 0.5, 0.2], TRAIN_COLOUR, smooth=True), Series([1, 2, 3], [1.0, 0.6, 0.3], VAL_COLOUR)
    raw, smoothed, validation = drawn_series([train, val], 0.6)
    assert (raw.ys, raw.style) == (train.ys, RAW_COLOUR)
    assert (smoothed.ys, smoothed.style) == (smooth(train.ys, 0.6), TRAIN_COLOUR)
    assert validation == val  # measured values stay as measured
    assert drawn_series([train, val], 0.0) == [train, val]


def test_smoothing_is_tensorboards_moving_average_and_steps_through_its_levels() -> None:
    assert smooth([1.0, 0.0], 0.6) == [1.0, 0.6 * 0.4 / (0.6 * 0.4 + 0.4)]  # debiased: the start is not dragged to 0
    assert smooth([1.0, float("nan"), 1.0], 0.9)[2] == 1.0  # a nan is shown, not averaged in
    view = ChartView()
    levels = [view.smoothing]
    for _ in SMOOTHINGS:
        view = view.smoother(1)
        levels.append(view.smoothing)
    assert levels == [*SMOOTHINGS, SMOOTHINGS[-1]]
    assert ChartView(smoothing=0.0).smoother(-1).smoothing == 0.0
