"""Pure domain: enums, rules, read models and tables. No I/O.

Nothing is imported here on purpose: the UI reaches the read models through
``agent_tui.backend`` without pulling in SQLModel tables.
"""
