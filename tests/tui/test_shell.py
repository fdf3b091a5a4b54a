"""The shell: five screens on number keys, help, palette, header, save, open and quit."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest
from textual.widget import Widget
from textual.widgets import Input, OptionList
from textual.widgets._footer import FooterKey

from workbench.errors import WorkbenchError
from workbench.experiment.presets import load_experiment, read_experiment
from workbench.paths import runs_dir, user_presets_dir
from workbench.runs.folder import RunDir
from workbench.runs.store import create_run
from workbench.scheduling.plan import LaunchPlan
from workbench.schema import config as config_io
from workbench.tui.app import WorkbenchApp
from workbench.tui.commands import palette_commands
from workbench.tui.main_screens import SCREENS
from workbench.tui.screens.dialogs import ConfirmScreen, OpenScreen, ProblemsScreen, QuitWithRunsScreen, SaveScreen
from workbench.tui.screens.help import HelpScreen
from workbench.tui.widgets.bars import KeysFooter, StatusBar

from ..processes import hold_lock
from .helpers import SIZE, fixed_experiment, screen_text, wait_for
from .runs import recorded_run


async def test_number_keys_switch_between_the_five_screens(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        for mode, title, key, _location in (*SCREENS[1:], SCREENS[0]):
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
            assert f"{key} {title}" in screen_text(app).splitlines()[0]


@pytest.mark.slow  # a soak: rounds of every screen
async def test_switching_screens_again_and_again_keeps_no_more_footer_keys(fixed_app: Callable[..., WorkbenchApp]) -> None:
    """Textual's footer kept every key it ever removed (a watcher each): a long session grew without end."""
    app = fixed_app()

    async def footer_keys_after(rounds: int) -> int:
        for _ in range(rounds):
            for _mode, _title, key, _location in SCREENS:
                await pilot.press(key)
                await pilot.pause()
        gc.collect()
        return sum(isinstance(o, FooterKey) for o in gc.get_objects())

    async with app.run_test(size=SIZE) as pilot:
        settled = await footer_keys_after(2)
        assert await footer_keys_after(4) == settled  # it grew by about 60 keys a round before


async def test_the_footer_is_rebuilt_only_when_the_keys_it_shows_change(
    fixed_app: Callable[..., WorkbenchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Showing a screen changes its bindings several times (focus, a table filled, keys enabled),
    and each change rebuilt every key of the footer, the same keys again: 0.1 s of the Runs
    screen's first showing."""
    rebuilt: list[tuple[str, ...]] = []
    recompose = Widget.recompose

    async def counted(widget: Widget) -> None:
        await recompose(widget)
        if isinstance(widget, KeysFooter):
            rebuilt.append(tuple(f"{k.key}:{k.description}:{k.disabled}" for k in widget.query(FooterKey)))

    monkeypatch.setattr(Widget, "recompose", counted)
    recorded_run("one", val_acc=(0.5,))
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        for key in "5151":
            await pilot.press(key)
            await wait_for(pilot, lambda runs_shown=key == "5": ("Mark" in screen_text(app).splitlines()[-1]) == runs_shown)
            await pilot.pause()
        assert rebuilt and all(before != after for before, after in zip(rebuilt, rebuilt[1:], strict=False))
        assert len(rebuilt) <= 6, rebuilt  # 2 for the Runs screen's first showing (its keys enabled once listed), 1 a switch


async def test_a_screen_shown_again_has_the_styles_of_a_theme_chosen_meanwhile(fixed_app: Callable[..., WorkbenchApp]) -> None:
    """A screen shown again is not restyled as a whole (that was most of a switch's time); a
    theme chosen while it was hidden still reaches every widget on it."""
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        data = app.screen
        await pilot.press("2")
        await pilot.pause()
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        model_bar = app.screen.query_one(StatusBar).styles.background
        await pilot.press("1")
        await pilot.pause()
        assert app.screen is data
        assert data.query_one(StatusBar).styles.background == model_bar


async def test_a_screen_first_shown_after_a_theme_change_has_its_styles_without_restyling_the_app(
    fixed_app: Callable[..., WorkbenchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual re-read every CSS source and restyled every node of every screen when a main
    screen was first built: the Runs screen built ahead did it under the screen in use (0.1 s of
    the main thread on the Optimize screen). A screen built now takes the styles of now."""
    restyled: list[str] = []
    refresh_css = WorkbenchApp.refresh_css

    def counted(self: WorkbenchApp, animate: bool = True) -> None:
        restyled.append(self.current_mode)
        refresh_css(self, animate)

    monkeypatch.setattr(WorkbenchApp, "refresh_css", counted)
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        before = app.screen.query_one(StatusBar).styles.background
        restyled.clear()  # the app's start (its theme set)
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        themed = app.screen.query_one(StatusBar).styles.background
        assert themed != before and restyled == ["data"]  # a theme chosen restyles all: that stays
        for key in "2345":
            await pilot.press(key)
            await wait_for(pilot, lambda: app.screen.query(StatusBar), what="the screen's status bar")
            assert app.screen.query_one(StatusBar).styles.background == themed, app.current_mode
        assert restyled == ["data"]


async def test_the_screen_tabs_in_the_top_bar_take_a_mouse_click(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        top = screen_text(app).splitlines()[0]
        await pilot.click(offset=(top.index("3 Optimize") + 1, 0))
        await pilot.pause()
        assert app.current_mode == "optimize"


async def test_number_keys_type_into_a_text_field_and_escape_gives_them_back(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        field = app.screen.query_one("#optimizer-form #field-lr", Input)
        field.focus()
        await pilot.press("end", "2")
        await pilot.pause()
        assert app.current_mode == "optimize"
        assert field.value == "0.12"
        await pilot.press("escape", "2")
        await pilot.pause()
        assert app.current_mode == "model"


async def test_the_header_shows_the_name_and_unsaved_changes(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        top = screen_text(app).splitlines()[0]
        assert "fixed-digits" in top and "unsaved" not in top
        await pilot.press("d")  # delete the first layer
        await pilot.pause()
        assert "● unsaved" in screen_text(app).splitlines()[0]
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert "unsaved" not in screen_text(app).splitlines()[0]


async def test_help_lists_the_keys_of_every_screen(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = "\n".join(str(row) for row in _help_rows(app.screen))
        for mode, _title, _key, _location in SCREENS:
            for binding in app.screen_bindings(mode):
                assert (binding.tooltip or binding.description) in listed
        for binding in app.BINDINGS:
            assert binding.description in listed
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


def _help_rows(help_screen: HelpScreen) -> list[str]:
    from workbench.tui.screens.help import key_table

    table = key_table(help_screen.sections)
    return [str(cell) for column in table.columns for cell in column._cells]


@pytest.mark.slow  # a tour: every screen and every action of each
async def test_the_palette_reaches_every_screen_and_every_screen_action(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        titles = [c.title for c in palette_commands(app)]
        for mode, title, _key, _location in SCREENS:
            assert f"Go to {title}" in titles
            for binding in app.screen_bindings(mode):
                assert f"{title}: {binding.tooltip or binding.description}" in titles
        assert "Save as preset" in titles and "Open preset or run" in titles
        assert titles.count("Quit") == 1  # q and ctrl+q are one command
        helps = [c.help for c in palette_commands(app)]
        assert "key !" in helps and "key / on the Runs screen" in helps  # keys as typed, not their names
        assert not [h for h in helps if "_mark" in h or "slash" in h]
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"model: add a layer")
        await wait_for(pilot, lambda: "Model: Add a layer" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_mode == "model" and type(app.screen).__name__ == "LayerPicker")


async def test_ctrl_s_saves_a_preset_that_loads(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="optimize")
    async with app.run_test(size=SIZE) as pilot:
        app.draft.set_text("train.epochs", "3")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SaveScreen)
        description = app.screen.query_one("#description", Input)
        assert description.value == ""  # the edited experiment is not what the old line says
        assert "was: a small CNN, defined by the test" in description.placeholder
        app.screen.query_one("#name", Input).value = "my-digits"
        description.value = "three epochs only"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, SaveScreen)
        assert "my-digits" in screen_text(app).splitlines()[0]
        assert not app.draft.dirty
    saved = user_presets_dir() / "my-digits.toml"
    assert saved.is_file()
    loaded = load_experiment("my-digits")  # what `workbench describe my-digits` reads
    assert loaded.name == "my-digits" and loaded.description == "three epochs only"
    assert loaded.train.epochs == 3
    assert loaded.model == app.draft.config.model


async def test_a_bad_preset_name_is_refused_in_the_dialog(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one("#name", Input).value = "no/slashes"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SaveScreen)
        assert "not a usable preset name" in screen_text(app)
        assert not any(user_presets_dir().glob("*.toml")) if user_presets_dir().is_dir() else True


async def test_ctrl_o_opens_the_config_of_a_past_run(fixed_app: Callable[..., WorkbenchApp]) -> None:
    run = runs_dir() / "20250101-120000-spirals"
    experiment = read_experiment("spirals-mlp")
    experiment.train.epochs = 5
    config_io.write(experiment, run / "config.toml")
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, OpenScreen)
        await pilot.press(*"20250101")
        await pilot.pause()
        assert app.screen.query_one(OptionList).option_count == 1
        await pilot.press("enter")
        await pilot.pause()
        assert app.draft.config.data.dataset == "spirals"
        assert app.draft.config.train.epochs == 5
        assert app.draft.source == "run 20250101-120000-spirals"


async def test_opening_over_unsaved_changes_asks_first(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        app.draft.set_text("train.epochs", "3")
        app.open_preset("spirals-mlp")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.draft.name == "fixed-digits"
        app.open_preset("spirals-mlp")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.draft.name == "spirals-mlp"


async def test_problems_are_summarised_and_listed_and_lead_to_their_field(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        assert "✓ ready to train" in screen_text(app)
        app.draft.set_layer_text(4, "in_features", "100")
        await pilot.pause()
        status = screen_text(app).splitlines()[-2]
        assert "✗ 1 problem (! shows it): model.layers.4" in status
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "model"
        assert app.screen.table.cursor_row == 4


def _live_run() -> tuple[RunDir, subprocess.Popen[str]]:
    """A run that a live process (a stand-in trainer holding its lock) trains."""
    run = create_run(fixed_experiment())
    holder = hold_lock(run)
    run.update_status(state="running")
    return run, holder


@pytest.mark.slow
async def test_quitting_while_a_run_trains_says_it_keeps_training_and_stopping_it_is_a_separate_choice(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    run, holder = _live_run()
    try:
        app = fixed_app()
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: len(app.runs.live()) == 1)
            await pilot.press("q")
            await wait_for(pilot, lambda: isinstance(app.screen, QuitWithRunsScreen))
            assert f"Run {run.id} keeps training after you quit" in screen_text(app)
            await pilot.press("n")
            await pilot.pause()
            assert app.is_running and not isinstance(app.screen, QuitWithRunsScreen)
            await pilot.press("q")
            await wait_for(pilot, lambda: isinstance(app.screen, QuitWithRunsScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: not app.is_running)
        assert holder.poll() is None and run.state() == "running"  # nothing was sent to the run
        assert app.goodbye[0] == f"{run.id} keeps training: workbench attach {run.id}"
        assert app.return_code == 0

        app = fixed_app()
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: len(app.runs.live()) == 1)
            await pilot.press("q")
            await wait_for(pilot, lambda: isinstance(app.screen, QuitWithRunsScreen))
            await pilot.press("s")
            await wait_for(pilot, lambda: not app.is_running)
        assert holder.wait(timeout=30) == -signal.SIGTERM  # the stop request reached the run's process
    finally:
        holder.kill()
        holder.wait()


async def test_q_quits_at_once_when_nothing_would_be_lost(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


@pytest.mark.slow  # a tour: every screen and dialog
async def test_every_screen_and_dialog_renders_at_80x24(preset_app: Callable[..., WorkbenchApp]) -> None:
    app = preset_app("digits-cnn")
    async with app.run_test(size=SIZE) as pilot:
        for _mode, title, key, _location in SCREENS:
            await pilot.press(key)
            await pilot.pause()
            lines = screen_text(app).splitlines()
            # The top bar names the screen and the footer's keys are still on the last row: the
            # body fits between them at 80x24 instead of pushing them off.
            assert f"{key} {title}" in lines[0] and "Help" in lines[-1] and "Quit" in lines[-1]
            assert "Traceback" not in "\n".join(lines)
        for key in ("question_mark", "ctrl+o", "ctrl+s"):
            await pilot.press(key)
            await pilot.pause()
            assert "Traceback" not in screen_text(app)
            await pilot.press("escape")
            await pilot.pause()
        # Every worker's work done (data, pictures, torch), but the one that follows runs for as long as the
        # app lives (an empty list would mean "all workers" to Textual).
        pending = [w for w in app.workers if w.group != "follow-runs"]
        if pending:
            await app.workers.wait_for_complete(pending)
    assert app.return_code in (None, 0)


# 60x20 in the quick suite (the keys left out); 80x24 in the slow one.
@pytest.mark.parametrize("size", [(60, 20), pytest.param((80, 24), marks=pytest.mark.slow)])
async def test_the_footer_leaves_out_keys_that_do_not_fit_and_never_cuts_one(
    fixed_app: Callable[..., WorkbenchApp], size: tuple[int, int]
) -> None:
    """At 60 columns Textual's footer scrolled its last keys out of sight, cut mid-word ("q Qu");
    the keys that do not fit are left out instead (the help lists them), help and quit stay."""
    app = fixed_app()
    async with app.run_test(size=size) as pilot:
        for _mode, _title, key, _location in SCREENS:
            await pilot.press(key)
            await pilot.pause()
            footer = screen_text(app).splitlines()[-1].rstrip()
            assert footer.endswith("? Help q Quit"), footer
        await pilot.resize_terminal(200, 30)
        await pilot.pause()
        assert "o Sort ^z^y Undo ? Help q Quit" in screen_text(app).splitlines()[-1]  # all back when there is room


@pytest.mark.slow
def test_importing_the_app_does_not_import_torch() -> None:
    code = "import sys, workbench.tui.app, workbench.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.slow
def test_the_first_frame_needs_neither_numpy_nor_the_charts() -> None:
    """What `workbench` imports before its first frame (the CLI, the app, the Data screen) and
    validating the draft load no numpy (about 0.1 s on a small machine) and no chart widgets."""
    code = (
        "import sys, workbench.cli, workbench.tui.app, workbench.tui.setup.data\n"
        "workbench.cli.build_parser()\n"
        "workbench.tui.app.build_app('digits-cnn').draft.problems\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'textual_plot', 'sklearn')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


async def test_a_failing_background_task_is_one_line_in_a_notification_and_the_app_goes_on(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    """Workers do not catch errors themselves: the one Worker.StateChanged handler says what failed."""
    app = fixed_app(start="train")

    message = "the data folder /tmp/[/]weird is gone"  # user text: never read as markup

    def refuse() -> LaunchPlan:
        raise WorkbenchError(message)

    async with app.run_test(size=SIZE) as pilot:
        app.start_run(refuse, "Starting")
        await wait_for(pilot, lambda: any(note.message == message for note in app._notifications))
        failed = next(note for note in app._notifications if note.message == message)
        assert failed.title == "The run could not start" and failed.severity == "error" and not failed.markup
        await pilot.pause()
        assert app.is_running and app.runs.shown is None and "Traceback" not in screen_text(app)


@pytest.mark.slow  # a tour: every screen
async def test_names_and_descriptions_holding_markup_show_as_themselves_on_every_screen() -> None:
    """User text is never markup: "[/]" in a run's name crashed the Runs screen, in a choice the
    Optimize form, in a description the Open dialog (each a MarkupError traceback)."""
    from workbench.experiment.draft import Draft

    odd = "ev[/]il [bold]x"
    recorded_run(odd)
    experiment = fixed_experiment()
    experiment.name, experiment.description = odd, "a [/] b [link=file:///etc]c"
    experiment.loss.name = "cross[/]entropy"  # an unknown choice, shown as "(unknown)"
    app = WorkbenchApp(Draft(experiment, source="test"), start="data")
    async with app.run_test(size=SIZE) as pilot:
        for _mode, _title, key, _location in SCREENS:
            await pilot.press(key)
            await pilot.pause()
            assert odd in screen_text(app).splitlines()[0]
        await wait_for(pilot, lambda: odd in screen_text(app))  # the Runs screen lists the run
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: "Open an experiment" in screen_text(app))
        await pilot.press("escape", "3")
        await wait_for(pilot, lambda: "cross[/]entr" in screen_text(app))  # the select is narrow
        assert app.is_running and "Traceback" not in screen_text(app)


async def test_a_dataset_not_downloaded_yet_is_said_beside_ready_to_train(fixed_app: Callable[..., WorkbenchApp]) -> None:
    """'✓ ready to train' alone for MNIST on a fresh machine hid that a run would fetch 11 MB
    first (and could not start offline)."""
    app = fixed_app(start="optimize")
    async with app.run_test(size=(120, 24)) as pilot:
        app.draft.set_dataset("mnist")
        await pilot.pause()
        assert not app.draft.problems
        assert "✓ ready to train; mnist downloads first (11.6 MB; D on screen 1 now)" in screen_text(app)
