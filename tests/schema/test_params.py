"""Typed text for a numeric knob: numbers a person writes, as they write them."""

from __future__ import annotations

import pytest

from workbench.errors import ConfigError
from workbench.schema.params import Param

EPOCHS = Param("epochs", "int", 10, "passes", min=1)
RATE = Param("lr", "float", 0.1, "rate")


def test_leading_zeros_are_the_number_and_a_refusal_quotes_what_was_typed() -> None:
    assert EPOCHS.parse_text("0300", "train.epochs") == 300
    assert RATE.parse_text("007.5", "optimizer.lr") == 7.5 and RATE.parse_text("-00.5", "optimizer.lr") == -0.5
    with pytest.raises(ConfigError, match="'00_3' is not allowed"):
        EPOCHS.parse_text("00_3", "train.epochs")
    with pytest.raises(ConfigError, match="0 is not allowed"):
        EPOCHS.parse_text("000", "train.epochs")
