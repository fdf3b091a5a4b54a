"""The experiment file: TOML in and out, overrides, and field-level messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import ConfigError
from workbench.experiment.presets import list_presets, read_experiment
from workbench.experiment.validation import problems, validate
from workbench.schema import config as config_io
from workbench.schema.config import LayerSpec, RunConfig


@pytest.mark.parametrize("preset", [e.name for e in list_presets()])
def test_toml_round_trip_is_lossless_for_every_preset(preset: str) -> None:
    experiment = read_experiment(preset)
    again = config_io.loads(config_io.dumps(experiment))
    assert again == experiment
    assert config_io.dumps(again) == config_io.dumps(experiment)


def test_round_trip_keeps_explicit_layer_names_and_flat_params() -> None:
    experiment = RunConfig()
    experiment.model.layers = [LayerSpec("Linear", "classifier", {"out_features": "auto"})]
    experiment.optimizer.params = {"momentum": 0.9, "nesterov": True}
    text = config_io.dumps(experiment)
    assert 'name = "classifier"' in text
    assert "momentum = 0.9" in text  # flat in [optimizer], as a person writes it
    assert config_io.loads(text) == experiment


def test_round_trip_keeps_layer_groups_and_leaves_ungrouped_layers_as_they_were() -> None:
    experiment = RunConfig()
    experiment.model.layers = [LayerSpec("Flatten", group="dense"), LayerSpec("Linear", params={"out_features": 4})]
    text = config_io.dumps(experiment)
    assert text.count("group = ") == 1 and 'group = "dense"' in text
    assert config_io.loads(text) == experiment


def test_a_group_that_is_not_a_name_is_refused_naming_the_layer() -> None:
    text = '[[model.layers]]\ntype = "Flatten"\ngroup = "my block"\n'
    with pytest.raises(ConfigError, match=r"model\.layers\.0\.group: 'my block' is not a valid group name"):
        config_io.loads(text)


def test_write_then_read_gives_the_same_experiment(tmp_path: Path) -> None:
    experiment = read_experiment("digits-cnn")
    path = tmp_path / "exp.toml"
    config_io.write(experiment, path)
    assert config_io.read(path) == experiment


def test_override_is_typed_by_the_field() -> None:
    experiment = read_experiment("digits-mlp")
    changed = config_io.apply_overrides(experiment, ["optimizer.lr=1", "train.epochs=3", "data.normalize=false"])
    assert changed.optimizer.lr == 1.0 and isinstance(changed.optimizer.lr, float)
    assert changed.train.epochs == 3
    assert changed.data.normalize is False
    assert experiment.train.epochs != 3  # the original is untouched


def test_override_reaches_a_layer_parameter_by_index() -> None:
    experiment = read_experiment("digits-mlp")
    changed = config_io.apply_overrides(experiment, ["model.layers.3.out_features=32"])
    assert changed.model.layers[3].params["out_features"] == 32


def test_override_of_a_missing_layer_names_the_range() -> None:
    experiment = read_experiment("digits-mlp")
    with pytest.raises(ConfigError, match=r"model\.layers\.40 is out of range \(there are 6 items\)"):
        config_io.apply_overrides(experiment, ["model.layers.40.out_features=3"])


def test_override_with_a_wrong_type_names_field_value_and_allowed() -> None:
    experiment = read_experiment("digits-mlp")
    with pytest.raises(ConfigError, match=r"train\.epochs: 'many' is not allowed; expected an integer >= 1"):
        config_io.apply_overrides(experiment, ["train.epochs=many"])


def test_override_without_equals_explains_the_form() -> None:
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        config_io.apply_overrides(RunConfig(), ["optimizer.lr"])


def test_malformed_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[data]\ndataset = "digits"\nbatch_size = = 3\n')
    with pytest.raises(ConfigError) as caught:
        config_io.read(path)
    message = str(caught.value)
    assert "broken.toml" in message and "line 3" in message and "\n" not in message


def test_unknown_field_lists_the_allowed_ones() -> None:
    with pytest.raises(ConfigError, match=r"train\.epoch: unknown field; allowed here: epochs, seed"):
        config_io.loads("[train]\nepoch = 3\n")


def test_out_of_range_value_names_the_range() -> None:
    with pytest.raises(ConfigError, match=r"data\.val_fraction: 1\.5 is not allowed; expected a number >= 0 and <= 0\.9"):
        config_io.loads("[data]\nval_fraction = 1.5\n")


def test_learning_rate_must_be_positive() -> None:
    with pytest.raises(ConfigError, match=r"optimizer\.lr: 0\.0 is not allowed; expected a number > 0"):
        config_io.loads("[optimizer]\nlr = 0.0\n")


def test_validate_fills_in_catalog_defaults_without_changing_the_draft() -> None:
    experiment = read_experiment("digits-mlp")
    normalised = validate(experiment)
    assert "weight_decay" in normalised.optimizer.params
    assert "weight_decay" not in experiment.optimizer.params


def test_problems_are_collected_per_field() -> None:
    experiment = read_experiment("digits-mlp")
    experiment.optimizer.name = "sgdd"
    experiment.loss.name = "mse"
    fields = {problem.field for problem in problems(experiment)}
    assert {"optimizer.name", "loss.name"} <= fields


def test_unknown_dataset_lists_the_known_ones() -> None:
    experiment = read_experiment("digits-mlp")
    experiment.data.dataset = "imagenet"
    with pytest.raises(ConfigError, match=r"data\.dataset.*imagenet.*digits"):
        validate(experiment)


def test_monitoring_validation_metrics_needs_a_validation_split() -> None:
    experiment = read_experiment("digits-mlp")
    experiment.data.val_fraction = 0.0
    with pytest.raises(ConfigError, match=r"train\.early_stopping\.monitor: val_loss needs a validation split"):
        validate(experiment)


def test_an_experiment_file_that_is_not_utf8_is_one_line_naming_it(tmp_path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1.toml: not UTF-8 text \(byte 11 is 0xe9\)"):
        config_io.read(path)


@pytest.mark.parametrize(
    ("text", "message"), [("name = " + "1" * 5000, "Exceeds the limit"), ("a = " + "[" * 3000 + "]" * 3000, "nested too deeply")]
)
def test_pathological_toml_is_one_line_naming_the_file(text: str, message: str) -> None:
    """Both escaped as ValueError and RecursionError tracebacks."""
    with pytest.raises(ConfigError, match=f"odd.toml: not a usable experiment: .*{message}"):
        config_io.loads(text, source="odd.toml")


def test_a_set_value_too_big_for_any_number_is_refused_naming_the_field() -> None:
    """Found by the fuzz: 10**400 for a float field raised OverflowError."""
    with pytest.raises(ConfigError, match="optimizer.lr: .* is not allowed"):
        validate(config_io.apply_overrides(read_experiment("digits-mlp"), ["optimizer.lr=" + "9" * 400]))
    with pytest.raises(ConfigError, match="train.epochs: .* is not allowed"):
        validate(config_io.apply_overrides(read_experiment("digits-mlp"), ["train.epochs=" + "9" * 5000]))
