"""`registry-tui`: the registrar's terminal UI over the institution's agent store."""
