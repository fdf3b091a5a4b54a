"""Everything the app writes stays readable: WCAG contrast, measured on the rendered screens.

The real app is driven through its screens, dialogs, a tooltip, toasts and the command palette,
with colours and with ``NO_COLOR``, and every cell it draws is measured (its colours as the
compositor hands them to the terminal, after Textual's filters) as terminals show them: in true
colour; in 256 colours (``TERM=xterm-256color``: Rich rounds each colour to the xterm palette);
in 16 colours (``TERM=xterm``: Rich picks the nearest of the 16, which the terminal draws in its
own palette, PuTTY's default or xterm's).

Bars: text (letters, digits, punctuation) 4.5:1, WCAG's AA, in true colour and 256 colours, and
3:1 in 16 colours; symbols (marks, arrows, the charts' braille curves) 3:1, WCAG's bar for
graphics. Lines of boxes and blocks (borders, scrollbars, pictures) are not measured.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import pytest
from rich._palettes import EIGHT_BIT_PALETTE
from rich.color import Color as RichColor
from rich.color import ColorSystem
from rich.color_triplet import ColorTriplet
from rich.style import Style
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import DataTable, OptionList, Tooltip
from textual.widgets._select import SelectOverlay
from textual.widgets._toast import Toast

from workbench.tui.app import WorkbenchApp
from workbench.tui.runs.compare import CompareScreen
from workbench.tui.runs.screen import RunsScreen
from workbench.tui.theme import BACKGROUND, CURSOR, CURSOR_BLURRED, PANEL, SURFACE, WORKBENCH_ANSI, contrast_ratio
from workbench.tui.widgets.confusion import GREENS, REDS, _cell_style

from .helpers import SIZE, screen_text, wait_for
from .runs import recorded_run

RGB = tuple[int, int, int]

#: PuTTY's default 16 colours (black, red, green, yellow, blue, magenta, cyan, white, then bright).
PUTTY_16 = (
    *((0x00, 0x00, 0x00), (0xBB, 0x00, 0x00), (0x00, 0xBB, 0x00), (0xBB, 0xBB, 0x00)),
    *((0x00, 0x00, 0xBB), (0xBB, 0x00, 0xBB), (0x00, 0xBB, 0xBB), (0xBB, 0xBB, 0xBB)),
    *((0x55, 0x55, 0x55), (0xFF, 0x55, 0x55), (0x55, 0xFF, 0x55), (0xFF, 0xFF, 0x55)),
    *((0x55, 0x55, 0xFF), (0xFF, 0x55, 0xFF), (0x55, 0xFF, 0xFF), (0xFF, 0xFF, 0xFF)),
)
#: xterm's default 16 colours, in the same order.
XTERM_16 = (
    *((0x00, 0x00, 0x00), (0xCD, 0x00, 0x00), (0x00, 0xCD, 0x00), (0xCD, 0xCD, 0x00)),
    *((0x00, 0x00, 0xEE), (0xCD, 0x00, 0xCD), (0x00, 0xCD, 0xCD), (0xE5, 0xE5, 0xE5)),
    *((0x7F, 0x7F, 0x7F), (0xFF, 0x00, 0x00), (0x00, 0xFF, 0x00), (0xFF, 0xFF, 0x00)),
    *((0x5C, 0x5C, 0xFF), (0xFF, 0x00, 0xFF), (0x00, 0xFF, 0xFF), (0xFF, 0xFF, 0xFF)),
)


def in_256_colours(rgb: RGB) -> RGB:
    """The colour a 256-colour terminal shows for ``rgb`` (Rich's downgrade, then xterm's palette)."""
    number = RichColor.from_triplet(ColorTriplet(*rgb)).downgrade(ColorSystem.EIGHT_BIT).number
    assert number is not None
    return EIGHT_BIT_PALETTE[number]


def in_16_colours(palette: tuple[RGB, ...]) -> Callable[[RGB], RGB]:
    """The colour a 16-colour terminal with ``palette`` shows for ``rgb`` (Rich's nearest standard colour)."""

    def shows(rgb: RGB) -> RGB:
        number = RichColor.from_triplet(ColorTriplet(*rgb)).downgrade(ColorSystem.STANDARD).number
        assert number is not None
        return palette[number]

    return shows


@dataclass(frozen=True)
class Terminal:
    name: str
    shows: Callable[[RGB], RGB]
    text_bar: float
    symbol_bar: float


TERMINALS: tuple[Terminal, ...] = (
    Terminal("true colour", lambda rgb: rgb, 4.5, 3.0),
    Terminal("256 colours", in_256_colours, 4.5, 3.0),
    Terminal("16 colours (PuTTY)", in_16_colours(PUTTY_16), 3.0, 3.0),
    Terminal("16 colours (xterm)", in_16_colours(XTERM_16), 3.0, 3.0),
)


def kind_of(char: str) -> str | None:
    """'text', 'symbol', or None for what is not measured (spaces, box lines, block pictures)."""
    if char.isspace() or 0x2500 <= ord(char) <= 0x259F:
        return None
    category = unicodedata.category(char)
    return "text" if category[0] in "LNP" or category in ("Sm", "Sc", "Sk") else "symbol"


@dataclass(frozen=True)
class Problem:
    where: str
    text: str
    foreground: RGB
    background: RGB
    terminal: str
    ratio: float
    bar: float

    def __str__(self) -> str:
        fg, bg = ColorTriplet(*self.foreground).hex, ColorTriplet(*self.background).hex
        return f"{self.where}: {self.text!r} {fg} on {bg} is {self.ratio:.2f}:1 in {self.terminal} (needs {self.bar})"


def colours(style: Style) -> tuple[RGB, RGB]:
    """The foreground and background a cell shows (swapped when reversed)."""
    assert style.color is not None and style.bgcolor is not None, f"a cell without colours: {style}"
    foreground, background = style.color.get_truecolor(), style.bgcolor.get_truecolor()
    return (background, foreground) if style.reverse else (foreground, background)


def visible_cells(app: WorkbenchApp) -> Iterator[tuple[str, Style, str]]:
    """(character, style, its line's text) of each cell of the screen; under a dialog, the dialog's only
    (the screen behind a dialog is dimmed on purpose)."""
    screen = app.screen
    regions = [child.region for child in screen.children] if isinstance(screen, ModalScreen) else [screen.region]
    for y, strip in enumerate(screen._compositor.render_strips()):
        line, x = strip.text.strip(), 0
        for text, style, _ in strip:
            for char in text:
                if style is not None and any(region.contains(x, y) for region in regions):
                    yield char, style, line
                x += 1


def problems_on_screen(app: WorkbenchApp, where: str) -> list[Problem]:
    """The first terminal each pair of colours on the screen fails in, once per pair and kind."""
    found: dict[tuple[RGB, RGB, str], Problem | None] = {}
    for char, style, line in visible_cells(app):
        kind = kind_of(char)
        if kind is None:
            continue
        foreground, background = colours(style)
        if (foreground, background, kind) in found:
            continue
        found[foreground, background, kind] = None
        for terminal in TERMINALS:
            bar = terminal.text_bar if kind == "text" else terminal.symbol_bar
            ratio = contrast_ratio(terminal.shows(foreground), terminal.shows(background))
            if ratio < bar:
                found[foreground, background, kind] = Problem(where, line[:40], foreground, background, terminal.name, ratio, bar)
                break
    return [problem for problem in found.values() if problem is not None]


async def drawn(pilot: Pilot, app: WorkbenchApp, *texts: str, when: Callable[[], object] = lambda: True) -> None:
    """Wait until the frame shows each of ``texts`` and ``when()`` holds: the state the tour measures
    next is on screen (its data loaded by workers, its focus moved), whatever the machine's load."""

    def shown() -> bool:
        frame = screen_text(app) if when() else ""
        return bool(frame) and all(text in frame for text in texts)

    await wait_for(pilot, shown, what=f"a frame with {texts}")


def focused(app: WorkbenchApp, widget_id: str) -> Callable[[], bool]:
    """Whether the widget ``widget_id`` has the focus (its focused colours are what is measured)."""
    return lambda: app.focused is not None and app.focused.id == widget_id


def footer(app: WorkbenchApp) -> str:
    """The frame's last line: the keys, which change with the focus."""
    return screen_text(app).splitlines()[-1]


async def tour(pilot: Pilot, app: WorkbenchApp) -> AsyncIterator[str]:
    """Drive ``app`` through its screens and states; yields the name of each state once it is drawn."""
    await pilot.press("1")
    await drawn(pilot, app, "Datasets", "Samples of the test split", when=focused(app, "catalog"))
    yield "Data screen, the catalog focused"
    await pilot.press("tab")
    await drawn(pilot, app, when=lambda: focused(app, "details")() and "enter Use" not in footer(app))
    yield "Data screen, the details focused"
    await pilot.press("2")
    app.draft.set_layer_text(4, "in_features", "100")  # a broken layer: a red row and a problem line
    await drawn(pilot, app, "in=100 out=auto", "✗ model.layers.4", when=focused(app, "layers"))
    table = app.screen.query_one(DataTable)
    table.move_cursor(row=4)
    await drawn(pilot, app, when=lambda: table.cursor_row == 4)
    yield "Model screen, the cursor on a broken layer"
    app.draft.undo()
    await pilot.press("c")
    await drawn(pilot, app, "nn.Sequential", "✓ ready to train", when=focused(app, "code"))
    yield "Model screen, the code view"
    await pilot.press("c", "e")
    await drawn(pilot, app, "Layer 4: Linear", "in_features: input features", when=focused(app, "field-in_features"))
    yield "Layer editor"
    await pilot.press("tab")
    await drawn(pilot, app, "out_features: output features", when=focused(app, "field-out_features"))
    yield "Layer editor, the second field focused"
    await pilot.press("escape", "3")
    await drawn(pilot, app, "x: epoch · lr 0.1", "loss.name: loss function", when=focused(app, "field-name"))
    yield "Optimize screen"
    await pilot.press("enter")
    await drawn(pilot, app, "bce_with_logits", "esc Dismiss menu", when=lambda: isinstance(app.focused, SelectOverlay))
    yield "Optimize screen, a choice open"
    await pilot.press("escape", "tab")
    await drawn(pilot, app, "loss.label_smoothing: share", when=focused(app, "field-label_smoothing"))
    yield "Optimize screen, a field focused"
    app.action_show("runs")  # not the key 5: the focused field would take it
    await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen) and len(app.screen.shown) == 2)
    await pilot.press("m", "down")
    await drawn(pilot, app, "Marked. Highlight another run", "-first-run─", "Loss (log")  # the second row's chart
    yield "Runs screen, a run marked"
    await pilot.press("v")
    await drawn(pilot, app, "What differs (2 settings)", "Loss (log", when=lambda: isinstance(app.screen, CompareScreen))
    yield "Two runs compared"
    await pilot.press("escape", "enter")
    await drawn(pilot, app, "✓ test loss", "-first-run", "Finished after 3", "1 *    1.0000")
    yield "Train screen, showing a finished run"
    await pilot.hover("FooterKey", offset=(1, 0))
    await drawn(pilot, app, "Start training the experiment in a", when=lambda: app.screen.query_one(Tooltip).display)
    yield "A key's tooltip"
    await pilot.press("question_mark")
    await drawn(pilot, app, "Everywhere", "Data screen (1)")
    yield "Help"
    await pilot.press("escape", "ctrl+o", *"digits")  # presets and runs of digits: more presets than rows without it
    await drawn(pilot, app, "Open an experiment", "preset      digits-cnn", "-first-run")
    yield "Open dialog"
    await pilot.press("escape")
    for severity in ("information", "warning", "error"):
        app.notify(f"A {severity} toast", title=severity.title(), severity=severity)
    await drawn(pilot, app, "A information toast", "A warning toast", "A error toast")
    assert len(app.screen.query(Toast)) == 3
    yield "Toasts"
    app.clear_notifications()
    await pilot.press("ctrl+p", "s", "a")
    await drawn(pilot, app, ">  sa", "Save as preset", "key ctrl+s")
    yield "Command palette"


async def problems_of_the_tour(app: WorkbenchApp) -> list[Problem]:
    problems: list[Problem] = []
    async with app.run_test(size=SIZE, tooltips=True, notifications=True) as pilot:
        async for where in tour(pilot, app):
            problems += problems_on_screen(app, where)
    return problems


@pytest.mark.slow  # a tour of every screen and dialog, in both palettes
@pytest.mark.parametrize("no_color", [False, True], ids=["colours", "NO_COLOR"])
async def test_every_text_on_every_screen_reads_at_4_5_to_1_and_at_3_to_1_with_16_colours(
    fixed_app: Callable[..., WorkbenchApp], monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    recorded_run("first-run")
    recorded_run("second-run", lr=0.1)
    problems = await problems_of_the_tour(fixed_app(start="data"))
    assert not problems, "\n".join(map(str, problems))


async def test_with_no_color_the_selected_row_stands_out_and_the_footer_keys_are_bold(
    fixed_app: Callable[..., WorkbenchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_COLOR turns every colour into its grey: the selected row must still differ from the rows
    around it (in 16 colours too, where the darkest greys are all one black)."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = fixed_app(start="data")
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot, app, "Datasets", when=focused(app, "catalog"))
        catalog = app.screen.query_one(OptionList)
        assert catalog.highlighted is not None
        row = catalog.region.y + catalog.highlighted - round(catalog.scroll_y)
        rows = list(app.screen._compositor.render_strips())
    x = catalog.region.x + 2  # inside the option's text, left of the scrollbar

    def background_at(y: int) -> RGB:
        style = next(iter(rows[y].crop(x, x + 1))).style
        assert style is not None and style.bgcolor is not None
        return style.bgcolor.get_truecolor()

    for segment in rows[row]:
        if segment.text.strip():
            foreground, background = colours(segment.style)  # type: ignore[arg-type]
            assert len(set(foreground)) == len(set(background)) == 1, f"NO_COLOR left a colour: {segment}"
    for terminal in TERMINALS:
        selected = terminal.shows(background_at(row))
        assert selected != terminal.shows(background_at(row + 1)), terminal.name
        assert selected != terminal.shows(background_at(row - 1)), terminal.name
    footer = [segment.style for segment in rows[-1] if segment.text.strip() and segment.style is not None]
    assert {bool(style.bold) for style in footer} == {True, False}, "keys in bold, their descriptions not"


@pytest.mark.parametrize("name", ["red", "green", "yellow", "blue", "magenta", "cyan", "white"])
@pytest.mark.parametrize("bright", [False, True], ids=["normal", "bright"])
def test_rich_colour_names_read_on_every_background_and_on_the_selected_row(name: str, bright: bool) -> None:
    """The code writes Rich colour names (``"green"``, ``"bold red"``, the charts' ``"bright_cyan"``)
    that may land on any background, the selected row's included (an option list keeps them there).

    On the selected row, xterm's 16-colour palette is left out: its red (#ff0000) and magenta on
    its blue (#0000ee) stay under 3:1 whatever colours the theme picks (PuTTY's reach 3.9:1)."""
    number = RichColor.parse(name).number
    assert number is not None
    colour = WORKBENCH_ANSI.ansi_colors[number + 8 * bright]
    backgrounds = {BACKGROUND: TERMINALS, SURFACE: TERMINALS, PANEL: TERMINALS, CURSOR_BLURRED: TERMINALS}
    backgrounds[CURSOR] = tuple(terminal for terminal in TERMINALS if terminal.name != "16 colours (xterm)")
    for background, terminals in backgrounds.items():
        behind = RichColor.parse(background).get_truecolor()
        for terminal in terminals:
            ratio = contrast_ratio(terminal.shows(colour), terminal.shows(behind))
            assert ratio >= terminal.text_bar, f"{name} on {background}: {ratio:.2f}:1 in {terminal.name}"


@pytest.mark.parametrize("level", range(5))
@pytest.mark.parametrize("ramp", [GREENS, REDS], ids=["right", "mistakes"])
def test_the_confusion_matrix_counts_read_on_their_cells(ramp: tuple[int, ...], level: int) -> None:
    """Counts are written on every shade of the heat map (the 256-colour palette's greens and reds)."""
    style = _cell_style((level + 0.5) / len(ramp), diagonal=ramp is GREENS, worst=1.0)
    assert style.bgcolor is not None and style.bgcolor.number == ramp[level]
    foreground, background = colours(style)
    assert contrast_ratio(foreground, background) >= 4.5
