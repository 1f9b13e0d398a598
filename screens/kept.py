"""A screen that is shown again and again, restyled only when its styles may be stale.

Textual restyles a screen each time it is pushed (``ScreenResume`` with
``refresh_styles``): every node matched against the whole stylesheet again,
~5 ms of each ticket opened in the app's one kept workspace
(benchmarks/ui_bench.py). Between two showings of that workspace nothing it is
styled by has changed, unless the stylesheet did (a theme switch: Textual
counts those in ``App._css_update_count``, and its CSS refresh skips screens
that are not on the stack) or the terminal's focus did (the app's ``:focus``
and ``:blur`` state). Class and focus changes made while the screen was away
restyle their nodes at once, as anywhere. So the restyle is skipped when both
are as they were at the last showing; Textual itself skips it when a screen
comes back from under another one (``App.pop_screen``).
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen


class KeptScreen(Screen[None]):
    """Skips the push-time restyle when the stylesheet and app focus are unchanged."""

    _styled_for: tuple[int, bool] | None = None

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler (Textual calls each class's, subclass first).
        styled_for = (self.app._css_update_count, self.app.app_focus)
        if styled_for == self._styled_for:
            event.refresh_styles = False
        self._styled_for = styled_for
