"""The experiment's plain schema: the RunConfig dataclasses, their parameters, TOML in and out,
and the metric names. It imports nothing of the project but errors and atomic writes; every
other package builds on it.
"""
