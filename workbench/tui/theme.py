"""Workbench's colours: a Textual theme, and the palette behind Rich's colour names.

Textual's default theme left text hard to read: the selected dataset at 1.22:1, chart labels at
2.66:1, panel titles at about 2.1:1 (WCAG asks 4.5:1 for text), and on a 16-colour terminal
(``TERM=xterm``, PuTTY's default) the footer keys at 1.0:1. Every colour here is chosen so that
text keeps 4.5:1 on each background it is drawn on, in true colour and in the 256 colours that
Rich falls back to, and at least 3:1 on a 16-colour terminal (PuTTY's palette or xterm's).

How the values get there:

- The backgrounds (background, surface, panel, under the bars and the footer) are dark neutral
  greys that 16-colour terminals show as black (Rich maps each colour to its nearest of the 16;
  Textual's blue-tinted panel became dark grey there, under a grey-red footer).
- Text colours are entries of the xterm 256-colour cube or grey ramp, so that the 256-colour
  downgrade (which rounds each channel) does not shift them, and bright enough to map to a
  bright ANSI colour (or white) on a 16-colour terminal.
- The selected row (block cursor) is navy: 256 colours show it as #000087 and 16 as blue, with
  white, green, yellow and cyan text on it readable everywhere (red and magenta on xterm's
  16-colour blue stay under 3:1 whatever the theme; no selectable row is written in them).
- Rich colour names in the code (``"green"``, ``"bold red"``, the charts' ``"bright_cyan"``, the
  code view's syntax colours) are drawn through :data:`WORKBENCH_ANSI` (Textual converts them
  to true colour with the app's ANSI theme), so they obey the same rules.
- With ``NO_COLOR`` Textual turns every colour into its grey, and the navy of the selected row
  would be the grey of the panels; :data:`WORKBENCH_NO_COLOR_THEME` gives it a lighter grey, one
  that 16-colour terminals show as dark grey rather than black.

``tests/tui/test_contrast.py`` renders the screens and checks every piece of text against these bars.
"""

from __future__ import annotations

from dataclasses import replace

from rich.segment import Segment
from rich.terminal_theme import TerminalTheme
from textual.color import Color
from textual.filter import Monochrome, monochrome_style
from textual.theme import Theme

#: The page and the darkest panels.
BACKGROUND = "#121212"
#: Dialogs, inputs and the help.
SURFACE = "#1c1c1c"
#: The top bar, the status bar and the footer.
PANEL = "#262626"
FOREGROUND = "#e4e4e4"
#: Headings, footer keys and the focused list's edge.
ACCENT = "#ffd75f"
#: Focus borders, scrollbars, the active tab.
PRIMARY = "#5f87d7"
SUCCESS = "#5fd75f"
ERROR = "#ff8787"
#: The selected row of the focused list or table.
CURSOR = "#1b2b8f"
#: The selected row of a list or table without focus.
CURSOR_BLURRED = "#1c1c3a"

WORKBENCH_THEME = Theme(
    name="workbench",
    primary=PRIMARY,
    secondary="#87afd7",
    accent=ACCENT,
    warning=ACCENT,
    error=ERROR,
    success=SUCCESS,
    foreground=FOREGROUND,
    background=BACKGROUND,
    surface=SURFACE,
    panel=PANEL,
    dark=True,
    variables={
        # Textual's 60% and 38% of white fall under 4.5:1 on the panels.
        "text-muted": "auto 70%",
        "text-disabled": "auto 60%",
        "block-cursor-background": CURSOR,
        "block-cursor-foreground": "#ffffff",
        "block-cursor-blurred-background": CURSOR_BLURRED,
        "block-cursor-blurred-foreground": FOREGROUND,
        "footer-key-foreground": ACCENT,
        "footer-description-foreground": FOREGROUND,
        "input-selection-background": CURSOR,
        "input-selection-foreground": "#ffffff",
        "screen-selection-background": CURSOR,
        "screen-selection-foreground": "#ffffff",
    },
)

#: The selected row with ``NO_COLOR``, where every colour is shown as its grey: lighter than the
#: panels in every terminal, dark enough for the greys of white and coloured text on it.
CURSOR_NO_COLOR = "#444444"

#: The same colours for ``NO_COLOR`` (Textual's Content widgets ignore ``reverse`` in the cursor's
#: text style, so the selected row stands out by its grey alone).
WORKBENCH_NO_COLOR_THEME = replace(
    WORKBENCH_THEME, name="workbench-no-color", variables=WORKBENCH_THEME.variables | {"block-cursor-background": CURSOR_NO_COLOR}
)

#: How Rich's colour names look (normal, then bright: black, red, green, yellow, blue, magenta,
#: cyan, white); every one but black reads at 4.5:1 or more on the backgrounds and the cursor.
WORKBENCH_ANSI = TerminalTheme(
    (0x12, 0x12, 0x12),
    (0xE4, 0xE4, 0xE4),
    [
        (0x00, 0x00, 0x00),
        (0xFF, 0x87, 0x87),
        (0x5F, 0xD7, 0x5F),
        (0xFF, 0xD7, 0x5F),
        (0x87, 0xAF, 0xFF),
        (0xD7, 0x87, 0xFF),
        (0x5F, 0xD7, 0xFF),
        (0xD0, 0xD0, 0xD0),
    ],
    [
        (0x94, 0x94, 0x94),
        (0xFF, 0xAF, 0xAF),
        (0x87, 0xFF, 0x87),
        (0xFF, 0xFF, 0x87),
        (0xAF, 0xD7, 0xFF),
        (0xFF, 0xAF, 0xFF),
        (0x87, 0xFF, 0xFF),
        (0xFF, 0xFF, 0xFF),
    ],
)


class NoColorFilter(Monochrome):
    """Textual's ``NO_COLOR`` filter (every colour to its grey), but it lets segments without a
    style through: textual-plot's canvas draws a line of an empty canvas as one, and Textual's own
    filter failed on it, closing the app as the Optimize screen's chart was laid out."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [Segment(text, None if style is None else monochrome_style(style)) for text, style, _ in segments]


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG 2's relative luminance of an sRGB colour (0 for black, 1 for white)."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = rgb
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast_ratio(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """WCAG 2's contrast ratio of two colours, from 1 (the same) to 21 (black and white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
