"""The private names of Textual and textual-plot that Workbench relies on, checked by name and shape.

Private names change without notice in any release, and a change shows up far from its cause (a
key that no longer acts, an app that will not start under NO_COLOR, a leak back). pyproject.toml
caps both dependencies below their next minor release; to move a cap, install the new release and
run this file: each failure names the private API, the release, and the file of ours that uses it.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from textual import events
from textual.app import App
from textual.filter import LineFilter, Monochrome
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static


def parameters(function: Callable[..., object]) -> list[str]:
    return list(inspect.signature(function).parameters)


def check_bindings() -> None:
    assert inspect.iscoroutinefunction(App._check_bindings), "no longer a coroutine"
    assert parameters(App._check_bindings) == ["self", "key", "priority"], parameters(App._check_bindings)


def input_on_key() -> None:
    assert "_on_key" in vars(Input), "Input no longer handles keys in _on_key"
    assert parameters(Input._on_key) == ["self", "event"], parameters(Input._on_key)


def app_filters() -> None:
    filters = vars(App())["_filters"]
    assert isinstance(filters, list) and all(isinstance(f, LineFilter) for f in filters), filters


def screen_resume() -> None:
    assert parameters(Screen._on_screen_resume) == ["self", "event"], parameters(Screen._on_screen_resume)
    assert events.ScreenResume().refresh_styles is True, "ScreenResume.refresh_styles"


def widget_on_mount() -> None:
    assert parameters(Widget._on_mount) == ["self", "event"], parameters(Widget._on_mount)


def footer_internals() -> None:
    from textual.widgets._footer import FooterKey, FooterLabel

    assert issubclass(FooterKey, Widget) and issubclass(FooterLabel, Widget)
    assert "_bindings_ready" in Footer._reactives, "Footer._bindings_ready is no longer a reactive"
    assert parameters(Footer.bindings_changed) == ["self", "screen"], parameters(Footer.bindings_changed)


def select_overlay() -> None:
    from textual.widgets._select import SelectOverlay

    assert issubclass(SelectOverlay, Widget)


async def watchers_attribute() -> None:
    """KeysFooter prunes the watchers Textual keeps in a node's "__watchers" attribute, a dict of
    lists of (watching node, callback), by the watching node's ``_closing``."""
    app = App()
    async with app.run_test():
        watcher = Static()
        await app.mount(watcher)
        watcher.watch(app, "theme", lambda: None, init=False)
        watchers = getattr(app, "__watchers")
        assert isinstance(watchers, dict), type(watchers)
        assert any(node is watcher for node, _callback in watchers["theme"]), watchers["theme"]
        assert watcher._closing is False


async def init_mode() -> None:
    """The app builds a mode's screen ahead of its first showing (App._init_mode), which a
    later switch_mode shows as it is (App._screen_stacks holds it)."""

    class Two(App[None]):
        MODES = {"one": Screen, "two": Screen}  # noqa: RUF012

    app = Two()
    async with app.run_test():
        await app.switch_mode("one")
        assert parameters(App._init_mode) == ["self", "mode"], parameters(App._init_mode)
        app._init_mode("two")
        (built,) = app._screen_stacks["two"]
        await app.switch_mode("two")
        assert app.screen is built


async def css_update_count() -> None:
    """A mode's screen stamped with the app's App._css_update_count (Screen._css_update_count)
    is built by App._init_mode without App.refresh_css; one left unstamped is restyled with the
    whole app, which the stamp is there to spare."""
    restyled: list[str] = []

    def stamped() -> Screen:
        screen = Screen()
        screen._css_update_count = screen.app._css_update_count
        return screen

    class Two(App[None]):
        MODES = {"one": Screen, "stamped": stamped, "unstamped": Screen}  # noqa: RUF012

        def refresh_css(self, animate: bool = True) -> None:
            restyled.append(self.current_mode)
            super().refresh_css(animate)

    app = Two()
    async with app.run_test():
        await app.switch_mode("one")
        restyled.clear()
        app._init_mode("stamped")
        assert restyled == [], "a stamped screen was restyled with the app"
        app._init_mode("unstamped")
        assert restyled, "an unstamped screen is no longer restyled with the app: the stamp is not needed"


def map_coordinate_to_pixel() -> None:
    from textual_plot.plot_widget import map_coordinate_to_pixel

    expected = ["x", "y", "xmin", "xmax", "ymin", "ymax", "region"]
    assert parameters(map_coordinate_to_pixel) == expected, parameters(map_coordinate_to_pixel)


@dataclass(frozen=True)
class PrivateUse:
    api: str  # as the dependency spells it
    package: str  # its distribution, whose version the failure names
    user: str  # the file of ours that relies on it
    check: Callable[[], None | Awaitable[None]]  # raises when the API is gone or has another shape


USES = [
    PrivateUse("App._check_bindings(key, priority)", "textual", "workbench/tui/widgets/text_field.py", check_bindings),
    PrivateUse("Input._on_key(event)", "textual", "workbench/tui/widgets/text_field.py", input_on_key),
    PrivateUse("App._filters (a list of LineFilter)", "textual", "workbench/tui/app.py", app_filters),
    PrivateUse("Screen._on_screen_resume(event)", "textual", "workbench/tui/screens/base.py", screen_resume),
    PrivateUse("Widget._on_mount(event)", "textual", "workbench/tui/widgets/progress.py", widget_on_mount),
    PrivateUse("textual.widgets._footer, Footer._bindings_ready", "textual", "workbench/tui/widgets/bars.py", footer_internals),
    PrivateUse('DOMNode "__watchers", MessagePump._closing', "textual", "workbench/tui/widgets/bars.py", watchers_attribute),
    PrivateUse("App._init_mode(mode), App._screen_stacks", "textual", "workbench/tui/app.py", init_mode),
    PrivateUse("Screen._css_update_count, App._css_update_count", "textual", "workbench/tui/app.py", css_update_count),
    PrivateUse("textual.widgets._select.SelectOverlay", "textual", "workbench/tui/widgets/param_form.py", select_overlay),
    PrivateUse(
        "textual_plot.plot_widget.map_coordinate_to_pixel",
        "textual-plot",
        "workbench/tui/widgets/axes.py",
        map_coordinate_to_pixel,
    ),
]


@pytest.mark.parametrize("use", USES, ids=[use.api for use in USES])
async def test_a_private_api_workbench_uses_is_still_there_with_its_shape(use: PrivateUse) -> None:
    try:
        outcome = use.check()
        if inspect.isawaitable(outcome):
            await outcome
    except (AssertionError, AttributeError, ImportError, KeyError, TypeError, ValueError) as error:
        version = importlib.metadata.version(use.package)
        pytest.fail(f"{use.package} {version} changed the private API {use.api}, which {use.user} uses: {error!r}")


def test_the_no_color_filter_workbench_replaces_is_textuals_monochrome(monkeypatch: pytest.MonkeyPatch) -> None:
    """app.py swaps the Monochrome filter Textual adds under NO_COLOR for one that does not crash;
    if Textual added another filter class, the swap would find nothing to replace."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("TEXTUAL_FILTERS", raising=False)
    assert any(type(f) is Monochrome for f in vars(App())["_filters"]), "App._filters under NO_COLOR holds no Monochrome"
