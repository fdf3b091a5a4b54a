"""Reusable widgets: bars, the generic parameter form, pictures and the LR chart."""
