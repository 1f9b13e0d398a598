"""RemoteBackend: the Backend contract over HTTP and SSE (team mode).

Imports only ``agent_tui.backend``; no Textual.
"""

from backend_client.remote import RemoteBackend

__all__ = ["RemoteBackend"]
