"""The app's screens: one module per main screen, plus dialogs and the help screen."""
