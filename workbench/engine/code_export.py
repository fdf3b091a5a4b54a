"""The script export of a model with classes of the user's: their source travels inside it.

``workbench export --format script`` writes plain PyTorch that runs without Workbench
(``python model.py``). A catalog model's script is the code view's source; a model of the
user's own class (``model.code = "nets.py:Net"``), or a layer list with Code layers, needs
their source too, so the script carries every module this process imported from the user's
folders (the file that defines the class, any neighbour or package of theirs it imports), read
from the files actually imported: a run's copy of its code when there is one, so the script
holds the code the weights were trained with.

Each module's source is kept as written, one string per module, and imported under its own
name when the script runs (a finder first on ``sys.meta_path``), not pasted into the script:
a training block under ``if __name__ == "__main__":`` in their file stays asleep, ``from
__future__`` imports keep working, and their file's line numbers stay theirs in a traceback.
"""

from __future__ import annotations

import ast
from typing import Any

from workbench.errors import WorkbenchError
from workbench.usercode.copies import imported_modules
from workbench.usercode.importing import user_folders
from workbench.usercode.reference import CodeRef

#: The part of the script that installs the user's modules from ``SOURCES`` (and ``PACKAGES``).
_FINDER = '''class _YourCode(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the modules in SOURCES from this file, before any file of the same name."""

    def find_spec(self, name, path=None, target=None):
        if name not in SOURCES:
            return None
        origin = name.replace(".", "/") + ("/__init__.py" if name in PACKAGES else ".py")  # as in its folder
        return importlib.util.spec_from_loader(name, self, origin=origin, is_package=name in PACKAGES)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(compile(SOURCES[module.__name__], module.__spec__.origin, "exec"), module.__dict__)


sys.meta_path.insert(0, _YourCode())'''


def carried_code(refs: list[CodeRef]) -> str:
    """The start of a script that builds classes of the user's (``refs``: the model's, or the
    Code layers'): every module of theirs this process imported, as strings, and the finder
    that imports them. Refuses in one line when a class's own module was not imported here."""
    modules = imported_modules(sorted(user_folders()))
    for ref in refs:
        if ref.path.stem not in modules:
            raise WorkbenchError(f"{ref.where}: {ref.label} was not imported by this process, so its source cannot be carried")
    packages = sorted(name for name, path in modules.items() if path.name == "__init__.py")
    sources = "".join(
        f"    # {_file_name(name, name in packages)}, as the run trained with it\n"
        f"    {name!r}: {source_literal(path.read_text(encoding='utf-8'))},\n"
        for name, path in modules.items()
    )
    classes = ", ".join(ref.label for ref in refs)
    header = (
        f"# Your own code ({classes}), carried in this file as the run trained with it: nothing to install\n"
        "# but torch and what your code imports.\n"
        "import importlib.abc\nimport importlib.util\nimport sys"
    )
    carried = f"SOURCES = {{\n{sources}}}\nPACKAGES = {packages!r}"
    return "\n\n\n".join([header, carried, _FINDER])


def code_model_source(ref: CodeRef, args: dict[str, Any], preprocess: str) -> str:
    """The model part of the script of a model that is the user's class (after
    :func:`carried_code`): ``model = Class(**ARGS)``, then ``preprocess``."""
    imports = f"import torch\nfrom torch import nn\n\nfrom {ref.path.stem} import {ref.name}  # your own code, carried above"
    return f"{imports}\n\nARGS = {_args_literal(args, ref)}\nmodel = {ref.name}(**ARGS)\n\n{preprocess}\n"


def _file_name(module: str, package: bool) -> str:
    """Where the module's file lies in the user's folder: ``nets.py``, ``parts/__init__.py``."""
    return module.replace(".", "/") + ("/__init__.py" if package else ".py")


def source_literal(source: str) -> str:
    """A Python literal of ``source`` that reads like the file: a raw triple-quoted string when the
    text allows one, else its ``repr``."""
    if "'''" in source or source.endswith(("\\", "'")) or "\r" in source or "\0" in source:
        return repr(source)
    return "r'''" + source + "'''"


def _args_literal(args: dict[str, Any], ref: CodeRef) -> str:
    """The class's keyword arguments as a Python literal; one line when one is not a plain
    value (a TOML date, say) that the script could write."""
    text = repr(dict(args))
    try:
        same = ast.literal_eval(text) == args
    except (ValueError, SyntaxError):
        same = False
    if not same:
        raise WorkbenchError(f"model.args of {ref.label}: {text} cannot be written as Python values in the script")
    return text
