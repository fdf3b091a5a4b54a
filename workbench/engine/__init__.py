"""The training engine: the loop, its control (pause/stop) and the events it emits.

Nothing here imports textual or rich; the app and the CLI subscribe to events as sinks.
"""
