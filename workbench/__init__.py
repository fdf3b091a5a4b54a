"""Workbench: train PyTorch models from a terminal, in a Textual app or headless."""

__version__ = "0.1.0"
