"""One module per main-window section: a list and a detail pane."""
