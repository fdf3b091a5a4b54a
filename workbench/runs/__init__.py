"""Runs: a run's own files, and reading them back.

Its folder and typed status (``folder``, ``status``), who trains it (``liveness``: the OS lock
and the heartbeat), the events it records and its history read back (``events``, ``history``,
``follow``), the listing shared by ``workbench runs`` and the Runs screen (``listing``,
``details``, ``about``, ``index``), its state in words (``words``), which checkpoint
(``checkpoints``), the resume rules (``resume_rules``) and pausing, continuing or stopping it
from anywhere (``process_control``). Starting runs is :mod:`workbench.scheduling`; what goes
out of a run (exports, reports, notifications) is :mod:`workbench.outputs`. Nothing here
imports the engine, torch, textual or rich.
"""
