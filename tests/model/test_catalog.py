"""The layer catalog is complete, self-consistent data that forms and validation can rely on."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from workbench.errors import ConfigError
from workbench.model.backbones import BACKBONE
from workbench.model.build import layer_class
from workbench.model.catalog import CODE, GROUPS, LAYER_TYPES, layer_type
from workbench.schema.params import AUTO

REQUIRED = (
    "Linear Conv2d MaxPool2d AvgPool2d AdaptiveAvgPool2d BatchNorm1d BatchNorm2d Dropout Flatten "
    "ReLU LeakyReLU GELU SiLU Sigmoid Tanh ResidualBlock"
).split()


def test_catalog_has_every_required_layer_type_in_a_known_group() -> None:
    assert set(REQUIRED) <= set(LAYER_TYPES)
    assert {t.group for t in LAYER_TYPES.values()} == set(GROUPS)
    assert all(name == t.name for name, t in LAYER_TYPES.items())


@pytest.mark.parametrize("name", LAYER_TYPES)
def test_each_layer_type_is_well_formed_data(name: str) -> None:
    kind = LAYER_TYPES[name]
    assert kind.prefix.isidentifier() and kind.prefix.islower()
    assert kind.help and "\n" not in kind.help
    param_names = [p.name for p in kind.params]
    assert set(kind.key_params) <= set(param_names)
    for param in kind.params:
        assert param.help and "\n" not in param.help
        assert param.coerce(param.default, "default") == param.default  # defaults are valid values


# A Backbone is a torchvision model built by backbone_build (its params choose and prepare it);
# a Code layer is the user's own class, called with its args (tests/model/test_code_model.py).
@pytest.mark.parametrize("name", [name for name in LAYER_TYPES if name not in (BACKBONE, CODE)])
def test_param_names_are_the_torch_constructor_keywords(name: str) -> None:
    keywords = inspect.signature(layer_class(name)).parameters
    for param in LAYER_TYPES[name].params:
        assert param.name in keywords
        default = keywords[param.name].default
        if param.default != AUTO and default is not inspect.Parameter.empty:
            assert param.default == default, f"{name}.{param.name}: the code view omits defaults, so they must agree"


def test_sizes_taken_from_the_previous_layer_default_to_auto() -> None:
    inferred = {"in_features", "in_channels", "num_features"}
    for kind in LAYER_TYPES.values():
        for param in kind.params:
            if param.name in inferred:
                assert (param.kind, param.default) == ("auto_int", AUTO)


def test_unknown_layer_type_is_a_config_error_listing_the_types() -> None:
    with pytest.raises(ConfigError) as caught:
        layer_type("Conv3d", "model.layers.2")
    assert caught.value.field == "model.layers.2"
    assert str(caught.value) == f"model.layers.2: unknown layer type 'Conv3d'; allowed: {', '.join(LAYER_TYPES)}"


@pytest.mark.slow
def test_catalog_shapes_and_codegen_import_without_torch() -> None:
    code = (
        "import sys\n"
        "import workbench.model.catalog, workbench.model.shapes, workbench.model.codegen\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("index", "name", "value"), [(5, "out_features", 10**9), (5, "out_features", 10**308), (1, "out_features", 1 << 21)]
)
def test_absurd_layer_sizes_are_refused_by_validation_naming_the_field(index: int, name: str, value: int) -> None:
    """Sizes had no ceiling: 1e9 features passed, then training failed in the C++ allocator."""
    from workbench.experiment.presets import load_experiment
    from workbench.experiment.validation import problems

    experiment = load_experiment("digits-mlp")
    experiment.model.layers[index].params[name] = value
    found = problems(experiment)
    assert found and found[0].field == f"model.layers.{index}.{name}" and "1048576" in str(found[0])
