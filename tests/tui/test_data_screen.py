"""The Data screen: datasets and presets, real samples as pictures or rows, options."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input, OptionList, Static

from workbench.data.registry import DATASETS
from workbench.schema.params import format_value
from workbench.tui.app import WorkbenchApp
from workbench.tui.widgets.picture import PictureGrid

from .helpers import SIZE, screen_text, wait_for


def _highlight(app: WorkbenchApp, option_id: str) -> None:
    catalog = app.screen.query_one("#catalog", OptionList)
    catalog.highlighted = catalog.get_option_index(option_id)


async def test_digits_samples_are_drawn_as_labelled_pictures(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        grid = app.screen.query_one("#pictures", PictureGrid)
        await wait_for(pilot, lambda: grid.pictures)
        assert len(grid.pictures) == 6
        assert all(p.caption in "0123456789" and p.image.shape == (8, 8, 1) for p in grid.pictures)
        assert len({p.caption for p in grid.pictures}) == 6  # classes take turns
        await pilot.pause()
        assert "▀" * 16 in screen_text(app)  # 8x8 pixels, doubled, two rows per cell
        facts = screen_text(app)
        assert "classification, 10 classes" in facts and "1x8x8" in facts and "offline" in facts


async def test_points_and_tables_show_rows_instead_of_pictures(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        _highlight(app, "dataset:spirals")
        rows = app.screen.query_one("#rows", Static)
        await wait_for(pilot, lambda: "label" in screen_text(app))
        assert not app.screen.query_one("#pictures", PictureGrid).pictures
        assert "x1" in screen_text(app) and "x2" in screen_text(app)
        _highlight(app, "dataset:diabetes")
        await wait_for(pilot, lambda: "x10" not in screen_text(app) and "regression" in screen_text(app))
        assert rows is app.screen.query_one("#rows", Static)


async def test_enter_trains_the_experiment_on_the_highlighted_dataset(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        _highlight(app, "dataset:spirals")
        await pilot.press("enter")
        await pilot.pause()
        assert app.draft.config.data.dataset == "spirals"
        assert "●spirals" in screen_text(app)
        # the conv stack cannot take 2-D points: that is now a problem, shown where it is
        assert "✗" in screen_text(app).splitlines()[-2]
        options = app.screen.query_one("#options-form")
        noise = next(p for p in DATASETS["spirals"].options if p.name == "noise")
        assert options.display and options.query_one("#field-noise", Input).value == format_value(noise.default)


async def test_a_download_that_is_not_cached_says_so_and_offers_the_download_key(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        _highlight(app, "dataset:cifar10")
        await wait_for(pilot, lambda: "not downloaded yet" in screen_text(app))
        assert "not downloaded: 170.5 MB; press D" in screen_text(app)
        assert "D Download" in screen_text(app).splitlines()[-1]
        _highlight(app, "dataset:digits")
        await wait_for(pilot, lambda: "D Download" not in screen_text(app).splitlines()[-1])


async def test_the_options_edit_the_experiments_data_section(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        batch = app.screen.query_one("#data-form #field-batch_size", Input)
        batch.focus()
        batch.value = "128"
        # Waited on, not paused for: under load the pilot's pause once came back before the edit.
        await wait_for(pilot, lambda: app.draft.config.data.batch_size == 128, what="batch size 128 in the draft")
        batch.value = "0"
        hint = app.screen.query_one("#data-form #hint-batch_size", Static)
        await wait_for(pilot, lambda: "0 is not allowed" in str(hint.render()), what="the refusal beside the field")
        assert app.draft.config.data.batch_size == 128


async def test_a_preset_in_the_list_shows_its_dataset_and_enter_opens_it(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        _highlight(app, "preset:spirals-mlp")
        await pilot.pause()
        assert "preset spirals-mlp" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert app.draft.name == "spirals-mlp"


async def test_a_preset_with_a_pretrained_backbone_says_how_its_inputs_are_prepared(
    fixed_app: Callable[..., WorkbenchApp],
) -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        _highlight(app, "preset:cifar10-finetune")
        await wait_for(pilot, lambda: "ImageNet" in screen_text(app))
        text = screen_text(app)  # the note wraps in the 54 columns of the details pane
        assert "inputs resized to 224 and normalised with" in text and "ImageNet statistics for resnet18's weights" in text
        _highlight(app, "dataset:digits")  # the experiment's own model has no backbone
        await wait_for(pilot, lambda: "ImageNet" not in screen_text(app))


async def test_a_csv_preview_labels_its_columns_by_the_header_and_names_the_target(
    fixed_app: Callable[..., WorkbenchApp], tmp_path
) -> None:
    wine = tmp_path / "wine.csv"
    wine.write_text("alcohol,hue,ash,kind\n" + "".join(f"{i % 7}.5,{i % 3}.25,{i % 5},k{i % 3}\n" for i in range(40)))
    app = fixed_app()
    app.draft.set_dataset("csv")
    app.draft.set_text("data.options.path", str(wine))
    async with app.run_test(size=SIZE) as pilot:
        _highlight(app, "dataset:csv")
        await wait_for(pilot, lambda: "· target: kind" in " ".join(screen_text(app).split()), what="the CSV rows")
        header = next(line for line in screen_text(app).splitlines() if "alcohol" in line)
        assert "hue" in header and "ash" in header and header.rstrip().endswith("kind")
        assert "x1" not in screen_text(app)


async def test_the_details_say_the_experiments_data_set_whatever_entry_is_highlighted(
    fixed_app: Callable[..., WorkbenchApp], tmp_path
) -> None:
    wine = tmp_path / "wine.csv"
    wine.write_text("alcohol,hue,kind\n" + "".join(f"{i % 7}.5,{i % 3}.25,k{i % 3}\n" for i in range(40)))
    app = fixed_app()
    app.draft.set_dataset("csv")
    app.draft.set_text("data.options.path", str(wine))
    async with app.run_test(size=SIZE) as pilot:

        def shown() -> str:
            return " ".join(screen_text(app).split())  # the pane wraps its lines

        _highlight(app, "dataset:csv")
        await wait_for(pilot, lambda: "this experiment's dataset: csv wine.csv" in shown())
        _highlight(app, "dataset:spirals")
        await wait_for(pilot, lambda: "enter: train the experiment on it, not csv wine.csv" in shown())
        _highlight(app, "preset:digits-mlp")
        await wait_for(pilot, lambda: "preset digits-mlp" in shown())
        assert "the experiment trains on csv wine.csv now" in shown()


async def test_enter_on_a_dataset_says_so_before_the_screens_redraw_for_it(fixed_app: Callable[..., WorkbenchApp]) -> None:
    app = fixed_app()
    said_first: list[bool] = []
    app.draft.subscribe(lambda: said_first.append(any("now trains on spirals" in n.message for n in app._notifications)))
    async with app.run_test(size=SIZE) as pilot:
        _highlight(app, "dataset:spirals")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.draft.config.data.dataset == "spirals")
        assert said_first == [True]  # the notice was up before the change reached any screen
