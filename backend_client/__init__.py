"""RemoteBackend: the Backend contract over HTTP and SSE (the team-mode issue).

Imports only ``agent_tui.backend``; no Textual.
"""
