"""Widgets whose size only their parent's layout decides.

Textual re-runs the screen's layout whenever a widget's ``virtual_size``
changes, and the layout itself sets it: so every new or resized message card
and customer 360 made a second layout (and paint) of a ticket's opening,
~7 ms of its CPU, to arrive at the layout already computed. For a widget
laid out by its parent (a ``height: auto`` text, a scroll container whose
scrollbars are their own reactive) that second pass changes nothing: its
content changing still asks for a layout (``Static.update`` does), and a
scrollbar appearing or going still does (``show_vertical_scrollbar``).
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive


class LaidOut:
    """Mix in before the widget class: a new virtual size repaints, not re-lays out."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
