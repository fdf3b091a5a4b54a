"""A model from the user's own file: its analysis (the probe's answer as layer rows), its build,
and the probe's one line for each way the user's code can fail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from torch import nn

from tests.model.user_nets import BLOCKS_NET, TUTORIAL_NET, write
from workbench.errors import ConfigError
from workbench.model import code_model
from workbench.model.build import build_code_model, build_model
from workbench.model.catalog import LAYER_TYPES
from workbench.model.code_shapes import code_ref, model_request, module_rows, output_problem
from workbench.model.codegen import model_source
from workbench.model.memory import training_memory
from workbench.model.shapes import analyse_model
from workbench.schema.config import LayerSpec, ModelConfig
from workbench.schema.params import format_value, parse_field_text
from workbench.usercode.probing import ProbeError, probe

DIGITS = ((1, 8, 8), 10, "digits has 10 classes")


def probed(path: Path, **args: object) -> dict:
    """The probe's answer, computed in this process (what the child runs)."""
    return code_model.probe_model(model_request(code_ref(f"{path}:Net"), dict(args), DIGITS[0], 0))


def test_a_model_with_both_code_and_layers_is_one_problem_naming_model_code() -> None:
    model = ModelConfig(layers=[LayerSpec("Flatten")], code="nets.py:Net")
    analysis = analyse_model(model, (1, 8, 8), 10)
    assert analysis.error is not None
    assert analysis.error.field == "model.code"
    assert "model.layers too" in str(analysis.error)


def test_the_tutorial_net_answers_each_named_module_with_its_shapes_and_parameters(tmp_path: Path) -> None:
    answer = probed(write(tmp_path, "nets.py", TUTORIAL_NET), hidden=20)
    modules = {module["name"]: module for module in answer["modules"]}
    assert list(modules) == ["conv1", "pool", "conv2", "fc1", "fc2", "fc3"]
    assert modules["conv1"]["output_shape"] == [6, 8, 8]
    assert modules["pool"]["calls"] == 2 and modules["pool"]["output_shape"] == [6, 4, 4]  # where it first acts
    assert modules["fc1"]["input_shape"] == [64] and modules["fc1"]["params"] == 64 * 20 + 20
    assert answer["returns"] == [10]
    net = build_code_model(ModelConfig(code=f"{tmp_path}/nets.py:Net", args={"hidden": 20}))
    assert answer["total_params"] == sum(p.numel() for p in net.parameters())
    assert answer["device"] == "cpu"  # a small model runs a real batch: faster than meta's first use


def test_named_blocks_give_dotted_rows_grouped_under_their_block(tmp_path: Path) -> None:
    answer = probed(write(tmp_path, "nets.py", BLOCKS_NET))
    rows = module_rows(answer)
    assert [row["name"] for row in rows] == [
        "conv.conv1",
        "conv.relu1",
        "conv.pool1",
        "dense.dense1",
        "dense.relu2",
        "dense.dense2",
    ]
    assert sum(row["own_params"] for row in rows) == answer["total_params"]
    assert next(row for row in rows if row["name"] == "conv.pool1")["output_shape"] == [8, 4, 4]


def test_a_large_model_is_probed_on_the_meta_device_and_one_that_reads_values_on_the_cpu(tmp_path: Path) -> None:
    large = """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, reads=False):
                super().__init__()
                self.reads = reads
                self.wide = nn.Linear(64, 400_000)
                self.fc = nn.Linear(400_000, 10)

            def forward(self, x):
                x = self.wide(x.flatten(1))
                if self.reads and x.sum().item() > 1e30:
                    x = x * 0
                return self.fc(x)
    """
    path = write(tmp_path, "nets.py", large)
    assert probed(path)["device"] == "meta"
    reading = probed(path, reads=True)
    assert reading["device"] == "cpu" and reading["returns"] == [10]


def test_arguments_the_class_does_not_take_are_one_line_naming_model_args(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^model.args: Net\(width=3\): got an unexpected keyword argument 'width'$") as raised:
        probed(write(tmp_path, "nets.py", TUTORIAL_NET), width=3)
    assert raised.value.field == "model.args"


@pytest.mark.parametrize(
    ("returns", "says"),
    [
        ([84], "Net returns 84 outputs; digits has 10 classes"),
        ([16, 2, 2], "Net returns (16, 2, 2) per sample; digits has 10 classes: flatten it and end with 10 outputs"),
        ("a tuple of 2", "Net.forward returns a tuple of 2, not one tensor of shape (batch, 10); digits has 10 classes"),
        ([], "Net returns one number per sample, shape (batch,); diabetes has 1 regression target: return shape (batch, 1)"),
    ],
)
def test_an_output_that_does_not_fit_the_task_is_one_line_naming_the_class(returns: object, says: str) -> None:
    task = (1, "diabetes has 1 regression target") if returns == [] else DIGITS[1:]
    problem = output_problem(code_ref("/x/nets.py:Net"), {"returns": returns}, *task)
    assert problem is not None and problem.field == "model.code"
    assert str(problem) == f"model.code (nets.py:Net): {says}"


def test_a_code_model_is_built_as_its_own_module_with_the_init_schemes_applied(tmp_path: Path) -> None:
    write(tmp_path, "nets.py", TUTORIAL_NET)
    model = ModelConfig(code=f"{tmp_path}/nets.py:Net", init="xavier_uniform", bias_init="zeros")
    net = build_model(model, *DIGITS[:2])
    assert type(net).__name__ == "Net" and not isinstance(net, nn.Sequential)
    assert all(torch.count_nonzero(layer.bias) == 0 for layer in (net.conv1, net.fc1, net.fc3))
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


# ----------------------------------------------------------------------------- through the child process


@pytest.mark.slow
def test_a_code_model_is_analysed_into_rows_grouped_by_block_with_its_total_and_trainable_count(tmp_path: Path) -> None:
    frozen_conv = "]))\n            self.conv.requires_grad_(False)\n            self.dense = "
    write(tmp_path, "nets.py", BLOCKS_NET.replace("]))\n            self.dense = ", frozen_conv, 1))
    analysis = analyse_model(ModelConfig(code=f"{tmp_path}/nets.py:Net"), *DIGITS[:2], outputs_text=DIGITS[2])
    assert analysis.ok, analysis.error
    assert [(row.name, row.group, row.output_shape) for row in analysis.layers[:2]] == [
        ("conv.conv1", "conv", (8, 8, 8)),
        ("conv.relu1", "conv", (8, 8, 8)),
    ]
    assert analysis.output_shape == (10,)
    assert analysis.total_params == (8 * 9 + 8) + (128 * 32 + 32) + (32 * 10 + 10)
    assert analysis.trainable_params == analysis.total_params - (8 * 9 + 8)  # the user's frozen block left out
    estimate = training_memory(analysis, 32, "adam")  # weights and gradients, two moments: of what trains only
    assert estimate.weights == 4 * (analysis.total_params + analysis.trainable_params)
    assert estimate.optimizer == 4 * 2 * analysis.trainable_params


BROKEN = {
    "raises in __init__": (
        "def __init__(self):\n        super().__init__()\n        raise ValueError('no good')",
        r"nets.py line 8: ValueError: no good \(Net\(\)\)",
    ),
    "raises in forward": (
        "def forward(self, x):\n        return x.view(3, -1, 7)",
        r"nets.py line 7: RuntimeError: shape '\[3, -1, 7\]' is invalid .* \(Net.forward\)",
    ),
    "calls sys.exit": (
        "def forward(self, x):\n        sys.exit(2)",
        r"nets.py line 7: the code called sys.exit\(2\) \(Net.forward\)",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BROKEN))
def test_user_code_that_fails_is_one_line_naming_its_file_and_line(tmp_path: Path, case: str) -> None:
    method, says = BROKEN[case]
    write(tmp_path, "nets.py", f"import sys\nimport torch.nn as nn\n\n\nclass Net(nn.Module):\n    {method}\n")
    analysis = analyse_model(ModelConfig(code=f"{tmp_path}/nets.py:Net"), *DIGITS[:2])
    assert analysis.error is not None and analysis.error.field == "model.code"
    assert "\n" not in str(analysis.error)
    assert re.fullmatch(r"model.code \(nets.py:Net\): " + says, str(analysis.error)), str(analysis.error)


@pytest.mark.slow
def test_user_code_that_prints_is_analysed_and_its_output_kept_apart(tmp_path: Path) -> None:
    printing = TUTORIAL_NET.replace("x = torch.flatten(x, 1)", "print('shape', x.shape)\n            x = torch.flatten(x, 1)")
    write(tmp_path, "nets.py", "    print('hello from nets.py')\n" + printing)
    ref = code_ref(f"{tmp_path}/nets.py:Net")
    answer = probe(model_request(ref, {}, DIGITS[0], 0), [tmp_path])
    assert "hello from nets.py" in answer["output"] and answer["modules"]
    assert analyse_model(ModelConfig(code=ref.text), *DIGITS[:2]).ok


@pytest.mark.slow
def test_user_code_that_hangs_is_ended_at_the_time_limit_in_one_line(tmp_path: Path) -> None:
    write(tmp_path, "nets.py", TUTORIAL_NET.replace("super().__init__()", "super().__init__()\n            while True: pass"))
    ref = code_ref(f"{tmp_path}/nets.py:Net")
    with pytest.raises(ProbeError, match=r"^nets.py:Net did not finish within 2 s when run once"):
        probe(model_request(ref, {}, DIGITS[0], 0), [tmp_path], timeout_s=2)


# ----------------------------------------------------------------------------- a Code layer in the list

BLOCK = """
    import torch.nn as nn


    class Block(nn.Module):
        def __init__(self, channels, squeeze=2):
            super().__init__()
            self.inner = nn.Conv2d(channels, channels // squeeze, 1)
            self.outer = nn.Conv2d(channels // squeeze, channels, 1)

        def forward(self, x):
            return x + self.outer(self.inner(x).relu())
"""


def block_layers(folder: Path, args: dict) -> list[LayerSpec]:
    write(folder, "blocks.py", BLOCK)
    return [
        LayerSpec("Conv2d", params={"out_channels": 8, "kernel_size": 3, "padding": 1}),
        LayerSpec("Code", params={"code": f"{folder}/blocks.py:Block", "args": args}),
        LayerSpec("MaxPool2d"),
        LayerSpec("Flatten"),
        LayerSpec("Linear", params={"out_features": "auto"}),
    ]


def test_a_tables_arguments_are_typed_and_shown_as_an_inline_toml_table() -> None:
    param = next(p for p in LAYER_TYPES["Code"].params if p.name == "args")
    typed = parse_field_text(param, '{channels = 8, file = "a b.txt"}', "model.layers.1.args")
    assert typed == {"channels": 8, "file": "a b.txt"}
    assert format_value(typed) == '{channels = 8, file = "a b.txt"}'
    with pytest.raises(ConfigError, match=r"^model.layers.1.args: 8 is not allowed; expected a table of keyword arguments"):
        parse_field_text(param, "8", "model.layers.1.args")


@pytest.mark.slow
def test_a_code_layer_sits_between_catalog_layers_with_its_shape_inferred_built_and_written_out(tmp_path: Path) -> None:
    model = ModelConfig(layers=block_layers(tmp_path, {"channels": 8}))
    analysis = analyse_model(model, *DIGITS[:2])
    assert analysis.ok, analysis.error
    code = analysis.layers[1]
    assert (code.name, code.input_shape, code.output_shape, code.num_params) == ("code1", (8, 8, 8), (8, 8, 8), 36 + 40)
    assert analysis.layers[-1].params["in_features"] == 8 * 4 * 4  # inferred through the user's block
    net = build_model(model, *DIGITS[:2])
    assert type(net.code1).__name__ == "Block"
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert sum(p.numel() for p in net.parameters()) == analysis.total_params
    source = model_source(analysis)
    assert f"from blocks import Block  # your own code: {tmp_path}/blocks.py" in source
    assert '("code1", Block(channels=8)),  # -> (8, 8, 8)' in source


@pytest.mark.slow
def test_a_code_layer_whose_class_fails_is_one_line_naming_its_field(tmp_path: Path) -> None:
    analysis = analyse_model(ModelConfig(layers=block_layers(tmp_path, {"channels": 8, "width": 3})), *DIGITS[:2])
    assert analysis.error is not None and analysis.error.field == "model.layers.1.args"
    assert str(analysis.error) == "model.layers.1.args: Block(channels=8, width=3): got an unexpected keyword argument 'width'"
    analysis = analyse_model(ModelConfig(layers=block_layers(tmp_path, {"channels": 6})), *DIGITS[:2])
    assert analysis.error is not None and analysis.error.field == "model.layers.1.code"
    assert str(analysis.error).startswith("model.layers.1.code (blocks.py:Block): blocks.py line 12: RuntimeError: ")
    assert [layer.name for layer in analysis.layers] == ["conv1"]  # the table up to the problem
