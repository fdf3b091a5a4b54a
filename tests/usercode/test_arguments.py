"""A class's keyword arguments typed as TOML text, and shown back alike."""

from __future__ import annotations

import pytest

from workbench.errors import ConfigError
from workbench.usercode.arguments import args_text, parse_args_text


def test_arguments_are_typed_as_toml_text_and_shown_back_alike() -> None:
    args = parse_args_text('file = "train.txt", size = 8', "data.options.args")
    assert args == {"file": "train.txt", "size": 8}
    assert args_text(args) == 'file = "train.txt", size = 8'
    with pytest.raises(ConfigError, match=r"^data.options.args: .* in 'file = train.txt'; write TOML key = value pairs"):
        parse_args_text("file = train.txt", "data.options.args")
