"""Persistence: engines, migrations, the event log and the queue queries."""

from agent_tui.store.engine import Store, open_store

__all__ = ["Store", "open_store"]
