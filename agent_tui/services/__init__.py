"""Use cases over the store. Permission checks and the event row for every
mutation live here, so the CLI, the TUI and the server obey the same rules."""
