"""Runs: everything about a run that is not training it.

Its folder and typed status (``folder``, ``status``), who trains it (``liveness``: the OS lock
and the heartbeat), the events it records and its history read back (``events``, ``history``,
``follow``), the listing shared by ``workbench runs`` and the Runs screen (``listing``), which
checkpoint (``checkpoints``), the resume rules (``resume_rules``), starting a run as a process
of its own (``launch``) and pausing, continuing or stopping it from anywhere
(``process_control``). Nothing here imports the engine, torch, textual or rich.
"""
