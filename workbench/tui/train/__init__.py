"""The Train screen: the run the app shows, live."""
