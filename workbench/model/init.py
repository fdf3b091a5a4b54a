"""Parameter initialisation schemes (ModelConfig.init / bias_init) applied to a built model.

The schemes themselves are data in ``catalog`` (shared with the code view); this module only
applies them to every Linear and Conv weight, including those inside blocks. Normalisation
layers keep their own start (scale 1, shift 0).
"""

from __future__ import annotations

from torch import nn

from workbench.model.catalog import INIT_TARGETS, init_calls


def init_parameters(module: nn.Module, scheme: str, bias: str) -> None:
    """Re-initialise ``module``'s Linear/Conv weights with ``scheme`` and biases with ``bias``.

    "default" leaves PyTorch's own initialisation in place. Unknown names are ConfigErrors.
    """
    weight_call, bias_call = init_calls(scheme, bias)
    targets = tuple(getattr(nn, name) for name in INIT_TARGETS)
    for layer in module.modules():
        if not isinstance(layer, targets):
            continue
        if weight_call is not None:
            getattr(nn.init, weight_call.function)(layer.weight, **weight_call.kwargs)
        if bias_call is not None and layer.bias is not None:
            getattr(nn.init, bias_call.function)(layer.bias, **bias_call.kwargs)
