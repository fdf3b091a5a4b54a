"""Scheduling: when and how a run is started.

Launching a run as a process of its own (``launch``), the queue's files (``queue``) and the
feeder process that starts its entries as slots free up (``feeder``), sweeps: their folders and
points (``sweep``) and their table (``sweep_table``). Above :mod:`workbench.runs`, whose files it
writes and reads; nothing here imports the engine, torch, textual or rich.
"""
