"""The one gate for untrusted text (ARCHITECTURE §9).

Anything a customer wrote may carry terminal escape sequences (CSI, OSC 52
clipboard writes, OSC 8 links), C1 controls or bidi overrides that reorder
what an agent reads. ``safe_text`` removes those characters and keeps
everything else byte for byte: CJK, emoji, ``[brackets]``. Markup escaping
is not its job; the UI renders text as ``Text``/``Content``, never markup.
"""

from __future__ import annotations

import re

# C0 controls except TAB (0x09) and LF (0x0A); DEL; C1 controls;
# bidi embeddings/overrides (U+202A..U+202E) and isolates (U+2066..U+2069).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe_text(value: str | None) -> str:
    """Return ``value`` without control characters, DEL or bidi overrides.

    ``\\r\\n`` and lone ``\\r`` become ``\\n`` so that line structure survives.
    ``None`` becomes ``""``.
    """
    if not value:
        return ""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub("", value)


def safe_optional(value: str | None) -> str | None:
    """Like :func:`safe_text` but keeps ``None``."""
    return None if value is None else safe_text(value)


def safe_line(value: str | None) -> str:
    """Single-line form for subjects and names: newlines and tabs become spaces."""
    if value and value.isascii() and value.isprintable():
        return value  # most subjects, names and tags: nothing to remove or fold
    text = safe_text(value)
    if "\n" in text or "\t" in text:
        text = " ".join(text.split())
    return text
