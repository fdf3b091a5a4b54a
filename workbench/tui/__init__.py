"""The Textual app (``workbench`` with no command). See :mod:`workbench.tui.app` for its structure."""
