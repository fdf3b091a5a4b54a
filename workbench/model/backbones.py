"""Pretrained torchvision classifiers as one layer: the facts Workbench needs, without torch.

A ``Backbone`` layer is a torchvision classification model (resnet18, ...) with its head (the
last Linear) replaced to fit the task, optionally with its published ImageNet weights and
frozen. Shape inference, validation, the code view and the Data screen's note about resized
inputs all work from this table, so the app knows a backbone's output width and parameter count
before torch (or torchvision) has loaded; a test holds every row to torchvision itself.

Inputs of a model that starts with a backbone are resized per batch, on the device, to the
size the backbone works at (224 for the published weights) and, with its weights, normalised
with the ImageNet statistics they were trained with. Torchvision's own evaluation transform
resizes to 256 and crops the central 224; Workbench resizes straight to 224, since the
datasets it trains on are small pictures that a crop would only cut the border off.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from workbench import paths
from workbench.formatting import counted
from workbench.schema.config import LayerSpec, ModelConfig

#: The catalog type name of the layer.
BACKBONE = "Backbone"

#: What the published ImageNet weights were trained on: torchvision's mean and std (RGB, 0..1).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: The size the published weights were trained at (every backbone here).
WEIGHTS_SIZE = 224
#: The smallest input every backbone here takes (convnext's stem and three downsamplings).
MIN_INPUT_SIZE = 32


@dataclass(frozen=True)
class BackboneSpec:
    """One torchvision classifier: where it lives, its head and its published weights."""

    name: str  # the builder function in torchvision.models, e.g. "resnet18"
    module: str  # the torchvision submodule that defines it, imported alone
    weights_enum: str  # e.g. "ResNet18_Weights"
    weights_member: str  # torchvision's DEFAULT of that enum, e.g. "IMAGENET1K_V1"
    url: str  # where torchvision publishes those weights
    download_mb: float
    head: str  # the last Linear, as a submodule path: "fc", "classifier.3"
    features: int  # the head's input width: what the backbone gives without its head
    body_params: int  # parameters of everything but the head
    interpolation: str  # how torchvision resizes for these weights: "bilinear" or "bicubic"
    #: Values of every layer's output for one 224x224 image (torch forward hooks on each leaf
    #: module), for the memory estimate: the layer table shows the backbone as one layer.
    activations: int

    @property
    def file_name(self) -> str:
        """The weights file as torchvision publishes it (a person may put it in the cache by hand)."""
        return self.url.rsplit("/", 1)[-1]

    @property
    def hash_prefix(self) -> str:
        """The start of the file's SHA-256, which torchvision puts in its name: ``resnet18-f37072fd.pth``."""
        prefix = name_hash_prefix(self.file_name)
        assert prefix is not None, self.file_name  # every published name carries one
        return prefix

    @property
    def weights_name(self) -> str:
        return f"{self.weights_enum}.{self.weights_member}"


_MODELS = "https://download.pytorch.org/models/"

BACKBONES: dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in (
        BackboneSpec(
            "resnet18", "resnet", "ResNet18_Weights", "IMAGENET1K_V1", _MODELS + "resnet18-f37072fd.pth", 44.7,
            "fc", 512, 11_176_512, "bilinear", 7_477_736,
        ),
        BackboneSpec(
            "resnet34", "resnet", "ResNet34_Weights", "IMAGENET1K_V1", _MODELS + "resnet34-b627a593.pth", 83.3,
            "fc", 512, 21_284_672, "bilinear", 11_240_936,
        ),
        BackboneSpec(
            "resnet50", "resnet", "ResNet50_Weights", "IMAGENET1K_V2", _MODELS + "resnet50-11ad3fa6.pth", 97.8,
            "fc", 2048, 23_508_032, "bilinear", 32_040_424,
        ),
        BackboneSpec(
            "mobilenet_v3_small", "mobilenetv3", "MobileNet_V3_Small_Weights", "IMAGENET1K_V1",
            _MODELS + "mobilenet_v3_small-047dcff4.pth", 9.8, "classifier.3", 1024, 1_517_856, "bilinear", 4_106_768,
        ),
        BackboneSpec(
            "mobilenet_v3_large", "mobilenetv3", "MobileNet_V3_Large_Weights", "IMAGENET1K_V2",
            _MODELS + "mobilenet_v3_large-5c1a4163.pth", 21.1, "classifier.3", 1280, 4_202_032, "bilinear", 12_643_984,
        ),
        BackboneSpec(
            "efficientnet_b0", "efficientnet", "EfficientNet_B0_Weights", "IMAGENET1K_V1",
            _MODELS + "efficientnet_b0_rwightman-7f5810bc.pth", 20.5, "classifier.1", 1280, 4_007_548, "bicubic", 19_874_240,
        ),
        BackboneSpec(
            "convnext_tiny", "convnext", "ConvNeXt_Tiny_Weights", "IMAGENET1K_V1", _MODELS + "convnext_tiny-983f1562.pth",
            109.1, "classifier.2", 768, 27_820_128, "bilinear", 31_426_024,
        ),
    )
}  # fmt: skip


def weights_dir() -> str:
    """Where published weights are cached: ``<cache dir>/weights`` (as a string: torch.hub's model_dir)."""
    return str(paths.cache_dir() / "weights")


def published_file(spec: BackboneSpec) -> Path:
    """Where ``weights = "imagenet"`` reads the published file: the cache, under torchvision's name."""
    return Path(weights_dir()) / spec.file_name


# ----------------------------------------------------------------------------- weights files

#: A backbone layer's ``weights``: these two words, or else the path of a weights file.
PUBLISHED, RANDOM = "imagenet", "none"
#: Torchvision's convention: ``<name>-<the first hex digits of the file's SHA-256>.<ext>``, as
#: torch.hub's download checks it (``resnet18-f37072fd.pth``); at least 8 digits, so that a
#: name like ``net-cafe.pt`` is not taken for one.
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")


def name_hash_prefix(file_name: str) -> str | None:
    """The SHA-256 prefix a weights file's name carries by torchvision's convention, if it does."""
    found = _HASH_IN_NAME.search(file_name)
    return found.group(1) if found else None


def weights_hash_problem(path: Path) -> str | None:
    """Whether a file named by torchvision's convention is that file (the start of its SHA-256 is
    the one its name carries): None when it is, or its name carries none. Reads the whole file:
    asked where weights load, and once before a run is launched, never as the user types."""
    expected = name_hash_prefix(path.name)
    if expected is None:
        return None
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    actual = digest.hexdigest()
    if actual.startswith(expected):
        return None
    return f"its SHA-256 starts {actual[: len(expected)]} where its name says {expected}: a damaged or different file"


def loaded_weights_file(params: dict[str, Any]) -> Path | None:
    """The file a Backbone layer of ``params`` loads its weights from: the path it names, or the
    cached published file for ``imagenet`` (None: random weights, or nothing cached yet)."""
    weights = params.get("weights")
    if not isinstance(weights, str) or weights == RANDOM:
        return None
    if weights == PUBLISHED:
        spec = BACKBONES.get(str(params.get("model")))
        return published_file(spec) if spec is not None and published_file(spec).is_file() else None
    return weights_file(weights)


def weights_file(value: str) -> Path | None:
    """The file a ``weights`` setting names, None for ``imagenet`` and ``none``. A relative path
    starts at the working directory, as data.options.path does."""
    return None if value in (PUBLISHED, RANDOM) else Path(value.strip()).expanduser()


def weights_file_problem(value: str) -> str | None:
    """Why a ``weights`` setting cannot be loaded, as far as a look at the file system tells
    (cheap: validation asks on every change); its contents are checked where they are loaded."""
    path = weights_file(value)
    if path is None:
        return None
    if not value.strip():
        return f'expected "{PUBLISHED}", "{RANDOM}" or the path of a weights file'
    try:
        if path.is_dir():
            return f"{value.strip()} is a folder; name the weights file in it"
        if not path.is_file():
            return f"no such file: {value.strip()}"
    except OSError as error:  # a name longer than the system allows, say
        return f"{value.strip()}: {error.strerror or error}"
    return None


def missing_weights_message(spec: BackboneSpec, problem: str) -> str:
    """One line: which file is missing, where it comes from and the folder to put it in."""
    return (
        f"{spec.name}: {problem}; download {spec.file_name} ({spec.download_mb} MB) from {spec.url} "
        f"and put it in {weights_dir()}, or set the layer's weights to none"
    )


# ----------------------------------------------------------------------------- the model's input


@dataclass(frozen=True)
class BackboneInput:
    """How the images of a model that starts with a backbone are prepared, per batch."""

    size: int  # resized to size x size, 3 channels (grey images repeated)
    imagenet: bool  # normalised with ImageNet statistics (else with the dataset's, as usual)
    interpolation: str
    backbone: str  # for messages: "resnet18"

    def note(self, channels: int = 3) -> str:
        """What happens to the inputs, in words (the Data screen shows it); ``channels``: the data's."""
        grey = "repeated to 3 channels, " if channels == 1 else ""
        if self.imagenet:
            return f"inputs {grey}resized to {self.size} and normalised with ImageNet statistics for {self.backbone}'s weights"
        return f"inputs {grey}resized to {self.size} for {self.backbone} (normalised with the dataset's statistics)"


def backbone_input(layers: list[LayerSpec]) -> BackboneInput | None:
    """The input preparation a model needs: only a model whose first layer is a backbone (with
    valid settings) has one; anything else is left to validation to point out."""
    if not layers or layers[0].type != BACKBONE:
        return None
    params = layers[0].params
    model, size, weights = params.get("model", "resnet18"), params.get("input_size", WEIGHTS_SIZE), params.get("weights")
    if model not in BACKBONES or not isinstance(size, int) or isinstance(size, bool) or size < MIN_INPUT_SIZE:
        return None
    # Published weights, or a file of them (fine-tuned from them): ImageNet's statistics either way.
    imagenet = weights != RANDOM
    return BackboneInput(size, imagenet, BACKBONES[model].interpolation, model)


def model_input_shape(layers: list[LayerSpec], data_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The per-sample shape the model receives: the data's, or (3, size, size) resized for a
    backbone that starts the model and gets images (1 or 3 channels)."""
    prepared = backbone_input(layers)
    if prepared is None or len(data_shape) != 3 or data_shape[0] not in (1, 3):
        return tuple(data_shape)
    return (3, prepared.size, prepared.size)


# ----------------------------------------------------------------------------- freezing


@dataclass(frozen=True)
class FrozenPart:
    """The parameters of one backbone layer that do not train, and until when."""

    layer: str  # the module name in the model: "backbone1"
    head: str | None  # the head's submodule path, kept trainable ("all_but_head"); None: all frozen
    until_epoch: int  # frozen for epochs 1..until_epoch; 0: for the whole run

    def frozen_in(self, epoch: int) -> bool:
        return self.until_epoch == 0 or epoch <= self.until_epoch


class AnalysedLayer(Protocol):
    """What freezing needs of an analysed layer (shapes.LayerInfo, which this module cannot import)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def num_params(self) -> int: ...


def frozen_parts(layers: Iterable[AnalysedLayer]) -> tuple[FrozenPart, ...]:
    """What the freeze settings of analysed layers freeze."""
    parts = []
    for info in layers:
        freeze = info.params.get("freeze", "none") if info.type == BACKBONE else "none"
        if freeze != "none":
            head = BACKBONES[info.params["model"]].head if freeze == "all_but_head" else None
            parts.append(FrozenPart(info.name, head, info.params["unfreeze_after"]))
    return tuple(parts)


def trainable_count(layers: Iterable[AnalysedLayer]) -> int:
    """Parameters that train in the first epoch (frozen backbones left out)."""
    return sum(info.num_params - _frozen_count(info, whole_run=False) for info in layers)


def ever_trained_count(layers: Iterable[AnalysedLayer]) -> int:
    """Parameters that train in some epoch: those that get gradients and optimizer state (a
    backbone frozen for the whole run has neither; one unfrozen later has both from then on)."""
    return sum(info.num_params - _frozen_count(info, whole_run=True) for info in layers)


def _frozen_count(info: AnalysedLayer, *, whole_run: bool) -> int:
    if info.type != BACKBONE or (whole_run and info.params.get("unfreeze_after")):
        return 0
    return frozen_count(info.params, info.num_params)


def backbone_activations(layer: AnalysedLayer) -> int:
    """Output values per sample inside a backbone layer that training keeps for the backward pass:
    none while it is frozen for the whole run (its forward pass saves nothing), else those of
    every layer in it, scaled from 224x224 to its input size."""
    if layer.type != BACKBONE or (layer.params["freeze"] != "none" and not layer.params["unfreeze_after"]):
        return 0
    return round(BACKBONES[layer.params["model"]].activations * (layer.params["input_size"] / WEIGHTS_SIZE) ** 2)


def frozen_count(params: dict[str, Any], num_params: int) -> int:
    """Parameters of an analysed backbone layer that its freeze setting freezes (at the start)."""
    freeze = params.get("freeze", "none")
    if freeze == "all":
        return num_params
    if freeze == "all_but_head":
        return BACKBONES[params["model"]].body_params
    return 0


def frozen_text(params: dict[str, Any]) -> str:
    """``frozen but the head until epoch 3`` / ``frozen`` / ``trained``: for the layer table and code view."""
    freeze = params.get("freeze", "none")
    if freeze == "none":
        return "trained"
    what = "frozen but the head" if freeze == "all_but_head" else "frozen"
    after = params.get("unfreeze_after", 0)
    return f"{what} for {counted(after, 'epoch')}" if after else what


def has_backbone(model: ModelConfig) -> bool:
    return any(spec.type == BACKBONE for spec in model.layers)


# ----------------------------------------------------------------------------- the code view


def backbone_source(name: str, params: dict[str, Any]) -> str:
    """Plain PyTorch that builds an analysed backbone layer as ``build_backbone`` does, as variable ``name``."""
    spec = BACKBONES[params["model"]]
    value, file = params["weights"], weights_file(params["weights"])
    owner, _, attribute = spec.head.rpartition(".")
    head = f"{name}.{owner}[{attribute}]" if owner else f"{name}.{attribute}"
    size = params["input_size"]
    if value == PUBLISHED:
        weights, whose = f"torchvision.models.{spec.weights_name}", f"with its ImageNet weights ({spec.file_name})"
    else:
        weights, whose = "None", "with random weights" if file is None else f"with the weights of {file.name}"
    lines = [
        f"# {name}: {spec.name} {whose}",
        f"# Inputs are resized to {size}x{size}" + (", normalised with ImageNet's mean and std" if value != RANDOM else ""),
        f"{name} = torchvision.models.{spec.name}(weights={weights})",
    ]
    if file is not None:  # as build_backbone loads it: everything but the head, which is replaced
        lines += [
            f'state = torch.load({json.dumps(str(file))}, map_location="cpu", weights_only=True)',
            f"{name}.load_state_dict({{k: v for k, v in state.items() if not k.startswith({json.dumps(spec.head + '.')})}}, strict=False)",
        ]
    lines.append(f"{head} = nn.Linear({spec.features}, {params['out_features']})  # the new head")
    freeze = params["freeze"]
    if freeze != "none":
        after = params["unfreeze_after"]
        when = f" for the first {counted(after, 'epoch')}" if after else ""
        lines += [
            f"# Frozen{when}: {'all but the head' if freeze == 'all_but_head' else 'all of it'}; Workbench also",
            "# keeps its frozen BatchNorm layers in eval mode (the weights' statistics)",
            f"for parameter in {name}.parameters():",
            "    parameter.requires_grad = False",
        ]
        if freeze == "all_but_head":
            lines += [f"for parameter in {head}.parameters():", "    parameter.requires_grad = True"]
    return "\n".join(lines)
