"""Persistence: engines, migrations, the event log and the queue queries."""

from agent_tui.store.engine import APP_CACHE_MIB, Store, open_store

__all__ = ["APP_CACHE_MIB", "Store", "open_store"]
