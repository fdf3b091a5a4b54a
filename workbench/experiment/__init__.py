"""The experiment as a whole: validation (which needs the model's shape inference, the dataset
registry and the optim catalogs, so it sits above them), presets, describe, and the app's
editable draft.
"""
