"""Reusable widgets, one module per widget. Like screens, they know only
``agent_tui.backend`` of the core."""
