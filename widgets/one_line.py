"""One line of styled runs, fitted to a width: for bars drawn as strips, not as ``Text``.

A ``Text`` returned from ``render()`` is made into Textual content and then
strips on every repaint; for the one-line bars at the bottom of every screen
that was ~1–2 ms of each ticket opened. Bars that know their runs build the
strip here once and keep it until the runs, the width or the colours change.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip


def fit_line(runs: Iterable[tuple[str, Style]], width: int, base: Style) -> Strip:
    """``runs`` exactly ``width`` cells wide: padded with ``base``, or cut with "…"."""
    strip = Strip([Segment(text, style) for text, style in runs if text])
    if strip.cell_length > width:
        strip = (Strip([*strip.crop(0, width - 1), Segment("…", base)]) if width > 0
                 else Strip([]))
    return strip.extend_cell_length(width, base).simplify()
