"""The experiment being edited: one shared draft with undo, redo and live validation.

Every screen of the app edits the same :class:`Draft`. Each change goes through one method
that copies the current :class:`~workbench.schema.config.RunConfig`, applies the change, records the
previous state for undo and revalidates with :func:`workbench.experiment.validation.problems`, so a screen can
never show a stale problem list and a test can drive every edit without the app.

A model or data set of the user's own code (``model.code``) is learnt by running it once in a
child process, which takes seconds: the draft validates with the answers on hand
(:func:`~workbench.usercode.probing.answers_on_hand`), says meanwhile that the code is being
run, and lists the questions still to ask (:attr:`Draft.pending_probes`) for the app to ask off
its UI thread before it calls :meth:`Draft.recheck`.

A draft may be invalid (that is what editing looks like); values a field's schema rejects
outright (``-3`` for a batch size, ``abc`` for a rate) are refused with a ConfigError and leave
the draft unchanged, while values that only clash with the rest of the experiment (a Linear
whose size no longer matches) are kept and reported by :attr:`Draft.problems`.

Below the UI line: no textual, no rich, no torch.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.data.registry import DatasetInfo, dataset_spec, split_sizes
from workbench.data.splitting import steps_per_epoch
from workbench.errors import ConfigError, describe_error
from workbench.experiment.naming import identity
from workbench.experiment.validation import check_experiment
from workbench.model.catalog import GROUPS, LAYER_TYPES, layer_type
from workbench.model.shapes import ModelAnalysis, layer_names
from workbench.optim.catalog import LOSSES, OPTIMIZERS, SCHEDULES, Choice
from workbench.schema.config import DataConfig, LayerSpec, ModelConfig, RunConfig, layer_index, layer_name_problem, section_params
from workbench.schema.params import Param, parse_field_text
from workbench.usercode.probing import PROBE_TIMEOUT_S, PendingProbe, answers_on_hand

#: How much undo history a draft keeps; older steps are dropped.
HISTORY_LIMIT = 200

#: The catalog behind each choosable section: its name picks an entry whose params sit in ``params``.
CATALOGS: dict[str, dict[str, Choice]] = {"loss": LOSSES, "optimizer": OPTIMIZERS, "schedule": SCHEDULES}

#: The schema of a layer's optional explicit name (not a catalog parameter, but edited like one).
LAYER_NAME = Param("name", "str", "", "name in the model and the code view; empty = automatic (conv1, fc2, ...)")
#: The schema of a layer's group: consecutive layers of one group form a named nn.Sequential.
LAYER_GROUP = Param(
    "group", "str", "", "named block of consecutive layers (e.g. conv, dense) in the model and the code; empty = none"
)
#: The fields of a layer that are not catalog parameters.
_LAYER_FIELDS = {"name": LAYER_NAME, "group": LAYER_GROUP}


@dataclass(frozen=True)
class _Step:
    config: RunConfig
    label: str


class Draft:
    """The experiment being edited, with undo/redo and its current problems.

    ``config`` is the current state; treat it as read-only and change it through the methods
    here (each one is a single undo step). Subscribers are called after every change.
    """

    def __init__(self, config: RunConfig, source: str = "", *, probe_timeout_s: float = PROBE_TIMEOUT_S) -> None:
        self._subscribers: list[Callable[[], None]] = []
        #: Seconds the user's code may take when it is run once to learn its shapes.
        self.probe_timeout_s = probe_timeout_s
        self._pending: tuple[PendingProbe, ...] = ()
        self.version = 0
        self._config = config.copy()
        self._saved = config.copy()
        self.source = source
        self._past: list[_Step] = []
        self._future: list[_Step] = []
        self._merge_key: str | None = None
        self._problems: list[ConfigError] = []
        #: Text typed into a field that its schema refused, by path: the field still shows it,
        #: so the experiment is not what the screen says until it is corrected.
        self._refused: dict[str, ConfigError] = {}
        self._info: DatasetInfo | None = None
        self._analysis: ModelAnalysis | None = None
        self._load(config, source)

    # ------------------------------------------------------------------ state

    @property
    def config(self) -> RunConfig:
        return self._config

    @property
    def name(self) -> str:
        return self._config.name or "untitled"

    @property
    def dirty(self) -> bool:
        """True when the experiment differs from what was last opened or saved."""
        return self._config != self._saved

    @property
    def problems(self) -> list[ConfigError]:
        """Every problem of the current experiment, each naming its field; empty when it can train.

        Refused text comes first: a field showing ``abc`` for the LR must stop a run that would
        otherwise train, silently, with the old value.
        """
        return [*self._refused.values(), *self._problems]

    @property
    def can_undo(self) -> bool:
        return bool(self._past)

    def problems_under(self, prefix: str) -> list[ConfigError]:
        """Problems whose field is ``prefix`` or lies below it (``optimizer`` -> ``optimizer.lr``)."""
        return [p for p in self.problems if _under(p.field, prefix)]

    @property
    def dataset_info(self) -> DatasetInfo | None:
        """Facts about the chosen dataset, or None while the data section is invalid."""
        return self._info

    @property
    def analysis(self) -> ModelAnalysis | None:
        """Shape inference of the layer stack (None while the dataset is unknown)."""
        return self._analysis

    @property
    def pending_probes(self) -> tuple[PendingProbe, ...]:
        """The user's code still to be run once before the draft's check is complete (each
        one's problem says meanwhile that it is being run): ask them, then :meth:`recheck`."""
        return self._pending

    def layer_error_index(self) -> int | None:
        """Index of the first layer that breaks the stack, if one does (None for an empty stack)."""
        if self._analysis is None or self._analysis.error is None or not self._config.model.layers:
            return None
        index = layer_index(self._analysis.error.field)
        if index is not None:
            return min(index, len(self._config.model.layers) - 1)
        return min(len(self._analysis.layers), len(self._config.model.layers) - 1)

    def steps_per_epoch(self) -> int | None:
        """Optimizer steps per epoch for the current data settings, or None while they are invalid."""
        if self._info is None:
            return None
        train = split_sizes(self._config.data, self._info).train
        return steps_per_epoch(train, self._config.data.batch_size)

    def run_identity(self) -> tuple[str, str]:
        """The name and description a run of the experiment takes: its own, or, once its data
        or model differ from what was opened or saved, ones that say what it now is."""
        return identity(self._config, self._saved)

    def ready_to_train(self) -> RunConfig:
        """A copy of the experiment to hand to the trainer; raises the first problem while there is one."""
        problems = self.problems
        if problems:
            raise problems[0]
        return self._config.copy()

    # ------------------------------------------------------------------ subscribers

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every change (edits, undo, redo, load, save)."""
        self._subscribers.append(callback)

    def _changed(self) -> None:
        self.version += 1
        self._revalidate()
        for callback in list(self._subscribers):
            callback()

    def recheck(self) -> None:
        """Check the experiment again after something outside it changed (a dataset was
        downloaded) and tell the subscribers; nothing is recorded in the history."""
        self._changed()

    # ------------------------------------------------------------------ whole experiment

    def load(self, config: RunConfig, source: str = "") -> None:
        """Replace the experiment (a preset or a run's config was opened); history starts afresh."""
        self._load(config, source)
        self._changed()

    def mark_saved(self, name: str, source: str = "") -> None:
        """The experiment was saved as ``name``: it is clean again (undo history is kept)."""
        self._config = self._config.copy()
        self._config.name = name
        self._saved = self._config.copy()
        self.source = source or self.source
        self._merge_key = None
        self._changed()

    def _load(self, config: RunConfig, source: str) -> None:
        self._refused.clear()
        self._config = config.copy()
        self._saved = config.copy()
        self.source = source
        self._past = []
        self._future = []
        self._merge_key = None
        self._revalidate()

    # ------------------------------------------------------------------ the one way to change it

    def edit(self, label: str, change: Callable[[RunConfig], object], *, merge_key: str | None = None) -> bool:
        """Apply ``change`` to a copy of the experiment as one undo step labelled ``label``.

        Consecutive edits with the same ``merge_key`` (typing into one field) form a single
        undo step. Returns False (and records nothing) when the change changed nothing.
        A ConfigError raised by ``change`` propagates and leaves the draft as it was.
        """
        updated = self._config.copy()
        change(updated)
        if updated == self._config:
            return False
        if merge_key is None or merge_key != self._merge_key or not self._past:
            self._past.append(_Step(self._config, label))
            del self._past[:-HISTORY_LIMIT]
        self._future.clear()
        self._merge_key = merge_key
        self._config = updated
        self._changed()
        return True

    def undo(self) -> str | None:
        """Go back one step; returns what was undone, or None when there is nothing to undo."""
        return self._travel(self._past, self._future)

    def redo(self) -> str | None:
        """Re-apply the last undone step; returns what was redone, or None."""
        return self._travel(self._future, self._past)

    def take_back(self) -> str | None:
        """Undo the last edit for good, not to be redone: a layer was added, then its editor
        cancelled, so the person never meant the experiment to have it."""
        return self._travel(self._past, [])

    def _travel(self, source: list[_Step], target: list[_Step]) -> str | None:
        """Move one step through the history: take the config from ``source``, keep the current
        one on ``target`` (undo and redo are the same move in opposite directions)."""
        if not source:
            return None
        step = source.pop()
        self._refused.clear()  # the fields show the values stepped to
        target.append(_Step(self._config, step.label))
        self._config = step.config
        self._merge_key = None
        self._changed()
        return step.label

    # ------------------------------------------------------------------ fields by path

    def param_at(self, path: str) -> Param:
        """The schema of the field at ``path`` (``data.batch_size``, ``optimizer.momentum``, ...)."""
        return param_at(self._config, path)

    def value_at(self, path: str) -> Any:
        """The current value at ``path``; a catalog parameter that is not set gives its default."""
        return value_at(self._config, path)

    def set_value(self, path: str, value: Any, *, label: str = "") -> bool:
        """Set the field at ``path`` to ``value``, checked by its schema (ConfigError if refused).

        Naming another loss, optimizer, schedule or dataset goes through :meth:`select` and
        :meth:`set_dataset`, which also tidy the parameters that belong to the old choice.
        Edits of one field merge into one undo step (typing); one given a ``label`` (a value
        taken from the LR finder) is a step of its own, undone alone.
        """
        value = param_at(self._config, path).coerce(value, path)
        corrected = self._refused.pop(path, None) is not None
        if path == "data.dataset":
            changed = self.set_dataset(value)
        elif _section_name(path) in CATALOGS and path.count(".") == 1 and path.endswith(".name"):
            changed = self.select(_section_name(path), value)
        else:
            changed = self.edit(label or f"set {path}", lambda c: _assign(c, path, value), merge_key=None if label else path)
        if corrected and not changed:  # back to the value it had: nothing to record, but say it is fixed
            self._changed()
        return changed

    def refuse_text(self, error: ConfigError) -> None:
        """A field (``error.field``) shows text its schema refused: the experiment cannot train
        until the field is corrected (:meth:`set_value`), an edit is undone or redone, or
        another experiment is opened."""
        if str(self._refused.get(error.field, "")) == str(error):
            return
        self._refused[error.field] = error
        self._changed()

    def set_text(self, path: str, text: str) -> bool:
        """Set the field at ``path`` from what a person typed (ConfigError if the schema refuses it)."""
        return self.set_value(path, parse_field_text(param_at(self._config, path), text, path))

    def select(self, section: str, name: str) -> bool:
        """Pick the loss, optimizer or schedule ``name``; parameters the new choice shares are kept."""
        entry = _choice(section, name)
        known = {p.name for p in entry.params}

        def change(config: RunConfig) -> None:
            part = getattr(config, section)
            part.name = name
            part.params = {k: v for k, v in part.params.items() if k in known}

        return self.edit(f"{section} {name}", change)

    def set_dataset(self, name: str) -> bool:
        """Train on dataset ``name``; its options start from their defaults."""
        dataset_spec(name, "data.dataset")

        def change(config: RunConfig) -> None:
            if config.data.dataset != name:
                config.data.dataset = name
                config.data.options = {}

        return self.edit(f"dataset {name}", change)

    # ------------------------------------------------------------------ layers

    def add_layer(self, after: int, type_name: str) -> int:
        """Insert a ``type_name`` layer with default parameters after index ``after`` (-1: first).

        Returns the new layer's index.
        """
        layer_type(type_name, "model.layers")
        layers = self._config.model.layers
        index = max(0, min(after + 1, len(layers)))
        # Inside a group (the layers on both sides share it) the new layer joins it, so the
        # group stays in one piece; elsewhere it starts outside any group.
        around = {layers[i].group for i in (index - 1, index) if 0 <= i < len(layers)}
        group = around.pop() if len(around) == 1 and 0 < index < len(layers) else ""
        self.edit(f"add {type_name}", lambda c: c.model.layers.insert(index, LayerSpec(type_name, group=group)))
        return index

    def delete_layer(self, index: int) -> None:
        self._layer(index)
        self.edit(f"delete {self._layer_label(index)}", lambda c: c.model.layers.pop(index))

    def move_layer(self, index: int, delta: int) -> int:
        """Move a layer up (``delta=-1``) or down (``+1``); returns its new index."""
        self._layer(index)
        target = max(0, min(index + delta, len(self._config.model.layers) - 1))
        if target != index:

            def change(config: RunConfig) -> None:
                config.model.layers.insert(target, config.model.layers.pop(index))

            self.edit(f"move {self._layer_label(index)} {'up' if delta < 0 else 'down'}", change)
        return target

    def set_layer_text(self, index: int, name: str, text: str) -> bool:
        """Set one parameter (or the name, or the group) of a layer from typed text."""
        return self.set_text(f"model.layers.{index}.{name}", text)

    def group_layers(self, indices: Iterable[int], group: str) -> bool:
        """Put the layers at ``indices`` into the named group (empty: out of any group).

        However many layers, it is one undo step: ctrl+z takes the whole grouping back, as the
        person made it with one dialog. A group is one ``nn.Sequential`` (``model_parts``), so a
        grouping that would leave a group in pieces is refused (ConfigError naming why, from
        :meth:`group_problem`) and changes nothing.
        """
        chosen = sorted(set(indices))
        group = group.strip()
        problem = self.group_problem(chosen, group)
        if problem:
            where = f"model.layers.{chosen[0]}.group" if chosen else "model.layers"
            raise ConfigError(f"{where}: {problem}", field=where)

        def change(config: RunConfig) -> None:
            for index in chosen:
                config.model.layers[index].group = group

        return self.edit(f"{'group' if group else 'ungroup'} {self.layers_label(chosen)}", change)

    def group_problem(self, indices: Sequence[int], group: str) -> str | None:
        """Why the layers at ``indices`` cannot be put into ``group``, in words; None when they can.

        Checked before the draft changes (the group dialog asks before it closes): the
        name must be a name, the layers of a group consecutive, and no other group may be cut
        in two. A group already in pieces (opened from a file) may stay so, not get worse.
        """
        indices = sorted(set(indices))
        if not indices:
            return "no layer to group"
        for index in indices:
            self._layer(index)
        group = group.strip()
        if group:
            problem = layer_name_problem(group, "group name") or self.layers_apart(indices)
            if problem:
                return problem
        layers = self._config.model.layers
        before = [layer.group for layer in layers]
        after = [group if index in indices else name for index, name in enumerate(before)]
        pieces_before = _group_pieces(before)
        for name, pieces in _group_pieces(after).items():
            if pieces > max(1, pieces_before.get(name, 0)):
                names = layer_names(layers)
                if name == group:
                    held = [index for index, old in enumerate(before) if old == name and index not in indices]
                    return (
                        f"the group {name!r} already holds {_span(names, held)}, not next to {_span(names, indices)};"
                        " a group's layers must be consecutive"
                    )
                return f"that would cut the group {name!r} in two around {_span(names, indices)}; a group's layers must be consecutive"
        return None

    def layers_apart(self, indices: Sequence[int]) -> str | None:
        """Why the layers at ``indices`` (ascending) are not one consecutive run; None when they are."""
        names = layer_names(self._config.model.layers)
        for first, then in itertools.pairwise(indices):
            if then != first + 1:
                between = _span(names, list(range(first + 1, then)))
                return f"{names[first]} and {names[then]} are not consecutive ({between} between them); a group's layers must be consecutive"
        return None

    def replace_layer(self, index: int, layer: LayerSpec) -> bool:
        """Replace a layer as one step (the layer editor applies all its fields at once)."""
        new = self.checked_layer(index, layer)

        def change(config: RunConfig) -> None:
            config.model.layers[index] = new

        return self.edit(f"edit {self._layer_label(index)}", change)

    def checked_layer(self, index: int, layer: LayerSpec) -> LayerSpec:
        """``layer`` as it would replace layer ``index``: parameters checked against its schema.

        Values equal to the default that were not set before are left out, so the saved TOML
        stays as short as a person writes it. ConfigError (naming the field) if one is refused.
        """
        where = f"model.layers.{index}"
        old = self._layer(index)
        kind = layer_type(layer.type, f"{where}.type")
        for field, what in (("name", "layer name"), ("group", "group name")):
            problem = layer_name_problem(getattr(layer, field), what)
            if problem:
                raise ConfigError(f"{where}.{field}: {problem}", field=f"{where}.{field}")
        params = {}
        for param in kind.params:
            if param.name in layer.params:
                value = param.coerce(layer.params[param.name], f"{where}.{param.name}")
                if value != param.default or param.name in old.params:
                    params[param.name] = value
        return LayerSpec(layer.type, layer.name, params, layer.group)

    def use_code(self, code: str, args: dict[str, Any]) -> bool:
        """Make the model the class ``code`` names (``/abs/nets.py:Net``) called with ``args``,
        or, with ``code`` empty, a layer list again (empty: ``a`` or ``p`` fills it). The layer
        list goes when a class comes (a model is one or the other); init schemes stay. One undo
        step: ctrl+z brings the layers back."""
        model = dataclasses.replace(self._config.model, code=code, args=dict(args) if code else {}, layers=[])
        if not code and not self._config.model.code:
            return False  # already a layer list: keep its layers
        label = f"model {code.rpartition('/')[2]}" if code else "model of layers"
        return self.replace_model(model, label)

    def replace_model(self, model: ModelConfig, label: str = "replace the model") -> bool:
        """Start from another model (e.g. a preset's); one undo step."""

        def change(config: RunConfig) -> None:
            config.model = dataclasses.replace(
                model, layers=[dataclasses.replace(layer, params=dict(layer.params)) for layer in model.layers]
            )

        return self.edit(label, change)

    def _layer_label(self, index: int) -> str:
        """``conv1``: the layer's name as the table and the code show it."""
        return layer_names(self._config.model.layers)[index]

    def layers_label(self, indices: Sequence[int]) -> str:
        """``conv1``, ``conv1–pool1`` or ``conv1, pool1`` (ascending ``indices``): the layers as
        the table and the code name them."""
        return _span(layer_names(self._config.model.layers), indices)

    def _layer(self, index: int) -> LayerSpec:
        layers = self._config.model.layers
        if not 0 <= index < len(layers):
            raise ConfigError(f"model.layers.{index}: no such layer (there are {len(layers)})", field="model.layers")
        return layers[index]

    # ------------------------------------------------------------------ validation

    def _revalidate(self) -> None:
        """One check of the whole experiment gives the problems, the dataset and the shapes."""
        with answers_on_hand() as pending:  # never the user's code on the UI thread: see pending_probes
            try:
                checked = check_experiment(self._config)
            except Exception as error:  # noqa: BLE001 - a draft can hold anything; say why it cannot be checked
                self._problems = [ConfigError(f"the experiment cannot be checked: {describe_error(error)}")]
                self._info, self._analysis, self._pending = None, None, ()
                return
        self._pending = tuple({probe.key: probe for probe in pending}.values())
        self._problems, self._info, self._analysis = checked.problems, checked.info, checked.analysis


# ---------------------------------------------------------------------- field paths


def param_at(config: RunConfig, path: str) -> Param:
    """The schema of the field at a dotted ``path`` of the experiment.

    Plain fields carry their Param in the dataclass metadata; catalog parameters come from the
    catalog entry the section currently names (the optimizer's, the layer type's, the
    dataset's options). ConfigError when the path leads nowhere.
    """
    node, last = _parent(config, path)
    if isinstance(node, DataConfig) and last == "options":
        raise ConfigError(f"{path}: name a dataset option, e.g. {path}.noise", field=path)
    if isinstance(node, dict):  # data.options.<name>
        spec = dataset_spec(config.data.dataset)
        return _find(spec.options, last, path, f"dataset {spec.name}")
    if isinstance(node, LayerSpec):
        if last in _LAYER_FIELDS:
            return _LAYER_FIELDS[last]
        kind = layer_type(node.type, path.rsplit(".", 1)[0] + ".type")
        return _find(kind.params, last, path, f"layer {kind.name}")
    plain = {p.name: p for p in section_params(type(node))}
    if last in plain:
        param = plain[last]
        section = _section_name(path)
        if last == "name" and section in CATALOGS:
            return dataclasses.replace(param, kind="choice", choices=tuple(CATALOGS[section]))
        return param
    section = _section_name(path)
    if section in CATALOGS:
        entry = _choice(section, node.name)
        return _find(entry.params, last, path, f"{section} {entry.name}")
    raise ConfigError(f"{path}: no such field", field=path)


def value_at(config: RunConfig, path: str) -> Any:
    """The value at ``path``; an unset catalog parameter reads as its default."""
    node, last = _parent(config, path)
    if isinstance(node, dict):
        return node.get(last, param_at(config, path).default)
    if isinstance(node, LayerSpec) and last not in _LAYER_FIELDS:
        return node.params.get(last, param_at(config, path).default)
    if dataclasses.is_dataclass(node) and last in {f.name for f in dataclasses.fields(node)} and last != "params":
        return getattr(node, last)
    return node.params.get(last, param_at(config, path).default)


def _parent(config: RunConfig, path: str) -> tuple[Any, str]:
    """The object holding the last part of ``path``, and that last part."""
    parts = path.split(".")
    node: Any = config
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"{where}: no such item (there are {len(node)})", field=where)
            node = node[int(part)]
        elif dataclasses.is_dataclass(node) and part in {f.name for f in dataclasses.fields(node)}:
            node = getattr(node, part)
        else:
            raise ConfigError(f"{path}: no such field", field=path)
    return node, parts[-1]


def _assign(config: RunConfig, path: str, value: Any) -> None:
    node, last = _parent(config, path)
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, LayerSpec) and last in _LAYER_FIELDS:
        setattr(node, last, value)
    elif isinstance(node, LayerSpec) or last not in {f.name for f in dataclasses.fields(node)}:
        node.params[last] = value
    else:
        setattr(node, last, value)


def _section_name(path: str) -> str:
    return path.split(".", 1)[0]


def _span(names: Sequence[str], indices: Sequence[int]) -> str:
    """``relu1``, ``bn1–relu1`` for a consecutive run of layers, ``conv1, pool1`` for others."""
    if len(indices) == 1:
        return names[indices[0]]
    if list(indices) == list(range(indices[0], indices[-1] + 1)):
        return f"{names[indices[0]]}–{names[indices[-1]]}"
    return ", ".join(names[index] for index in indices)


def _group_pieces(groups: Sequence[str]) -> dict[str, int]:
    """For each group name, how many consecutive runs of layers it has (1: it is in one piece)."""
    pieces: dict[str, int] = {}
    for index, group in enumerate(groups):
        if group and (index == 0 or groups[index - 1] != group):
            pieces[group] = pieces.get(group, 0) + 1
    return pieces


def _under(field: str, prefix: str) -> bool:
    return field == prefix or field.startswith(prefix + ".")


def _find(params: Sequence[Param], name: str, path: str, what: str) -> Param:
    for param in params:
        if param.name == name:
            return param
    allowed = ", ".join(p.name for p in params) or "none"
    raise ConfigError(f"{path}: unknown parameter for {what}; allowed: {allowed}", field=path)


def _choice(section: str, name: str) -> Choice:
    table = CATALOGS[section]
    if name not in table:
        raise ConfigError(f"{section}.name: unknown {section} {name!r}; allowed: {', '.join(table)}", field=f"{section}.name")
    return table[name]


def layer_types_by_group() -> dict[str, list[str]]:
    """Layer type names in catalog order, grouped as the layer picker shows them."""
    return {group: [name for name, t in LAYER_TYPES.items() if t.group == group] for group in GROUPS}
