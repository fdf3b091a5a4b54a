"""The user's code: references checked without running it, classes imported with every error as
one line naming the user's file and line, and the child-process probe that keeps crashes, hangs,
prints and ``sys.exit`` away from the caller."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from torch import nn

from workbench.errors import ConfigError, WorkbenchError
from workbench.paths import cache_dir
from workbench.schema import config as config_io
from workbench.usercode.importing import UserCodeError, import_user_class, user_code, user_code_words
from workbench.usercode.probing import ProbeError, probe
from workbench.usercode.reference import parse_code_ref


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


NETS = """
    from torch import nn
    import helpers

    class Net(nn.Module):
        def __init__(self, hidden=8):
            super().__init__()
            self.fc = nn.Linear(4, hidden)

        def forward(self, x):
            return helpers.broken(x)

    def not_a_class():
        pass
"""


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    write(folder, "nets.py", NETS)
    write(folder, "helpers.py", "def broken(x):\n    return 1 / 0\n")
    return folder


@pytest.mark.parametrize(
    ("text", "says"), [("nets.py", "FILE.py:CLASS"), ("nets.py:1Net", "not a class name"), ("nets.txt:Net", "not a Python file")]
)
def test_a_reference_that_is_not_file_colon_class_is_one_line_naming_the_setting(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as raised:
        parse_code_ref(text, "model.code")
    assert raised.value.field == "model.code"


def test_the_class_is_imported_with_its_neighbours_and_an_error_names_the_users_file_and_line(user_folder: Path) -> None:
    net_class = import_user_class(parse_code_ref(f"{user_folder}/nets.py:Net", "model.code"), nn.Module, "nn.Module")
    net = net_class(hidden=3)
    with pytest.raises(UserCodeError) as raised, user_code("Net.forward"):
        net(None)
    assert str(raised.value) == "helpers.py line 2: ZeroDivisionError: division by zero (Net.forward)"
    assert "Traceback" in raised.value.details


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("Missing", "nets.py has no Missing (classes there: Net)"),
        ("not_a_class", "is not a nn.Module subclass (it is a function)"),
    ],
)
def test_a_name_that_is_no_module_class_is_one_line(user_folder: Path, name: str, says: str) -> None:
    with pytest.raises(WorkbenchError, match=says.replace("(", r"\(").replace(")", r"\)")):
        import_user_class(parse_code_ref(f"{user_folder}/nets.py:{name}", "model.code"), nn.Module, "nn.Module")


def test_a_syntax_error_and_sys_exit_in_the_users_file_are_one_line_each(tmp_path: Path) -> None:
    write(tmp_path, "bad.py", "class Net(:\n    pass\n")
    with pytest.raises(UserCodeError, match=r"^bad.py line 1: SyntaxError"):
        import_user_class(parse_code_ref(f"{tmp_path}/bad.py:Net", "model.code"), nn.Module, "nn.Module")
    write(tmp_path, "leaves.py", "import sys\nsys.exit(3)\n")
    with pytest.raises(UserCodeError, match=r"^leaves.py line 2: the code called sys.exit\(3\) \(importing leaves.py\)$"):
        import_user_class(parse_code_ref(f"{tmp_path}/leaves.py:Net", "model.code"), nn.Module, "nn.Module")


def test_an_error_outside_the_users_files_is_not_worded_as_theirs() -> None:
    try:
        json.loads("{")
    except ValueError as error:
        assert user_code_words(error) is None


def test_relative_code_paths_are_read_from_the_experiment_files_folder(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("x\n")
    experiment = tmp_path / "exp.toml"
    experiment.write_text(
        '[model]\ncode = "nets.py:Net"\n[model.args]\nhidden = 4\n'
        '[data]\ndataset = "code"\n[data.options]\ncode = "sub/mydata.py:MyDataset"\nargs = {file = "train.txt", other = "absent.txt"}\n'
    )
    config = config_io.read(experiment)
    assert config.model.code == f"{tmp_path.resolve()}/nets.py:Net"
    assert config.model.args == {"hidden": 4}
    assert config.data.options["code"] == f"{tmp_path.resolve()}/sub/mydata.py:MyDataset"
    assert config.data.options["args"] == {"file": str((tmp_path / "train.txt").resolve()), "other": "absent.txt"}
    again = config_io.loads(config_io.dumps(config))
    assert again.model.code == config.model.code and again.model.args == {"hidden": 4}


def test_a_catalog_models_file_does_not_grow_code_fields() -> None:
    assert "code" not in config_io.dumps(config_io.loads("[model]\nlayers = []\n"))


@pytest.mark.slow
def test_a_question_the_child_cannot_answer_is_one_line_and_is_cached(tmp_path: Path) -> None:
    request = {"kind": "nothing-known", "code": f"{tmp_path}/nets.py:Net"}
    with pytest.raises(ProbeError, match="unknown probe kind 'nothing-known'"):
        probe(request, [tmp_path])
    assert len(list((cache_dir() / "code-probes").glob("*.json"))) == 1
