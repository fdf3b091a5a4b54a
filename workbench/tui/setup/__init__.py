"""Setting up the experiment: the Data, Model and Optimize screens and the layer dialogs."""
