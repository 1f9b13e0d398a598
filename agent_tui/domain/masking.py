"""Masking of personal data for roles that may not see it (ARCHITECTURE §9)."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
# International or long grouped numbers: +44 20 7946 0958, (555) 010-9999, 13800138000
_PHONE = re.compile(
    r"(?<!\w)(?:\+\d[\d ().-]{7,}\d|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}|1[3-9]\d{9})(?!\w)"
)
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
# Every match above needs an "@", a "+" or at least ten digits (a phone without "+"
# has 10 or 11, a card 13 to 19): text with none of them has nothing to mask. The
# classes are disjoint and the pattern anchored, so this is one linear scan.
_TEN_DIGITS = re.compile(r"\D*(?:\d\D*){10}")


def mask_email(value: str) -> str:
    """``jane.doe@example.com`` → ``j•••@example.com``."""
    local, at, domain = value.partition("@")
    if not at:
        return mask_generic(value)
    return f"{local[:1]}•••@{domain}"


def mask_phone(value: str) -> str:
    """Keep the last three digits: ``+44 20 7946 0958`` → ``•••• 958``."""
    digits = [c for c in value if c.isdigit()]
    if len(digits) < 5:
        return "•••"
    return "•••• " + "".join(digits[-3:])


def mask_generic(value: str) -> str:
    """Keep the first character; enough to tell two values apart, no more."""
    if not value:
        return value
    return value[:1] + "•••"


def mask_address(channel: str, address: str) -> str:
    """Mask an identity address by the kind of channel it belongs to.

    Social identities are ``network:@handle``: the network stays readable.
    """
    if channel == "social":
        network, sep, handle = address.partition(":")
        if not sep:
            return mask_generic(address)
        at = "@" if handle.startswith("@") else ""
        return f"{network}:{at}{mask_generic(handle.lstrip('@'))}"
    if _EMAIL.fullmatch(address):
        return mask_email(address)
    if channel == "phone" or sum(c.isdigit() for c in address) >= 7:
        return mask_phone(address)
    return mask_generic(address)


def _luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def mask_free_text(text: str) -> str:
    """Mask e-mail addresses, phone numbers and card numbers inside free text.

    Order numbers and short references are left alone: an agent needs them.
    """
    if not text or ("@" not in text and "+" not in text and not _TEN_DIGITS.match(text)):
        return text
    return _mask_matches(text)


def _mask_matches(text: str) -> str:
    def _card(m: re.Match[str]) -> str:
        raw = m.group(0)
        if not _luhn_ok(raw):
            return raw
        digits = [c for c in raw if c.isdigit()]
        return "•••• " + "".join(digits[-4:])

    text = _CARD.sub(_card, text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}•••@{m.group(2)}", text)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
