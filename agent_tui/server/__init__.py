"""Team mode: a FastAPI app exposing the Backend contract over HTTP (ARCHITECTURE §2)."""

from agent_tui.server.app import ServerSettings, create_app

__all__ = ["ServerSettings", "create_app"]
