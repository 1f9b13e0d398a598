"""Screens of the workstation, one module per screen with its .tcss beside it.

Screens know only ``agent_tui.backend`` of the core (an import-linter
contract checks it); the app factory hands them a ``Session``.
"""
