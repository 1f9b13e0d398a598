"""Textual stays in the UI (STYLE §1): importing the core, the client or the
admin CLI must not load Textual, and the core must not load Rich either."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = """
import sys, importlib
importlib.import_module({module!r})
print(",".join(sorted(m for m in ("textual", "rich") if m in sys.modules)))
"""


@pytest.mark.parametrize(("module", "allowed"), [
    ("agent_tui.backend", ""),
    ("agent_tui.local", ""),
    ("agent_tui.services.tickets", ""),
    ("agent_tui.store.queue", ""),
    ("backend_client", "rich"),  # httpx imports rich for its own command line; no Textual
    ("agent_tui.cli", "rich"),
])
def test_module_does_not_load_the_ui(module: str, allowed: str) -> None:
    out = subprocess.run([sys.executable, "-c", CHECK.format(module=module)],
                         capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() in ("", allowed), out.stdout
