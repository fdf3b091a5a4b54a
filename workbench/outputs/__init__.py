"""Outputs: what goes out of a run for people and other tools.

Metrics as CSV (``export``) and TensorBoard event files (``tensorboard``), saved evaluation
reports (``reports``), the look inside a model worded (``inside``) and the notifications when
a run or a sweep ends (``notify``: a command, a webhook, the bell). Reads a run's files through
:mod:`workbench.runs`; nothing here imports torch, textual or rich.
"""
