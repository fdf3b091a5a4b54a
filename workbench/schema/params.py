"""Typed parameter schemas shared by every catalog.

Layer types, losses, optimizers, schedules and dataset options all describe their knobs as
:class:`Param` records: name, kind, default, range and one line of help. The config validates
against them, ``--set`` overrides are typed by them, and the app generates its forms from them,
so a knob is declared once and behaves the same everywhere. Pure data: no torch import, so the
app can build forms before torch has loaded.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass
from typing import Any, Literal

from workbench.errors import ConfigError

ParamKind = Literal["int", "float", "bool", "choice", "str", "auto_int", "table"]

AUTO = "auto"

#: Zeros before a number's first digit (kept: the zero of "0.5"); TOML takes no such number.
_LEADING_ZEROS = re.compile(r"^([+-]?)0+(?=\d)")


@dataclass(frozen=True)
class Param:
    """One knob: what it is called, what values it takes and what it does."""

    name: str
    kind: ParamKind
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    #: True where ``min`` itself is not allowed (a learning rate must be > 0, not >= 0).
    min_exclusive: bool = False

    def allowed(self) -> str:
        """Human description of the allowed values, for error messages and help."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "str":
            return "text"
        if self.kind == "table":
            return "a table of keyword arguments, e.g. {hidden = 64}"
        noun = "an integer" if self.kind in ("int", "auto_int") else "a number"
        bounds = []
        if self.min is not None:
            bounds.append(f"{'>' if self.min_exclusive else '>='} {_fmt(self.min)}")
        if self.max is not None:
            bounds.append(f"<= {_fmt(self.max)}")
        text = noun + (" " + " and ".join(bounds) if bounds else "")
        return f'"auto" or {text}' if self.kind == "auto_int" else text

    def coerce(self, value: Any, where: str) -> Any:
        """Return ``value`` as this param's type, or raise a ConfigError naming ``where``."""
        if self.kind == "auto_int" and value == AUTO:
            return AUTO
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise self._error(value, where)
        if self.kind == "table":  # a Code layer's keyword arguments for the user's class
            if not isinstance(value, dict):
                raise self._error(value, where)
            return dict(value)
        if self.kind in ("choice", "str"):
            if not isinstance(value, str) or (self.kind == "choice" and value not in self.choices):
                raise self._error(value, where)
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._error(value, where)
        if self.kind in ("int", "auto_int"):
            if isinstance(value, float):
                if not value.is_integer():
                    raise self._error(value, where)
                value = int(value)
        else:
            try:
                value = float(value)
            except OverflowError:  # an integer past any float (10**400)
                raise self._error(value, where) from None
            if not math.isfinite(value):
                raise self._error(value, where)
        too_low = self.min is not None and (value <= self.min if self.min_exclusive else value < self.min)
        too_high = self.max is not None and value > self.max
        if too_low or too_high:
            raise self._error(value, where)
        return value

    def parse_text(self, text: str, where: str) -> Any:
        """Parse what a person typed (``--set`` value, a form field) and coerce it.

        A number may start with zeros ("0300" epochs, "007.5"): TOML refuses them, a person
        means the number.
        """
        value = parse_literal(text)
        if isinstance(value, str) and self.kind in ("int", "float", "auto_int"):
            number = parse_literal(_LEADING_ZEROS.sub(r"\1", value))
            value = value if isinstance(number, str) else number  # a refusal quotes what was typed
        return self.coerce(value, where)

    def _error(self, value: Any, where: str) -> ConfigError:
        return ConfigError(f"{where}: {_show(value)} is not allowed; expected {self.allowed()}", field=where)


def parse_literal(text: str) -> Any:
    """Read a typed value the way TOML would (``3``, ``0.1``, ``true``, ``"x"``); bare words stay text."""
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):  # not TOML, 5,000 digits, [[[[...
        return text


def coerce_all(schema: tuple[Param, ...], values: dict[str, Any], where: str, *, what: str) -> dict[str, Any]:
    """Validate ``values`` against ``schema``; unknown names are errors, missing ones get defaults.

    Returns a new dict with every param of the schema present, in schema order.
    """
    known = {p.name: p for p in schema}
    for name in values:
        if name not in known:
            names = ", ".join(known) or "none"
            raise ConfigError(f"{where}.{name}: unknown parameter for {what}; allowed: {names}", field=f"{where}.{name}")
    return {p.name: p.coerce(values[p.name], f"{where}.{p.name}") if p.name in values else p.default for p in schema}


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)


#: Characters of a refused value quoted in its error line (a 400-digit number is shortened).
SHOWN_CHARACTERS = 40


def _show(value: Any) -> str:
    shown = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return shown if len(shown) <= SHOWN_CHARACTERS else shown[: SHOWN_CHARACTERS - 1] + "…"


def parse_field_text(param: Param, text: str, where: str) -> Any:
    """What a person typed into a field, as the field's type (ConfigError naming ``where``).

    Text fields take the text as it is (``cuda:0`` or ``true`` are names there, not TOML).
    """
    if param.kind == "str":
        return param.coerce(text.strip(), where)
    if param.kind == "choice":
        return param.coerce(text.strip().strip('"'), where)
    return param.parse_text(text, where)


def format_value(value: Any) -> str:
    """A value as a person would type it back into its field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):  # an inline TOML table, as it is typed: {hidden = 64, file = "a.txt"}
        return "{" + ", ".join(f"{_key(key)} = {_inline(item)}" for key, item in value.items()) + "}"
    return repr(value) if isinstance(value, float) else str(value)


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _inline(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_inline(item) for item in value) + "]"
    return format_value(value)
