"""The Model screen: the layer table follows every edit; a broken stack is shown, not fatal."""

from __future__ import annotations

from collections.abc import Callable

from rich.syntax import Syntax
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Static

from workbench.model.codegen import model_source
from workbench.tui.app import WorkbenchApp
from workbench.tui.setup.layer_dialogs import GroupDialog, LayerEditor, LayerPicker, PresetModelPicker

from .helpers import SIZE, screen_text, wait_for


def _row(app: WorkbenchApp, index: int) -> list[str]:
    table = app.screen.query_one("#layers", DataTable)
    return [str(cell) for cell in table.get_row_at(index)]


async def _edit_highlighted_layer(pilot: Pilot, app: WorkbenchApp, param: str, text: str) -> None:
    """Open the layer editor on the highlighted layer (``e``) and type ``text`` into ``param``."""
    await pilot.press("e")
    await pilot.pause()
    assert isinstance(app.screen, LayerEditor)
    field = app.screen.query_one(f"#field-{param}", Input)
    field.focus()
    field.value = text
    await pilot.pause()


def _totals(app: WorkbenchApp) -> str:
    return str(app.screen.query_one("#totals", Static).render())


async def test_editing_a_layer_updates_its_shape_the_next_layers_and_the_totals(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        assert _row(app, 0)[4] == "8x8x8"
        assert "5 layers · 1,370 params" in _totals(app)
        await _edit_highlighted_layer(pilot, app, "out_channels", "16")  # the cursor starts on the Conv2d
        assert "→ output 16x8x8 · 160 params" in str(app.screen.query_one("#preview", Static).render())
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, LayerEditor)
        assert _row(app, 0)[4] == "16x8x8"
        assert _row(app, 4)[3] == "in=256 out=10"  # the Linear's input follows
        assert "2,730 params" in _totals(app)


async def test_an_edit_that_breaks_the_stack_is_shown_and_the_draft_stays_editable(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        app.screen.table.move_cursor(row=4)
        await pilot.press("e")
        await pilot.pause()
        field = app.screen.query_one("#field-in_features", Input)
        field.value = "100"
        await pilot.pause()
        assert "✗" in str(app.screen.query_one("#preview", Static).render())
        await pilot.press("enter")  # applying a breaking edit is allowed: it is shown, not lost
        await pilot.pause()
        error_line = str(app.screen.query_one("#stack-error", Static).render())
        assert error_line.startswith("✗ model.layers.4") and "100" in error_line
        assert _row(app, 4)[4] == "?"
        assert "✗ 1 problem" in screen_text(app)
        # still editable: undo brings the working stack back
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert str(app.screen.query_one("#stack-error", Static).render()) == ""
        assert _row(app, 4)[4] == "10"
        assert app.draft.problems == []


async def test_a_value_the_layer_does_not_take_is_flagged_and_not_applied(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        await _edit_highlighted_layer(pilot, app, "out_channels", "0")
        assert "0 is not allowed" in str(app.screen.query_one("#preview", Static).render())
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LayerEditor)  # not applied; the editor stays open
        await pilot.press("escape")
        await pilot.pause()
        assert app.draft.config.model.layers[0].params["out_channels"] == 8
        assert not app.draft.dirty


async def test_adding_a_layer_inserts_it_after_the_cursor(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        app.screen.table.move_cursor(row=3)  # Flatten
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, LayerPicker)
        picker = app.screen.query_one(OptionList)
        picker.highlighted = picker.get_option_index("Dropout")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LayerEditor)  # Dropout has a parameter to set
        app.screen.query_one("#field-p", Input).value = "0.3"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        layers = app.draft.config.model.layers
        assert [layer.type for layer in layers] == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Dropout", "Linear"]
        assert layers[4].params == {"p": 0.3}
        assert app.screen.table.cursor_row == 4
        assert _row(app, 4)[1:4] == ["drop1", "Dropout", "p=0.3"]


async def test_cancelling_the_editor_of_a_layer_just_added_takes_the_layer_back(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        before = [layer.type for layer in app.draft.config.model.layers]
        app.screen.table.move_cursor(row=3)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, LayerPicker))
        picker = app.screen.query_one(OptionList)
        picker.highlighted = picker.get_option_index("Dropout")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LayerEditor))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, LayerEditor))
        assert [layer.type for layer in app.draft.config.model.layers] == before
        assert not app.draft.dirty and app.screen.table.cursor_row == 3
        await pilot.press("ctrl+y")  # nothing to redo: the layer was never wanted
        await pilot.pause()
        assert [layer.type for layer in app.draft.config.model.layers] == before


async def test_delete_and_move_act_on_the_cursor_and_undo_restores(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        original = [layer.type for layer in app.draft.config.model.layers]
        app.screen.table.move_cursor(row=1)
        await pilot.press("J")  # ReLU down, below the pool
        await pilot.pause()
        assert [layer.type for layer in app.draft.config.model.layers][1:3] == ["MaxPool2d", "ReLU"]
        assert app.screen.table.cursor_row == 2
        await pilot.press("d")
        await pilot.pause()
        assert len(app.draft.config.model.layers) == 4
        await pilot.press("ctrl+z", "ctrl+z")
        await pilot.pause()
        assert [layer.type for layer in app.draft.config.model.layers] == original
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert [layer.type for layer in app.draft.config.model.layers][1:3] == ["MaxPool2d", "ReLU"]


async def test_the_code_view_shows_exactly_the_generated_source(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await pilot.pause()
        shown = app.screen.query_one("#source", Static).content
        assert shown.code == model_source(app.draft.analysis, "default", "default")  # a rich Syntax
        assert "nn.Conv2d(1, 8" in screen_text(app) or "nn.Conv2d" in shown.code
        await pilot.press("c")
        await pilot.pause()
        assert app.screen.query_one("#layers").display


async def test_escape_leaves_the_code_view_for_the_layer_table(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await wait_for(pilot, lambda: not app.screen.query_one("#code").has_class("hidden"))
        # the footer says how to go back, once it has redrawn its keys for the code view
        await wait_for(pilot, lambda: "esc Layers" in screen_text(app), what="esc Layers in the footer")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.query_one("#code").has_class("hidden"))
        assert app.focused is app.screen.query_one("#layers")
        await pilot.press("a")  # the layer keys work again
        await wait_for(pilot, lambda: isinstance(app.screen, LayerPicker))


async def test_picking_a_presets_model_replaces_the_layers_in_one_undo_step(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PresetModelPicker)
        options = app.screen.query_one(OptionList)
        options.highlighted = options.get_option_index("digits-mlp")
        await pilot.press("enter")
        await pilot.pause()
        assert app.draft.config.model.layers[0].type == "Flatten"
        assert app.draft.problems == []
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert app.draft.config.model.layers[0].type == "Conv2d"


async def test_g_puts_layers_into_a_named_group_that_the_table_and_the_code_show(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        for row, typed in ((0, "conv"), (1, None)):  # the second layer is offered the group above
            app.screen.table.move_cursor(row=row)
            await pilot.press("g")
            await wait_for(pilot, lambda: isinstance(app.screen, GroupDialog))
            field = app.screen.query_one("#group", Input)
            if typed is None:
                assert field.value == "conv"
            else:
                field.value = typed
            await pilot.press("enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, GroupDialog))
        assert [layer.group for layer in app.draft.config.model.layers] == ["conv", "conv", "", "", ""]
        assert [_row(app, row)[1] for row in range(3)] == ["conv", "conv", ""]
        assert '    ("conv", nn.Sequential(OrderedDict([\n        ("conv1", nn.Conv2d(' in model_source(app.draft.analysis)
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert [layer.group for layer in app.draft.config.model.layers][:2] == ["conv", ""]


def _marks(app: WorkbenchApp) -> list[int]:
    """The rows whose index cell shows the mark, as a person sees the table."""
    table = app.screen.query_one("#layers", DataTable)
    return [row for row in range(table.row_count) if str(table.get_row_at(row)[0]).startswith("●")]


async def test_marked_layers_are_grouped_with_one_dialog_the_code_names_the_block_and_one_undo_takes_it_back(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    """Grouping took one dialog per layer: m marks a layer and moves on, g asks once for all."""
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m", "space", "m")  # the cursor starts on the Conv2d
        assert _marks(app) == [0, 1, 2]
        assert "3 layers marked" in screen_text(app)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, GroupDialog), what="the group dialog")
        assert "Group of conv1–pool1 (3 layers)" in screen_text(app)
        await pilot.press(*"features", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, GroupDialog), what="the dialog to close")
        assert [layer.group for layer in app.draft.config.model.layers] == ["features", "features", "features", "", ""]
        assert [_row(app, row)[1] for row in range(4)] == ["features", "features", "features", ""]
        assert _marks(app) == []
        await pilot.press("c")
        source = app.screen.query_one("#source", Static)
        await wait_for(pilot, lambda: isinstance(source.content, Syntax), what="the code view")
        assert isinstance(source.content, Syntax)
        assert (
            '    ("features", nn.Sequential(OrderedDict([\n'
            '        ("conv1", nn.Conv2d(in_channels=1, out_channels=8, kernel_size=3, stride=1, padding=1)),'
        ) in source.content.code
        assert '        ("pool1", nn.MaxPool2d(kernel_size=2, stride=2)),' in source.content.code
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: not app.draft.can_undo, what="the undo")
        assert all(not layer.group for layer in app.draft.config.model.layers)
        assert '("features"' not in source.content.code


async def test_marked_layers_with_a_gap_are_refused_in_one_line_and_marks_go_when_layers_move(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("m", "down", "m")
        assert _marks(app) == [0, 2]
        await pilot.press("g")
        await wait_for(pilot, lambda: bool(app._notifications), what="the refusal")
        (note,) = list(app._notifications)
        assert note.message == "conv1 and pool1 are not consecutive (relu1 between them); a group's layers must be consecutive"
        assert not isinstance(app.screen, GroupDialog)
        assert not app.draft.can_undo
        await pilot.press("M")
        assert _marks(app) == [0, 1, 2, 3, 4]
        await pilot.press("J")  # a moved layer: the marks would point at other layers
        await wait_for(pilot, lambda: app.draft.can_undo, what="the move")
        assert _marks(app) == []
        assert "layers marked" not in screen_text(app)


async def test_a_group_name_that_is_not_a_name_is_refused_in_the_dialog(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, GroupDialog))
        app.screen.query_one("#group", Input).value = "my block"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, GroupDialog)
        assert "'my block' is not a valid group name" in str(app.screen.query_one("#note", Static).render())
        assert all(not layer.group for layer in app.draft.config.model.layers)


async def test_the_text_preset_shows_its_groups_token_input_and_the_sequence_layers_to_add(
    preset_app: Callable[..., WorkbenchApp],
) -> None:
    app = preset_app("first-marker-gru", start="model")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "token ids" in screen_text(app), what="the totals")
        assert [_row(app, row)[1:4] for row in range(3)] == [
            ["encoder", "embed1", "Embedding"],
            ["encoder", "gru1", "GRU"],
            ["classifier", "fc1", "Linear"],
        ]
        assert "input 24 token ids → output 4" in screen_text(app)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, LayerPicker))
        picker = app.screen.query_one(OptionList)
        ids = [picker.get_option_at_index(i).id for i in range(picker.option_count)]
        sequence = ids.index(None, ids.index("Transpose"))  # the "sequence" heading
        assert ids[sequence + 1 : sequence + 5] == ["Embedding", "GRU", "LSTM", "SelfAttention"]


async def test_typing_in_the_layer_picker_filters_it_and_enter_adds_the_first_match(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    """Dropout was 17 presses of down away in the add-layer list."""
    app = fixed_app(start="model")
    async with app.run_test(size=SIZE) as pilot:
        app.screen.table.move_cursor(row=3)  # Flatten
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, LayerPicker))
        await pilot.press(*"drop")
        picker = app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: picker.highlighted_option is not None and picker.highlighted_option.id == "Dropout")
        shown = [picker.get_option_at_index(i).id for i in range(picker.option_count)]
        assert "Linear" not in shown and "Conv2d" not in shown
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LayerEditor))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, LayerEditor))
        assert [layer.type for layer in app.draft.config.model.layers][4] == "Dropout"
