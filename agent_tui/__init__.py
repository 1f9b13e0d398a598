"""Agent TUI: a keyboard-only terminal workstation for customer-service teams."""

__version__ = "0.1.0"
