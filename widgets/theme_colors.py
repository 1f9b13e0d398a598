"""Theme colours as Rich styles, for widgets that build ``Text`` themselves.

CSS uses ``$text-error`` and friends directly; a DataTable cell or a
rendered ``Text`` needs a plain colour, taken from the current theme so that
dark and light both read well.
"""

from __future__ import annotations

from textual.app import App
from textual.color import Color, ColorParseError


def theme_color(app: App[object], variable: str, fallback: str = "") -> str:
    """The theme variable ``variable`` (e.g. ``text-error``) as ``#rrggbb``, else ``fallback``."""
    value = app.theme_variables.get(variable)
    if not value:
        return fallback
    try:
        return Color.parse(value).hex6
    except ColorParseError:
        return fallback
