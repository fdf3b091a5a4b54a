"""Past and present runs: the Runs screen, comparing runs, evaluating a checkpoint, their dialogs."""
