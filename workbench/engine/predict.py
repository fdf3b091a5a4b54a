"""A trained model's answers for a person's own files: images or rows of a CSV file.

The files become samples as the dataset stores them (:mod:`workbench.data.prediction_inputs`),
go through the normalisation fitted on the run's training samples (rebuilt with the run's data,
as ``workbench eval`` rebuilds it) and through the model as evaluation runs it, so a file holding
a test sample gets exactly the answer ``eval`` gives that sample. Classification answers are
the most likely classes with their softmax confidence; regression answers are in the target's
own units (the standardisation of the targets undone).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.data.prediction_inputs import read_samples
from workbench.engine.evaluate import forward
from workbench.engine.restore import RestoredModel, restore_model
from workbench.errors import DataError

#: Samples per forward pass: many CSV rows never make one huge batch.
BATCH = 256


@dataclass(frozen=True)
class Prediction:
    source: str  # the file ("digit.png") or the row ("rows.csv line 3")
    task: str
    top: list[dict[str, Any]] = field(default_factory=list)  # classification: {"class", "confidence"}, likeliest first
    values: list[float] = field(default_factory=list)  # regression: the predicted targets
    label: str | None = None  # a CSV row's own target value, when the file has the column

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        """One line: ``digit.png  7  98.1%  (then 1 1.2%, 9 0.3%)``."""
        if self.task == "classification":
            first, *others = self.top
            line = f"{first['class']}  {first['confidence']:.1%}"
            if others:
                line += "  (then " + ", ".join(f"{o['class']} {o['confidence']:.1%}" for o in others) + ")"
        else:
            line = ", ".join(f"{v:.4g}" for v in self.values)
        if self.label is not None:
            line += f"  true: {self.label}"
        return f"{self.source}  {line}"


class Predictor:
    """A checkpoint's model with its dataset's preparation, ready to answer for files."""

    def __init__(self, restored: RestoredModel) -> None:
        self.restored = restored
        self._prepared = restored.parts.prepared.for_evaluation()
        splits = restored.parts.splits
        self._normaliser = splits.normaliser.to(restored.parts.device)
        self._target_scale = splits.target_scale.to(restored.parts.device) if splits.target_scale else None

    @classmethod
    def from_checkpoint(cls, path: Path, *, device: str | None = None) -> Predictor:
        return cls(restore_model(path, device=device))

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.restored.parts.splits.info.class_names

    def predict(self, files: list[Path], *, top: int = 3, resize: bool = False) -> list[Prediction]:
        """The model's answer for every sample in ``files`` (an image is one, a CSV file one per row)."""
        if top < 1:
            raise DataError(f"--top {top}: must be at least 1")
        parts = self.restored.parts
        samples = read_samples(files, self.restored.config.data, parts.splits.info, resize=resize)
        outputs = []
        self._prepared.model.eval()
        with torch.inference_mode():
            for start in range(0, len(samples), BATCH):
                stored = torch.from_numpy(np.stack([s.values for s in samples[start : start + BATCH]]))
                outputs.append(forward(self._prepared, parts, self._normaliser(stored.to(parts.device))).float())
        results = torch.cat(outputs).cpu() if outputs else torch.empty(0)
        if parts.task == "classification":
            confidence, classes = results.softmax(1).topk(min(top, results.shape[1]), dim=1)
            names = self.class_names
            return [
                Prediction(
                    sample.source,
                    parts.task,
                    top=[{"class": names[k], "confidence": p} for k, p in zip(ks, ps, strict=True)],
                    label=sample.label,
                )
                for sample, ks, ps in zip(samples, classes.tolist(), confidence.tolist(), strict=True)
            ]
        if self._target_scale is not None:  # back from standardised to the target's units
            results = results * self._target_scale.std.cpu() + self._target_scale.mean.cpu()
        return [
            Prediction(sample.source, parts.task, values=row, label=sample.label)
            for sample, row in zip(samples, results.tolist(), strict=True)
        ]
