"""A user's CSV file as a tabular dataset: numeric feature columns and one target column.

The first row names the columns. Every column except the target must hold numbers; the target
holds class labels (any text; classes are its distinct values) or, for regression, numbers.
The registry reads the file to describe it and loading reads it again, so parsed tables are
cached by path, modification time and size.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.data.raw import RawDataset, split_fixed
from workbench.data.sources.local_path import option_path
from workbench.errors import ConfigError, DataError
from workbench.formatting import counted

#: More distinct labels than this is almost surely a numeric target meant for regression.
MAX_CLASSES = 1000


@dataclass(frozen=True)
class Table:
    features: np.ndarray  # float32 (N, F), as written in the file
    targets: np.ndarray  # int64 (N,) class indices, or float32 (N, 1)
    feature_names: tuple[str, ...]
    target_name: str
    class_names: tuple[str, ...]  # empty for regression


def read_table(options: dict[str, Any]) -> Table:
    """Parse the CSV named by the options (cached while the file is unchanged)."""
    path = option_path(options)
    if not path.is_file():
        what = "a folder" if path.is_dir() else "not a regular file"
        raise DataError(f"data.options.path: {path} is {what}, expected a .csv file")
    stat = path.stat()
    return _read_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size, options["target"], options["task"])


def load_csv(options: dict[str, Any]) -> RawDataset:
    table = read_table(options)
    return split_fixed(table.features, table.targets, table.class_names, str(options["path"]))


@functools.lru_cache(maxsize=4)
def _read_cached(path: str, mtime_ns: int, size: int, target: str, task: str) -> Table:
    header, lines, rows = read_rows(Path(path))
    if len(rows) < 2:
        raise DataError(f"{path}: {counted(len(rows), 'data row')}; need at least 2 to hold out a test set")
    target = target.strip()
    if target and target not in header:
        raise ConfigError(
            f"data.options.target: {target!r} is not a column of {path}; columns: {', '.join(header)}",
            field="data.options.target",
        )
    target_col = header.index(target) if target else len(header) - 1
    if len(header) < 2:
        raise DataError(f"{path}: needs at least one feature column besides the target {header[target_col]!r}")
    feature_cols = [j for j in range(len(header)) if j != target_col]
    cells = np.array(rows, dtype=str).reshape(len(rows), len(header))
    features = numeric_cells(cells[:, feature_cols], lines, [header[j] for j in feature_cols], path)
    column = cells[:, target_col]
    if task == "regression":
        targets = numeric_cells(column[:, None], lines, [header[target_col]], path)[:, :1]
        names: tuple[str, ...] = ()
    else:
        targets, names = _classes(column, lines, header[target_col], path)
    return Table(features, targets, tuple(header[j] for j in feature_cols), header[target_col], names)


def read_rows(path: Path) -> tuple[list[str], list[int], list[list[str]]]:
    """Header, the line number of each data row, and the rows; every row as wide as the header
    (also what ``workbench predict`` reads a file of rows to predict with)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            lines, rows = [], []
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise DataError(f"{path} line {reader.line_num}: {len(row)} values, expected {len(header)} like the header")
                lines.append(reader.line_num)
                rows.append(row)
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file") from None
    except csv.Error as error:
        raise DataError(f"{path}: not a readable CSV file: {error}") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read: {error.strerror}") from None
    if not header or not any(header):
        raise DataError(f"{path}: empty file; expected a header row naming the columns")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DataError(f"{path}: column name {duplicates[0]!r} appears more than once in the header")
    return header, lines, rows


def numeric_cells(cells: np.ndarray, lines: list[int], names: list[str], path: str) -> np.ndarray:
    """Convert a block of text cells to float32, or name the first cell that is not a number."""
    try:
        values = np.char.strip(cells).astype(np.float64)
        if np.isfinite(values).all():
            return values.astype(np.float32)
    except ValueError:
        pass
    for i, row in enumerate(cells):
        for j, text in enumerate(row):
            try:
                ok = np.isfinite(float(text))
            except ValueError:
                ok = False
            if not ok:
                shown = "is empty" if not text.strip() else f"{text.strip()!r} is not a finite number"
                raise DataError(f"{path} line {lines[i]}, column {names[j]!r}: {shown}")
    raise AssertionError("unreachable: a cell failed to convert but every cell converts")  # pragma: no cover


def _classes(column: np.ndarray, lines: list[int], name: str, path: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class indices and names; numeric labels are ordered by value (2 before 10)."""
    labels = np.char.strip(column)
    if (labels == "").any():
        line = lines[int(np.argmax(labels == ""))]
        raise DataError(f"{path} line {line}, column {name!r}: the label is empty")
    names, inverse = np.unique(labels, return_inverse=True)
    if len(names) < 2:
        raise DataError(f"{path}: the target column {name!r} has only one class ({names[0]!r}); need at least 2")
    if len(names) > MAX_CLASSES:
        raise DataError(
            f"{path}: the target column {name!r} has {len(names)} distinct values; "
            'for a numeric target set data.options.task = "regression"'
        )
    try:
        order = np.argsort(names.astype(np.float64), kind="stable")
    except ValueError:
        order = np.arange(len(names))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse].astype(np.int64), tuple(str(n) for n in names[order])
