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

Refilling the kept screen also made two layouts of each ticket opened where
one does. Widgets ask for a layout by posting ``Layout`` to the screen when
they are next idle, and the screen's update timer may run the layout (a full
reflow of the whole screen) before the last of those messages is read: that
message then starts a second full layout, ~7 ms with its paint, that arrives
at the same arrangement. A ``Layout`` posted before the latest full reflow
began is already laid out, so it is dropped.
"""

from __future__ import annotations

from textual import _time, events, messages
from textual.geometry import Size
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

    #: When the latest full reflow of this screen began (Textual's message clock).
    _reflowed_at: float = float("-inf")

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        began = _time.get_time()
        full = not scroll or bool(self._layout_widgets)  # Screen._refresh_layout's full reflow
        sized = bool(self.outer_size if size is None else size)  # it returns early unsized
        super()._refresh_layout(size, scroll)
        if full and sized and not self.app.is_inline:
            self._reflowed_at = began

    async def _on_layout(self, message: messages.Layout) -> None:
        # Runs before Screen's own handler, which preventing the default skips.
        if message.time < self._reflowed_at:
            message.stop()
            message.prevent_default()
