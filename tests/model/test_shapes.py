"""Shape inference: auto sizes, parameter counts, readable names and errors that name the layer."""

from __future__ import annotations

import pytest

from workbench.model.shapes import analyse, layer_names
from workbench.schema.config import LayerSpec

from .stacks import cifar_tutorial, layer, lenet5, small_resnet


def error_of(layers: list[LayerSpec], input_shape: tuple[int, ...] = (1, 28, 28), num_outputs: int = 10) -> tuple[str, str]:
    analysis = analyse(layers, input_shape, num_outputs)
    assert analysis.error is not None
    return analysis.error.field, str(analysis.error)


# ----------------------------------------------------------------------------- counts and sizes


def test_lenet5_on_mnist_has_61706_parameters() -> None:
    analysis = analyse(lenet5(), (1, 28, 28), 10)
    assert analysis.ok
    assert analysis.total_params == 61_706
    assert analysis.output_shape == (10,)


def test_pytorch_cifar10_tutorial_net_has_62006_parameters() -> None:
    analysis = analyse(cifar_tutorial(), (3, 32, 32), 10)
    assert analysis.ok
    assert analysis.total_params == 62_006


def test_auto_sizes_are_read_off_the_previous_layer() -> None:
    by_name = {info.name: info for info in analyse(lenet5(), (1, 28, 28), 10).layers}
    assert by_name["conv1"].params["in_channels"] == 1
    assert by_name["conv2"].params["in_channels"] == 6
    assert by_name["flatten1"].input_shape == (16, 5, 5)
    assert by_name["fc1"].params["in_features"] == 16 * 5 * 5
    assert by_name["fc3"].params["out_features"] == 10  # "auto" = number of classes


def test_resolved_params_list_every_catalog_param_with_pool_stride_defaulting_to_kernel() -> None:
    pool = analyse(lenet5(), (1, 28, 28), 10).layers[2]
    assert pool.params == {"kernel_size": 2, "stride": 2, "padding": 0}
    assert (pool.input_shape, pool.output_shape) == ((6, 28, 28), (6, 14, 14))


def test_batchnorm1d_accepts_features_and_channels_by_length() -> None:
    for shape in [(6,), (6, 5)]:
        analysis = analyse([layer("BatchNorm1d"), layer("Flatten"), layer("Linear")], shape, 2)
        assert analysis.ok, analysis.error
        assert analysis.layers[0].params["num_features"] == 6
        assert analysis.layers[0].output_shape == shape


def test_auto_out_features_is_allowed_on_the_last_linear_followed_by_an_activation() -> None:
    analysis = analyse([layer("Linear", out_features="auto"), layer("Sigmoid")], (4,), 1)
    assert analysis.ok
    assert analysis.output_shape == (1,)


def test_residual_blocks_downsample_with_stride() -> None:
    shapes = [info.output_shape for info in analyse(small_resnet(), (3, 16, 16), 10).layers]
    assert shapes[3:6] == [(8, 16, 16), (16, 8, 8), (16, 1, 1)]


# ----------------------------------------------------------------------------- names


def test_auto_names_are_numbered_per_kind_like_the_pytorch_tutorials() -> None:
    assert layer_names(lenet5()) == [
        "conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
        "flatten1", "fc1", "relu3", "fc2", "relu4", "fc3",
    ]  # fmt: skip


def test_explicit_names_are_kept_and_auto_names_step_around_them() -> None:
    layers = [layer("Linear", out_features=8), layer("ReLU"), layer("Linear", name="fc1"), layer("Linear", name="head")]
    names = layer_names(layers)
    assert names == ["fc2", "relu1", "fc1", "head"]
    assert len(set(names)) == len(names)


def test_a_name_used_twice_is_an_error_naming_both_layers() -> None:
    layers = [layer("Flatten", name="features"), layer("Linear", name="features")]
    assert error_of(layers) == (
        "model.layers.1",
        "model.layers.1 (features, Linear): the name 'features' is already used by model.layers.0",
    )


# ----------------------------------------------------------------------------- errors


def test_empty_stack_is_an_error() -> None:
    field, message = error_of([])
    assert field == "model.layers"
    assert "no layers" in message


def test_unknown_layer_type_lists_the_allowed_types() -> None:
    field, message = error_of([layer("Flatten"), layer("Conv3d")])
    assert field == "model.layers.1"
    assert message.startswith("model.layers.1: unknown layer type 'Conv3d'; allowed: Linear, Conv2d,")


def test_unknown_parameter_names_the_layer_and_the_allowed_parameters() -> None:
    field, message = error_of([layer("Conv2d", out_channels=4, kernal_size=3)])
    assert field == "model.layers.0.kernal_size"
    assert message == (
        "model.layers.0.kernal_size (conv1, Conv2d): unknown parameter for Conv2d; "
        "allowed: in_channels, out_channels, kernel_size, stride, padding, bias"
    )


def test_bad_parameter_value_names_the_layer_and_the_allowed_range() -> None:
    field, message = error_of([layer("Conv2d", out_channels=4, kernel_size=0)])
    assert field == "model.layers.0.kernel_size"
    assert message == "model.layers.0.kernel_size (conv1, Conv2d): 0 is not allowed; expected an integer >= 1 and <= 4096"


def test_explicit_in_features_that_disagree_say_what_the_input_is() -> None:
    layers = lenet5()
    layers[7].params["in_features"] = 100
    assert error_of(layers) == (
        "model.layers.7",
        "model.layers.7 (fc1, Linear): in_features=100 does not match the input of 400 features "
        '(16x5x5 flattened); use 400 or "auto"',
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (layer("Conv2d", in_channels=3, out_channels=4), "in_channels=3 does not match the input's 1 channels (1, 28, 28)"),
        (layer("BatchNorm2d", num_features=2), "num_features=2 does not match the input's 1 channels (1, 28, 28)"),
        (layer("ResidualBlock", in_channels=2, out_channels=4), "in_channels=2 does not match the input's 1 channels"),
    ],
)
def test_explicit_channel_counts_that_disagree_are_errors(spec: LayerSpec, expected: str) -> None:
    field, message = error_of([spec])
    assert field == "model.layers.0"
    assert expected in message


def test_a_stack_that_collapses_the_image_names_the_layer_and_the_sizes() -> None:
    layers = lenet5()
    layers[6:6] = [layer("Conv2d", out_channels=32, kernel_size=7)]
    assert error_of(layers) == (
        "model.layers.6",
        "model.layers.6 (conv3, Conv2d): the input (16, 5, 5) is too small for kernel_size=7 with padding=0; "
        "the output would collapse to (32, 0, 0)",
    )


def test_too_many_poolings_collapse_the_image() -> None:
    layers = [layer("MaxPool2d", kernel_size=2) for _ in range(5)] + [layer("Flatten"), layer("Linear")]
    field, message = error_of(layers)
    assert field == "model.layers.4"
    assert message.startswith("model.layers.4 (pool5, MaxPool2d): the input (1, 1, 1) is too small")


def test_pool_padding_over_half_the_kernel_is_an_error() -> None:
    field, message = error_of([layer("MaxPool2d", kernel_size=2, padding=2)])
    assert message == "model.layers.0 (pool1, MaxPool2d): padding=2 is more than half of kernel_size=2"


def test_linear_fed_an_image_asks_for_a_flatten() -> None:
    assert error_of([layer("Linear", out_features=10)])[1] == (
        "model.layers.0 (fc1, Linear): expects flat features but gets (1, 28, 28); add a Flatten before it"
    )


@pytest.mark.parametrize("type", ["Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d", "ResidualBlock"])
def test_image_layers_fed_flat_features_are_errors(type: str) -> None:
    field, message = error_of([layer("Flatten"), layer(type)])
    assert field == "model.layers.1"
    assert message.endswith(f"{type}): expects an image-like input (channels, height, width) but gets (784,)")


def test_batchnorm1d_on_an_image_points_to_batchnorm2d() -> None:
    message = error_of([layer("BatchNorm1d")])[1]
    assert "expects (features,) or (channels, length) but gets (1, 28, 28); use BatchNorm2d" in message


def test_auto_out_features_before_the_last_linear_is_an_error() -> None:
    layers = [layer("Flatten"), layer("Linear", out_features="auto"), layer("ReLU"), layer("Linear", out_features="auto")]
    assert error_of(layers) == (
        "model.layers.1",
        'model.layers.1 (fc1, Linear): out_features="auto" is only allowed on the last Linear '
        "(where it becomes the 10 outputs); give this one a number",
    )


def test_an_output_that_does_not_fit_the_task_says_how_to_fix_it() -> None:
    layers = lenet5()[:-1]
    assert error_of(layers) == (
        "model.layers.10",
        "model.layers.10 (relu4, ReLU): the model ends with (84,) but the task needs 10 outputs; "
        'set the last Linear\'s out_features to 10 or "auto"',
    )


def test_the_output_error_can_word_what_the_data_needs() -> None:
    analysis = analyse(lenet5()[:-1], (1, 28, 28), 10, outputs_text="digits has 10 classes")
    assert "the model ends with (84,) but digits has 10 classes;" in str(analysis.error)


def test_an_unflattened_output_asks_for_a_flatten_and_a_head() -> None:
    message = error_of([layer("Conv2d", out_channels=4)])[1]
    assert message.endswith(
        'ends with (4, 26, 26) but the task needs 10 outputs; end with a Flatten and a Linear whose out_features is "auto"'
    )


def test_analysis_keeps_the_layers_before_the_first_error() -> None:
    layers = lenet5()
    layers[7].params["in_features"] = 100
    analysis = analyse(layers, (1, 28, 28), 10)
    assert not analysis.ok
    assert [info.name for info in analysis.layers] == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten1"]
    assert analysis.total_params == 156 + 2416
    assert analysis.output_shape == (400,)


def test_a_model_that_misses_only_the_task_keeps_all_its_layers() -> None:
    analysis = analyse(lenet5()[:-1], (1, 28, 28), 10)
    assert len(analysis.layers) == 11
    assert analysis.error is not None


def test_analyse_reports_rather_than_raises_on_values_of_the_wrong_type() -> None:
    field, message = error_of([layer("Flatten"), layer("Linear", out_features="many", bias="yes")])
    assert field == "model.layers.1.out_features"
    assert message.startswith("model.layers.1.out_features (fc1, Linear): 'many' is not allowed")


def test_a_layer_name_that_is_not_an_identifier_is_an_error() -> None:
    field, message = error_of([layer("Flatten", name="my layer"), layer("Linear")])
    assert (field, message) == (
        "model.layers.0",
        "model.layers.0 (my layer, Flatten): 'my layer' is not a valid layer name (letters, digits, _)",
    )
