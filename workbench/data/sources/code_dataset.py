"""A data set from the user's own file (``data.dataset = "code"``, ``options.code =
"mydata.py:MyDataset"``, ``options.args = {file = "train.txt"}``): its facts probed once in a
child process, its items read for training by :mod:`workbench.data.code_loading`.

Nothing here imports torch or the user's code: the registry describes a code data set for the
app (which never imports user code) by asking the probe's child
(:func:`workbench.usercode.probing.probe`), which reads the set's first items there
(:func:`workbench.data.sources.code_items.probe_dataset`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.schema.params import Param, coerce_all
from workbench.usercode.probing import ProbeError, probe, still_running
from workbench.usercode.reference import CodeRef, check_code_ref, parse_code_ref

#: The options that are tables of keyword arguments for the class (not Params: a form has no
#: field for a table; the Data screen edits them as TOML text).
TABLES = ("args", "test_args")
WHERE = "data.options"

CODE_OPTIONS = (
    Param("code", "str", "", "your Dataset class, FILE.py:CLASS (its items are (x, y) pairs)"),
    Param(
        "storage",
        "choice",
        "auto",
        "memory: read every item once into tensors (cached); stream: read items per batch in worker "
        "processes; auto: memory if it fits in 2 GiB",
        choices=("auto", "memory", "stream"),
    ),
    Param("workers", "int", 2, "worker processes that read items when the set streams", min=0, max=64),
)


def code_options(values: dict[str, Any], where: str = WHERE) -> dict[str, Any]:
    """The options of a code data set, typed and checked: ``code`` names a class in an existing
    ``.py`` file, ``args`` and ``test_args`` are tables (``test_args`` absent: the usual held-out
    split). One ConfigError line naming the option when one is not."""
    plain = {name: value for name, value in values.items() if name not in TABLES}
    options = coerce_all(CODE_OPTIONS, plain, where, what="dataset code")
    if not str(options["code"]).strip():
        raise ConfigError(
            f'{where}.code: a data set from your code needs its class (set {where}.code = "mydata.py:MyDataset")',
            field=f"{where}.code",
        )
    check_code_ref(code_ref(options))
    for name in TABLES:
        value = values.get(name, {} if name == "args" else None)
        if value is None:
            continue  # no test_args: the test set is held out of the items
        if not isinstance(value, dict):
            raise ConfigError(
                f'{where}.{name}: expected a table of keyword arguments for the class, e.g. {name} = {{file = "train.txt"}}',
                field=f"{where}.{name}",
            )
        options[name] = dict(value)
    return options


def code_ref(options: dict[str, Any], where: str = WHERE) -> CodeRef:
    """The class ``options["code"]`` names (one ConfigError line when it is not FILE.py:CLASS)."""
    return parse_code_ref(str(options["code"]), f"{where}.code")


# ----------------------------------------------------------------------------- the probe


def dataset_request(options: dict[str, Any]) -> dict[str, Any]:
    """What the probe's child is asked: the class, its arguments, and the size and time of every
    file or folder an argument names, so that an edited ``train.txt`` is read again (the probe's
    cache already follows the code's content)."""
    tables = {name: options[name] for name in TABLES if options.get(name) is not None}
    return {"kind": "dataset", "code": str(options["code"]), **tables, "files": files_stamp(tables)}


def files_stamp(tables: dict[str, Any]) -> dict[str, list[int]]:
    """``{path: [size, mtime_ns]}`` of every existing file or folder a string argument names."""
    stamp = {}
    for args in tables.values():
        for value in (args or {}).values():
            if isinstance(value, str) and value:
                try:
                    found = Path(value).expanduser().stat()
                except (OSError, ValueError):
                    continue
                stamp[value] = [found.st_size, found.st_mtime_ns]
    return stamp


@dataclass(frozen=True)
class SplitFacts:
    """What the probe read of one set (the training set, or the test set of ``test_args``)."""

    size: int
    input_shape: tuple[int, ...]
    dtype: str  # the inputs' numpy dtype name: uint8, float32, ...
    num_outputs: int  # classes (from max label + 1, or the `classes` attribute), or regression targets


@dataclass(frozen=True)
class CodeFacts:
    """A code data set as the probe found it."""

    task: str  # classification | regression
    kind: str  # image | tabular | tensor
    class_names: tuple[str, ...]
    train: SplitFacts
    test: SplitFacts | None  # None without test_args: the test set is held out of ``train``
    samples: tuple[dict[str, Any], ...]  # previews: {"image": {...} | "features": [...], "label": str}

    @property
    def num_outputs(self) -> int:
        return max(self.train.num_outputs, self.test.num_outputs if self.test else 0)


def code_facts(options: dict[str, Any]) -> CodeFacts:
    """The probe's answer for the options' class (cached on the request and the code's content);
    the user's failure as one ConfigError line naming ``data.options.code``."""
    ref = code_ref(options)
    try:
        answer = probe(dataset_request(options), [ref.folder])
    except ProbeError as error:
        said = str(error)  # the child's checks name the option already; the user's code, their file
        message = said if said.startswith(WHERE) else f"{ref.where} ({ref.label}): {said}"
        raise still_running(error, message, field=ref.where, label=ref.label) from None
    return facts_from_answer(answer)


def facts_from_answer(answer: dict[str, Any]) -> CodeFacts:
    def split(facts: dict[str, Any] | None) -> SplitFacts | None:
        if not facts:
            return None
        return SplitFacts(int(facts["size"]), tuple(facts["input_shape"]), str(facts["dtype"]), int(facts["num_outputs"]))

    train = split(answer["train"])
    assert train is not None
    return CodeFacts(
        task=str(answer["task"]),
        kind=str(answer["kind"]),
        class_names=tuple(answer["class_names"]),
        train=train,
        test=split(answer.get("test")),
        samples=tuple(answer.get("samples", ())),
    )


def picture(sample: dict[str, Any]) -> Any:
    """A preview sample's picture as a uint8 (H, W, C) array, or None for numbers."""
    import numpy as np

    image = sample.get("image")
    if not image:
        return None
    pixels = np.frombuffer(base64.b64decode(image["pixels"]), dtype=np.uint8)
    return pixels.reshape(image["shape"])
