"""The shared draft the app edits: every edit revalidates, refuses bad values and can be undone."""

from __future__ import annotations

import contextlib

import pytest

from workbench.errors import ConfigError
from workbench.experiment.draft import Draft, param_at, value_at
from workbench.experiment.presets import read_experiment
from workbench.model.shapes import model_parts
from workbench.schema.config import LayerSpec


@pytest.fixture
def draft() -> Draft:
    return Draft(read_experiment("digits-cnn"), source="digits-cnn")


def test_a_loaded_preset_is_clean_and_valid(draft: Draft) -> None:
    assert draft.problems == []
    assert not draft.dirty
    assert draft.analysis is not None and draft.analysis.ok
    assert draft.dataset_info is not None and draft.dataset_info.name == "digits"


def test_an_edit_marks_the_draft_dirty_and_undo_makes_it_clean_again(draft: Draft) -> None:
    draft.set_text("optimizer.lr", "0.05")
    assert draft.config.optimizer.lr == 0.05
    assert draft.dirty
    assert draft.undo() == "set optimizer.lr"
    assert draft.config.optimizer.lr == 0.003
    assert not draft.dirty
    assert draft.redo() == "set optimizer.lr"
    assert draft.config.optimizer.lr == 0.05


def test_a_value_the_schema_refuses_leaves_the_draft_unchanged(draft: Draft) -> None:
    version = draft.version
    with pytest.raises(ConfigError, match=r"data\.batch_size: -3 is not allowed"):
        draft.set_text("data.batch_size", "-3")
    assert draft.config.data.batch_size == 64
    assert draft.version == version
    assert not draft.can_undo


def test_typing_into_one_field_is_one_undo_step(draft: Draft) -> None:
    for text in ("0", "0.", "0.0", "0.01"):
        with contextlib.suppress(ConfigError):  # "0" and "0." are refused on the way to 0.01
            draft.set_text("optimizer.lr", text)
    assert draft.config.optimizer.lr == 0.01
    draft.undo()
    assert draft.config.optimizer.lr == 0.003
    assert not draft.can_undo


def test_a_layer_that_breaks_the_stack_is_kept_and_reported_at_its_index(draft: Draft) -> None:
    draft.set_layer_text(10, "in_features", "100")  # fc1 is fed 256 features
    assert draft.config.model.layers[10].params["in_features"] == 100
    assert draft.layer_error_index() == 10
    assert draft.problems and draft.problems[0].field.startswith("model.layers.10")
    assert "100" in str(draft.problems[0])
    draft.set_layer_text(10, "in_features", "auto")
    assert draft.problems == []


def test_adding_moving_and_deleting_layers_updates_shapes(draft: Draft) -> None:
    total = draft.analysis.total_params
    index = draft.add_layer(10, "Linear")  # after fc1
    assert index == 11
    assert draft.config.model.layers[11].type == "Linear"
    draft.set_layer_text(11, "out_features", "64")
    assert draft.problems == []
    assert draft.analysis.total_params == total - 1290 + 128 * 64 + 64 + 64 * 10 + 10
    assert draft.move_layer(11, -1) == 10
    assert draft.config.model.layers[10].params == {"out_features": 64}
    draft.delete_layer(10)
    assert draft.analysis.total_params == total
    assert draft.move_layer(0, -1) == 0  # the first layer cannot go higher


def test_replacing_a_layer_keeps_only_values_that_differ_from_the_defaults(draft: Draft) -> None:
    draft.replace_layer(
        0,
        LayerSpec(
            "Conv2d",
            "stem",
            {"in_channels": "auto", "out_channels": 8, "kernel_size": 3, "stride": 1, "padding": 1, "bias": True},
        ),
    )
    layer = draft.config.model.layers[0]
    assert layer.name == "stem"
    assert layer.params == {"out_channels": 8, "kernel_size": 3, "padding": 1}
    with pytest.raises(ConfigError, match="model.layers.0.name"):
        draft.replace_layer(0, LayerSpec("Conv2d", "not a name", {}))


def test_layers_are_grouped_one_undo_step_at_a_time_and_a_layer_added_inside_a_group_joins_it(draft: Draft) -> None:
    for index in (0, 1):
        draft.group_layers([index], "conv")
    assert [layer.group for layer in draft.config.model.layers][:3] == ["conv", "conv", ""]
    assert draft.analysis is not None and draft.analysis.layers[1].group == "conv"
    inside = draft.add_layer(0, "Dropout")
    assert draft.config.model.layers[inside].group == "conv"
    edge = draft.add_layer(2, "ReLU")  # after the group's last layer: outside it
    assert draft.config.model.layers[edge].group == ""
    draft.undo()
    draft.undo()
    assert draft.undo().startswith("group ")
    assert [layer.group for layer in draft.config.model.layers][:2] == ["conv", ""]


def test_a_range_of_layers_is_grouped_as_one_step_that_one_undo_takes_back(draft: Draft) -> None:
    assert draft.group_layers([3, 1, 0, 2], "conv")  # as marked, in any order
    groups = [layer.group for layer in draft.config.model.layers]
    assert groups[:5] == ["conv", "conv", "conv", "conv", ""]
    assert draft.analysis is not None
    assert [(group, [info.name for info in infos]) for group, infos in model_parts(draft.analysis.layers)][:2] == [
        ("conv", ["conv1", "bn1", "relu1", "pool1"]),
        ("", ["conv2"]),
    ]
    assert draft.undo() == "group conv1–pool1"
    assert all(not layer.group for layer in draft.config.model.layers)
    assert not draft.can_undo
    assert draft.redo() == "group conv1–pool1"
    assert draft.group_layers([2, 3], "")  # the end of a group leaves it: still one piece
    assert [layer.group for layer in draft.config.model.layers][:4] == ["conv", "conv", "", ""]
    assert draft.undo() == "ungroup relu1–pool1"


@pytest.mark.parametrize(
    ("first", "then", "group", "refusal"),
    [
        (None, [0, 2], "conv", r"model\.layers\.0\.group: conv1 and relu1 are not consecutive \(bn1 between them\)"),
        (None, [0, 4, 5], "conv", r"conv1 and conv2 are not consecutive \(bn1–pool1 between them\)"),
        ([0, 1], [4, 5], "conv", r"the group 'conv' already holds conv1–bn1, not next to conv2–bn2"),
        ([0, 1, 2, 3], [1, 2], "inner", r"that would cut the group 'conv' in two around bn1–relu1"),
        ([0, 1, 2, 3], [1], "", r"that would cut the group 'conv' in two around bn1;"),
        (None, [0, 1], "my block", r"'my block' is not a valid group name"),
    ],
    ids=["gap", "long-gap", "joins-a-group-elsewhere", "cuts-a-group", "ungroups-the-middle", "not-a-name"],
)
def test_a_grouping_that_would_leave_a_group_in_pieces_is_refused_in_one_line_and_changes_nothing(
    draft: Draft, first: list[int] | None, then: list[int], group: str, refusal: str
) -> None:
    """A group is one nn.Sequential: its layers must be consecutive, so the draft refuses, naming why."""
    if first is not None:
        draft.group_layers(first, "conv")
    before, version = draft.config.copy(), draft.version
    assert draft.group_problem(then, group) is not None
    with pytest.raises(ConfigError, match=refusal) as refused:
        draft.group_layers(then, group)
    assert "\n" not in str(refused.value)
    assert (draft.config, draft.version) == (before, version)


def test_the_layer_editor_keeps_the_group_and_refuses_one_that_is_not_a_name(draft: Draft) -> None:
    layer = draft.config.model.layers[0]
    edited = LayerSpec(layer.type, "", dict(layer.params), group="features")
    assert draft.checked_layer(0, edited).group == "features"
    with pytest.raises(ConfigError, match=r"^model\.layers\.0\.group: 'my block' is not a valid group name"):
        draft.checked_layer(0, LayerSpec(layer.type, "", {}, group="my block"))
    assert value_at(draft.config, "model.layers.0.group") == ""
    assert param_at(draft.config, "model.layers.0.group").kind == "str"


def test_picking_another_optimizer_drops_the_parameters_it_does_not_have(draft: Draft) -> None:
    draft.set_text("optimizer.weight_decay", "0.01")
    draft.set_text("optimizer.beta1", "0.8")
    draft.set_value("optimizer.name", "sgd")
    assert draft.config.optimizer.name == "sgd"
    assert draft.config.optimizer.params == {"weight_decay": 0.01}
    assert param_at(draft.config, "optimizer.momentum").default == 0.0
    assert value_at(draft.config, "optimizer.momentum") == 0.0


def test_a_new_dataset_starts_from_its_default_options(draft: Draft) -> None:
    draft.set_dataset("spirals")
    draft.set_text("data.options.noise", "0.2")
    draft.set_dataset("digits")
    draft.set_dataset("spirals")
    assert draft.config.data.options == {}
    assert draft.dataset_info is not None and draft.dataset_info.input_shape == (2,)
    # digits' conv stack cannot take 2-D points: the model is flagged, not the data
    assert draft.problems and draft.problems[0].field.startswith("model.layers")


def test_loading_another_experiment_starts_a_new_history(draft: Draft) -> None:
    draft.set_text("train.epochs", "3")
    draft.load(read_experiment("spirals-mlp"), "spirals-mlp")
    assert draft.name == "spirals-mlp"
    assert not draft.can_undo and not draft.dirty


def test_saving_renames_and_cleans_the_draft(draft: Draft) -> None:
    draft.set_text("train.epochs", "3")
    draft.mark_saved("mine")
    assert draft.name == "mine" and not draft.dirty
    assert draft.can_undo  # saving does not throw the history away


def test_subscribers_hear_every_change_once(draft: Draft) -> None:
    heard: list[int] = []
    draft.subscribe(lambda: heard.append(draft.version))
    draft.set_text("train.seed", "7")
    draft.set_text("train.seed", "7")  # no change, no news
    draft.undo()
    assert heard == [1, 2]


def test_steps_per_epoch_follow_batch_size_validation_split_and_subset(draft: Draft) -> None:
    assert draft.steps_per_epoch() == 21  # 1,438 train samples, 144 held out, 64 a batch
    draft.set_text("data.batch_size", "1000")
    assert draft.steps_per_epoch() == 2
    draft.set_text("data.subset", "100")
    assert draft.steps_per_epoch() == 1


def test_nested_fields_are_reached_by_their_dotted_path(draft: Draft) -> None:
    draft.set_text("train.early_stopping.patience", "9")
    draft.set_value("data.augment.horizontal_flip", True)
    assert draft.config.train.early_stopping.patience == 9
    assert draft.config.data.augment.horizontal_flip is True
    with pytest.raises(ConfigError, match="no such field"):
        draft.set_text("train.nonsense", "1")


def test_training_gets_a_copy_and_only_while_there_is_no_problem(draft: Draft) -> None:
    ready = draft.ready_to_train()
    ready.train.epochs = 1
    assert draft.config.train.epochs == 12  # the trainer's copy is its own
    draft.set_layer_text(10, "in_features", "100")
    with pytest.raises(ConfigError, match=r"model\.layers\.10"):
        draft.ready_to_train()
