"""Running metric totals kept on the device: added to per batch without a host sync.

One class serves the training loop (per step), validation and the test evaluation, so that a
metric is computed the same way everywhere: ``loss`` (mean over samples of the configured loss),
``acc`` and ``top5`` (more than 5 classes) for classification; ``loss``, ``mae``, ``r2`` (and
``mse`` for reports) for regression. The host reads the totals once per report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from workbench.schema.monitor import metric_names


class MetricTotals:
    """Sums over the batches seen so far, on the device; :meth:`compute` syncs once."""

    def __init__(self, task: str, num_outputs: int, device: torch.device) -> None:
        self.task = task
        self.num_outputs = num_outputs
        self.names = metric_names(task, num_outputs if task == "classification" else 0)
        self.count = 0  # samples, known on the host from batch shapes: no sync
        # float64 keeps long sums exact enough; Apple's mps has no float64.
        dtype = torch.float32 if device.type == "mps" else torch.float64
        width = num_outputs if task == "regression" else 0
        self.loss = torch.zeros((), dtype=dtype, device=device)
        self.correct = torch.zeros((), dtype=dtype, device=device)
        self.top5 = torch.zeros((), dtype=dtype, device=device)
        self.abs_err = torch.zeros((), dtype=dtype, device=device)
        self.sq_err = torch.zeros(width, dtype=dtype, device=device)
        self.target_sum = torch.zeros(width, dtype=dtype, device=device)
        self.target_sq = torch.zeros(width, dtype=dtype, device=device)

    def reset(self) -> None:
        self.count = 0
        for name in _TENSORS:
            getattr(self, name).zero_()

    def add(self, outputs: torch.Tensor, targets: torch.Tensor, loss: torch.Tensor) -> None:
        """Add one batch: its outputs, targets and mean loss. Device ops only."""
        n = targets.shape[0]
        self.count += n
        outputs = outputs.detach()
        self.loss.add_(loss.detach(), alpha=n)
        if self.task == "classification":
            self.correct.add_((outputs.argmax(1) == targets).sum())
            if "top5" in self.names:
                # topk's indices are distinct, so a row has at most one hit: summing all hits
                # counts the rows with one, without a kernel for any().
                self.top5.add_((outputs.topk(5, dim=1).indices == targets[:, None]).sum())
        else:
            error = outputs.to(self.sq_err.dtype) - targets
            self.abs_err.add_(error.abs().sum())
            self.sq_err.add_(error.square().sum(0))
            self.target_sum.add_(targets.sum(0, dtype=self.target_sum.dtype))
            self.target_sq.add_(targets.to(self.target_sq.dtype).square().sum(0))

    def as_vector(self) -> torch.Tensor:
        """The sample count and every total in one vector on the device: what the workers of a
        distributed run sum in one collective step."""
        count = torch.tensor([float(self.count)], dtype=self.loss.dtype, device=self.loss.device)
        return torch.cat([count, *(getattr(self, name).reshape(-1) for name in _TENSORS)])

    def from_vector(self, vector: torch.Tensor) -> MetricTotals:
        """New totals like these holding the numbers of ``vector`` (an :meth:`as_vector`, summed)."""
        totals = MetricTotals(self.task, self.num_outputs, self.loss.device)
        totals.count = int(vector[0].item())  # sync: the count is read on the host
        offset = 1
        for name in _TENSORS:
            tensor = getattr(totals, name)
            tensor.copy_(vector[offset : offset + tensor.numel()].reshape(tensor.shape))
            offset += tensor.numel()
        return totals

    def state_dict(self) -> dict[str, int | torch.Tensor]:
        """The totals as CPU tensors, so a run stopped mid-epoch resumes its epoch's metrics exactly."""
        return {"count": self.count, **{name: getattr(self, name).cpu() for name in _TENSORS}}  # sync: copies to the host

    def load_state_dict(self, state: Mapping[str, int | torch.Tensor]) -> None:
        count = state["count"]
        if not isinstance(count, int):
            raise TypeError(f"the sample count of saved metric totals is a {type(count).__name__}, not an int")
        self.count = count
        for name in _TENSORS:
            getattr(self, name).copy_(state[name])

    def compute(self, *, extra: bool = False) -> dict[str, float]:
        """The metrics of everything added so far (one host sync). ``extra`` adds ``mse`` for regression."""
        if self.count == 0:
            return {}
        n = self.count
        if self.task == "classification":
            loss, correct, top5 = torch.stack([self.loss, self.correct, self.top5]).tolist()
            result = {"loss": loss / n, "acc": correct / n}
            if "top5" in self.names:
                result["top5"] = top5 / n
            return result
        loss, abs_err = torch.stack([self.loss, self.abs_err]).tolist()
        sq_err, target_sum, target_sq = (t.tolist() for t in (self.sq_err, self.target_sum, self.target_sq))
        width = len(sq_err)
        result = {"loss": loss / n, "mae": abs_err / (n * width), "r2": _r2(sq_err, target_sum, target_sq, n)}
        if extra:
            result["mse"] = sum(sq_err) / (n * width)
        return result


_TENSORS = ("loss", "correct", "top5", "abs_err", "sq_err", "target_sum", "target_sq")


def _r2(sq_err: list[float], target_sum: list[float], target_sq: list[float], n: int) -> float:
    """Coefficient of determination, averaged over targets (scikit-learn's ``uniform_average``)."""
    scores = []
    for sse, total, total_sq in zip(sq_err, target_sum, target_sq, strict=True):
        spread = total_sq - total * total / n
        scores.append(1.0 - sse / spread if spread > 0 else (1.0 if sse == 0 else 0.0))
    return sum(scores) / len(scores) if scores else math.nan
